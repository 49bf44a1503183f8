"""Browsing the catalog: the owner's categories, sellers' tags, filters and orders kept in the
page's address, and the indexes that keep a first page cheap."""

import datetime

import pytest
from webtest import Upload

import models
from models import Category, Product, ProductTag, Tag
from shop.catalog import taxonomy
from shop.errors import ValidationError
from tests.catalog_helpers import form_for
from tests.shop_fixtures import make_product

PDF = b"%PDF-1.4\n" + b"A real enough product file.\n" * 50


def titles(page):
    return [h.get_text(strip=True) for h in page.html.select(".product-card h2")]


@pytest.fixture
def shelves(make_user):
    seller = make_user("seller", name="Priya Patel")
    music, fonts = taxonomy.create_category("Music"), taxonomy.create_category("Fonts")
    start = datetime.datetime(2026, 1, 1)
    made = {}
    for days, (title, price, sold, category, tags) in enumerate([
            ("Drum loops", 900, 7, music, "lo-fi, drums"),
            ("Piano one-shots", 1500, 2, music, "Lo Fi, piano"),
            ("Serif family", 4000, 9, fonts, "serif"),
            ("Grotesk sans", 2500, 0, fonts, ""),
            ("No shelf notes", 500, 1, None, "")]):
        product = make_product(seller, title, price)
        Product.update(approved_at=start + datetime.timedelta(days=days), download_count=sold,
                       category=category).where(Product.id == product.id).execute()
        taxonomy.set_tags(product.id, taxonomy.parse_tags(tags))
        made[title] = product
    hidden = make_product(seller, "Pending beat", 100, status="pending")
    Product.update(category=music).where(Product.id == hidden.id).execute()
    return made


def test_each_order_of_the_catalog(client, shelves):
    assert titles(client.get("/")) == ["No shelf notes", "Grotesk sans", "Serif family", "Piano one-shots",
                                       "Drum loops"]
    assert titles(client.get("/?sort=price-low")) == ["No shelf notes", "Drum loops", "Piano one-shots",
                                                      "Grotesk sans", "Serif family"]
    assert titles(client.get("/?sort=price-high"))[0] == "Serif family"
    assert titles(client.get("/?sort=best-selling")) == ["Serif family", "Drum loops", "Piano one-shots",
                                                         "No shelf notes", "Grotesk sans"]
    # An order that does not exist is the default one, not an error.
    assert titles(client.get("/?sort=cheapest")) == titles(client.get("/"))


def test_filters_combine_and_stay_in_the_links_of_the_page(client, shelves, monkeypatch):
    page = client.get("/?category=music&sort=price-high")
    assert titles(page) == ["Piano one-shots", "Drum loops"]
    assert page.html.select_one("h1").get_text(strip=True) == "Music"
    # Tags typed differently are one tag; its page lists both products carrying it.
    assert Tag.select().where(Tag.slug == "lo-fi").count() == 1
    assert titles(client.get("/?tag=lo-fi")) == ["Piano one-shots", "Drum loops"]
    assert titles(client.get("/?category=music&max=10")) == ["Drum loops"]
    assert titles(client.get("/?min=20&max=40.00&sort=price-low")) == ["Grotesk sans", "Serif family"]
    # The pager carries every filter, so page 2 is page 2 of the same list.
    monkeypatch.setattr("shop_web.storefront.PER_PAGE", 2)
    page = client.get("/?category=fonts&sort=price-low&min=1")
    assert titles(page) == ["Grotesk sans", "Serif family"]
    page = client.get("/?sort=price-low&min=1")
    assert page.html.select_one("a[rel=next]")["href"] == "?min=1.00&sort=price-low&page=2"
    assert titles(page.click(linkid=None, href="page=2")) == ["Piano one-shots", "Grotesk sans"]
    # The filter form reads back what the address says.
    form = next(f for f in page.forms.values() if f.action == "/" and "sort" in f.fields)
    assert form["sort"].value == "price-low" and form["min"].value == "1.00"


def test_a_shelf_or_tag_that_is_gone_shows_everything_and_a_bad_price_is_a_400(client, shelves):
    assert len(titles(client.get("/?category=no-such-shelf&tag=nope"))) == 5
    response = client.get("/?min=cheap", expect_errors=True)
    assert response.status_int == 400 and "Enter prices as amounts" in response.text
    assert len(titles(response)) == 5


def test_product_pages_and_cards_link_to_their_shelf_and_tags(client, shelves):
    drums = shelves["Drum loops"]
    page = client.get(f"/products/{drums.slug}")
    assert {a["href"] for a in page.html.select(".product-shelf a")} == {"/?category=music", "/?tag=drums",
                                                                         "/?tag=lo-fi"}
    card = next(c for c in client.get("/").html.select(".product-card") if "Drum loops" in c.text)
    assert [a["href"] for a in card.select(".card-tags a")] == ["/?tag=drums", "/?tag=lo-fi"]


def test_the_owner_adds_renames_and_removes_categories(client, login_as, make_user):
    login_as("admin")
    page = client.get("/admin/categories")
    form = form_for(page, "/admin/categories")
    form["name"] = "  Sound   effects "
    form.submit().follow()
    category = Category.get()
    assert (category.name, category.slug) == ("Sound effects", "sound-effects")
    form = form_for(client.get("/admin/categories"), "/admin/categories")
    form["name"] = "sound effects!"
    response = form.submit(expect_errors=True)
    assert response.status_int == 400 and "exists already" in response.text and Category.select().count() == 1
    form = form_for(client.get("/admin/categories"), f"/admin/categories/{category.id}/rename")
    form["name"] = "SFX"
    form.submit().follow()
    assert Category.get_by_id(category.id).name == "SFX" and Category.get_by_id(category.id).slug == "sound-effects"
    product = make_product(make_user("seller"), "Whoosh pack")
    Product.update(category=category).where(Product.id == product.id).execute()
    form_for(client.get("/admin/categories"), f"/admin/categories/{category.id}/delete").submit().follow()
    assert Category.select().count() == 0
    assert Product.get_by_id(product.id).category_id is None and Product.get_by_id(product.id).is_approved


def test_category_pages_need_an_admin(client, login_as):
    login_as("seller")
    assert client.get("/admin/categories", expect_errors=True).status_int in (403, 404)
    token = form_for(client.get("/seller/products/new"), "/seller/products")["csrf_token"].value
    response = client.post("/admin/categories", {"name": "Mine", "csrf_token": token}, expect_errors=True)
    assert response.status_int in (403, 404) and Category.select().count() == 0


def test_a_seller_chooses_a_category_and_tags_and_edits_them(client, login_as):
    music = taxonomy.create_category("Music")
    login_as("seller")
    form = form_for(client.get("/seller/products/new"), "/seller/products")
    form["title"], form["description"], form["price"] = "Tape hiss", "Warm noise.", "4"
    form["category"], form["tags"] = str(music.id), "noise, Tape, tape ,"
    form["file"] = Upload("hiss.wav", PDF)
    form.submit().follow()
    product = Product.get()
    assert product.category_id == music.id and taxonomy.tags_text(product.id) == "noise, Tape"
    form = form_for(client.get(f"/seller/products/{product.id}/edit"), f"/seller/products/{product.id}/edit")
    assert form["category"].value == str(music.id) and form["tags"].value == "noise, Tape"
    form["category"], form["tags"] = "", "hiss"
    form.submit().follow()
    assert Product.get_by_id(product.id).category_id is None and taxonomy.tags_text(product.id) == "hiss"
    assert ProductTag.select().count() == 1


@pytest.mark.parametrize("field,value,message", [
    ("tags", "x" * 31, "longer than 30"),
    ("tags", ", ".join(f"t{i}" for i in range(11)), "at most 10 tags"),
    ("tags", "!!!", "no letters or digits"),
    ("category", "999999", "Choose one of the listed categories"),
    ("category", "music", "Choose one of the listed categories"),
])
def test_bad_tags_or_category_are_form_errors_and_save_nothing(client, login_as, field, value, message):
    login_as("seller")
    page = client.get("/seller/products/new")
    data = {"csrf_token": form_for(page, "/seller/products")["csrf_token"].value, "title": "T", "price": "3",
            "description": "D", "category": "", "tags": ""}
    data[field] = value
    response = client.post("/seller/products", data, upload_files=[("file", "f.zip", PDF)], expect_errors=True)
    assert response.status_int == 400 and message in response.text
    assert Product.select().count() == 0 and Tag.select().count() == 0


def test_parse_tags_keeps_the_sellers_order_and_first_spelling():
    assert taxonomy.parse_tags(" Lo-Fi , drums,lo fi,, DRUMS ") == [("lo-fi", "Lo-Fi"), ("drums", "drums")]
    with pytest.raises(ValidationError):
        taxonomy.parse_tags("a" * 31)


def index_used(sql, params):
    """The index the database plans to read for `sql`, from its query plan."""
    if models.is_sqlite():
        plan = " ".join(str(row) for row in models.db.execute_sql(f"EXPLAIN QUERY PLAN {sql}", params))
    else:
        models.db.execute_sql("SET enable_seqscan = off")
        plan = " ".join(row[0] for row in models.db.execute_sql(f"EXPLAIN {sql}", params))
        models.db.execute_sql("SET enable_seqscan = on")
    return plan


@pytest.mark.parametrize("filters,index", [
    ({}, "product_status_approved_at_id"),
    ({"sort": "price-low"}, "product_status_price_id"),
    ({"sort": "best-selling"}, "product_status_download_count_id"),
    ({"category": "music"}, "product_category_id_status_approved_at_id"),
])
def test_each_order_reads_its_index(shelves, filters, index):
    from shop.catalog import browse

    query, _ = browse.products(browse.parse(filters))
    sql, params = query.limit(12).sql()
    plan = index_used(sql, params)
    assert index in plan, plan
