"""Catalog pages kept as rendered (shop/catalog/page_cache.py): a guest's page is served
from what is kept until the catalog changes, and never one visitor's page to another."""

import importlib

from webtest import TestApp

import models
from models import Product
from shop.catalog import moderation, page_cache, storefronts, taxonomy
from shop.accounts import settings
from shop_web import storefront
from tests.shop_fixtures import add_to_cart, make_product

catalog_version = importlib.import_module("shop.migrations.0022_catalog_version")


def titles(page):
    return [h.get_text(strip=True) for h in page.html.select(".product-card h2")]


def guest():
    """A browser of its own, with no cookies (a first visit)."""
    import marketplace

    return TestApp(marketplace.app, extra_environ={"REMOTE_ADDR": "127.0.0.1"})


def no_rendering(monkeypatch):
    """From here a catalog page that is not kept fails the test."""
    def refuse(*args, **kwargs):
        raise AssertionError("the page was rendered again")

    monkeypatch.setattr(storefront, "_catalog_page", refuse)


def test_a_guests_page_is_kept_until_the_catalog_changes(client, make_user, monkeypatch):
    seller = make_user("seller", name="Priya Patel")
    make_product(seller, "Drum loops")
    first = client.get("/")
    assert titles(first) == ["Drum loops"]
    assert "visitor" not in first.headers.get("Set-Cookie", "")  # nothing of this guest's in the page
    no_rendering(monkeypatch)
    again = guest().get("/")
    assert again.text == first.text and again.headers["ETag"] == first.headers["ETag"]
    assert again.headers["Cache-Control"] == "no-cache" and again.headers["Vary"] == "Cookie"
    monkeypatch.undo()
    make_product(seller, "Piano one-shots")
    assert titles(guest().get("/")) == ["Piano one-shots", "Drum loops"]


def test_an_unchanged_page_answers_304_and_a_changed_one_its_new_body(client, make_user):
    seller = make_user("seller")
    product = make_product(seller, "Drum loops", price=900)
    etag = client.get("/?q=drum").headers["ETag"]
    assert client.get("/?q=drum", headers={"If-None-Match": etag}, status=304).body == b""
    Product.update(price=1200).where(Product.id == product.id).execute()
    page = client.get("/?q=drum", headers={"If-None-Match": etag})
    assert page.status_int == 200 and page.headers["ETag"] != etag and "$12.00" in page.text


def test_every_change_a_page_shows_is_seen_at_once(client, make_user):
    admin, seller = make_user("admin"), make_user("seller", name="Priya Patel")
    shown = make_product(seller, "Drum loops")
    waiting = make_product(seller, "Piano one-shots", status="pending")
    music = taxonomy.create_category("Music")

    def page(address="/"):
        return guest().get(address)

    assert titles(page()) == ["Drum loops"] and "Piano" not in page("/?q=piano").text
    moderation.approve(waiting.id, admin)  # a newly approved product is there at once, and found
    assert titles(page()) == ["Piano one-shots", "Drum loops"] and titles(page("/?q=piano")) == ["Piano one-shots"]
    Product.update(title="Drum loops vol. 2").where(Product.id == shown.id).execute()
    assert "Drum loops vol. 2" in titles(page())
    taxonomy.set_tags(shown.id, taxonomy.parse_tags("lo-fi"))
    assert "#lo-fi" in page().text
    Product.update(category=music).where(Product.id == shown.id).execute()
    assert titles(page("/?category=music")) == ["Drum loops vol. 2"]
    taxonomy.rename_category(music.id, "Beats")
    assert "Beats" in page("/?category=music").text
    settings.change_name(seller, "Priya P.")
    assert "Priya P." in page().text
    Product.update(status="rejected").where(Product.id == shown.id).execute()
    assert titles(page()) == ["Piano one-shots"]
    Product.delete().where(Product.id == waiting.id).execute()
    assert titles(page()) == []


def test_a_sale_keeps_the_pages_and_best_selling_is_never_kept(client, make_user):
    seller = make_user("seller")
    first, second = make_product(seller, "Drum loops"), make_product(seller, "Piano one-shots")
    version = page_cache.version()
    assert version is not None
    assert titles(client.get("/?sort=best-selling")) == ["Piano one-shots", "Drum loops"]
    Product.update(download_count=Product.download_count + 1).where(Product.id == first.id).execute()
    assert page_cache.version() == version  # a sale is no change of the catalog's pages
    assert titles(client.get("/?sort=best-selling")) == ["Drum loops", "Piano one-shots"]
    assert second.id  # both on sale


def test_a_page_read_while_the_catalog_changed_is_not_kept(make_user):
    seller = make_user("seller")
    before = page_cache.version()
    make_product(seller, "Drum loops")
    assert page_cache.put(before, ("/", ""), "<p>the page as it was read</p>") is None
    assert page_cache.get(before, ("/", "")) is None
    now = page_cache.version()
    assert now != before and page_cache.put(now, ("/", ""), "<p>now</p>").body == "<p>now</p>"


def test_customers_and_guests_with_a_cart_see_their_own_page(client, make_user, login_as):
    seller = make_user("seller")
    product = make_product(seller, "Drum loops")
    kept = guest().get("/")
    assert "Cart (" not in kept.text
    shopper = guest()
    add_to_cart(shopper, product)  # a guest with a cart, by its session
    assert "Cart (1)" in shopper.get("/").text
    customer = login_as("customer")
    page = client.get("/")
    assert page.headers["Cache-Control"] == "no-store" and "ETag" not in page.headers
    assert "Purchases" in page.text and "Purchases" not in guest().get("/").text
    assert customer.id


def test_pages_not_kept_share_one_count_per_catalog_version(client, make_user, login_as, monkeypatch):
    seller = make_user("seller")
    for number in range(3):
        make_product(seller, f"Drum loops {number}")
    login_as("customer")  # a customer's page is rendered for them, but its count is shared
    counted = []
    real_count = type(Product.select()).count

    def count(query, *args, **kwargs):
        if 'FROM "product"' in query.sql()[0]:  # the catalog's count, not the header's
            counted.append(query)
        return real_count(query, *args, **kwargs)

    monkeypatch.setattr(type(Product.select()), "count", count)
    assert "3 products found" in client.get("/?q=loops").text
    assert "3 products found" in client.get("/?q=loops").text and len(counted) == 1
    assert "1 product found" in client.get("/?q=loops+2").text and len(counted) == 2  # other filters, own count
    make_product(seller, "Drum loops 3")  # a new version: counted again, and right at once
    assert "4 products found" in client.get("/?q=loops").text and len(counted) == 3


def test_the_triggers_watch_every_column_of_product_but_its_sales():
    columns = {field.column_name for field in Product._meta.sorted_fields}
    assert set(catalog_version.PRODUCT_COLUMNS) == columns - {"id", "download_count"}


def test_a_broad_search_counts_up_to_its_cap_and_still_pages_through_every_match(client, make_user, monkeypatch):
    seller = make_user("seller")
    for number in range(5):
        make_product(seller, f"Drum loops {number}")
    monkeypatch.setattr(storefront, "PER_PAGE", 2)
    monkeypatch.setattr(storefront, "SEARCH_COUNT_CAP", 5)
    whole = client.get("/?q=loops")
    assert "5 products found." in whole.text and "Page 1 of 3" in whole.text
    everything = [title for number in (1, 2, 3) for title in titles(client.get(f"/?q=loops&page={number}"))]
    assert sorted(everything) == [f"Drum loops {number}" for number in range(5)]

    monkeypatch.setattr(storefront, "SEARCH_COUNT_CAP", 3)
    page_cache.clear()
    first = client.get("/?q=loops")
    assert "More than 3 products found." in first.text and "Page 1 of more than 2" in first.text
    pages, number = [], 1
    while True:  # following Next to the end, as a reader would
        page = client.get(f"/?q=loops&page={number}")
        pages.append(titles(page))
        if not page.html.select_one("a[rel=next]"):
            break
        number += 1
    assert [title for shown in pages for title in shown] == everything and len(pages) == 3
    # A search with fewer matches than the cap says how many, as before.
    assert "1 product found." in client.get("/?q=loops+4").text


def test_a_storefront_is_kept_until_its_seller_or_products_change(make_user, monkeypatch):
    seller = make_user("seller", name="Priya Patel")
    make_product(seller, "Drum loops")
    first = guest().get(seller.storefront_path)
    assert titles(first) == ["Drum loops"] and first.headers["ETag"]
    monkeypatch.setattr(storefront, "_storefront_page", lambda seller: "rendered again")
    assert guest().get(seller.storefront_path).text == first.text
    monkeypatch.undo()
    storefronts.save_profile(seller, "Beats made in Leeds.", None, None)
    assert "Beats made in Leeds." in guest().get(seller.storefront_path).text
    settings.change_name(seller, "Priya P.")
    renamed = models.User.get_by_id(seller.id)
    assert "Priya P." in guest().get(renamed.storefront_path).text
    # Another seller's storefront is not this one's kept page.
    other = make_user("seller", name="Sam Okafor")
    assert "Priya" not in guest().get(other.storefront_path).text
