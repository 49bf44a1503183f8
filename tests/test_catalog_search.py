"""Full-text search of the catalog (shop/catalog/search.py). Every test here runs on SQLite
(FTS5) and, with TEST_DATABASE=postgres, on PostgreSQL (tsvector + GIN) with the same
expectations: the same queries find the same products in the same order on both."""

import pytest

import models
from models import Product, ProductSearch
from shop.accounts import settings
from shop.catalog import browse, moderation, products, search, taxonomy
from tests.shop_fixtures import make_product


def found(text, **filters):
    query, counted = browse.products(browse.parse({"q": text, **filters}))
    titles = [product.title for product in query]
    assert counted.count() == len(titles)
    return titles


def index_matches(word):
    """Product ids the database's own index finds for `word`, read around the shop's code."""
    if models.is_sqlite():
        sql = "SELECT rowid FROM product_search_fts WHERE product_search_fts MATCH ?"
        rows = models.db.execute_sql(sql, (f'"{word}"*',))
    else:
        sql = "SELECT product_id FROM product_search WHERE document @@ to_tsquery('simple', %s)"
        rows = models.db.execute_sql(sql, (f"{word}:*",))
    return {product_id for (product_id,) in rows}


def describe(product, text):
    Product.update(description=text).where(Product.id == product.id).execute()
    search.refresh(product.id)


@pytest.fixture
def shop(make_user):
    priya, jon = make_user("seller", name="Priya Patel"), make_user("seller", name="Jon Ødegård")
    made = {
        "piano": make_product(priya, "Piano one-shots"),
        "loops": make_product(priya, "Drum loops"),
        "cafe": make_product(jon, "Café jazz brushes"),
        "guide": make_product(jon, "Mixing guide"),
    }
    describe(made["piano"], "Forty felt piano notes.")
    describe(made["loops"], "Dusty drums, lo-fi swing.")
    describe(made["cafe"], "Brushes on a snare, recorded in a café.")
    describe(made["guide"], "How to mix drums and a piano so the piano sits on top.")
    taxonomy.set_tags(made["loops"].id, taxonomy.parse_tags("Lo-Fi, hip hop"))
    search.refresh(made["loops"].id)
    return made


def test_a_word_in_the_title_ranks_above_the_same_word_in_the_description(shop):
    # "piano" twice in the guide's description still ranks below the title that says it.
    assert found("piano") == ["Piano one-shots", "Mixing guide"]
    # "drum" is a prefix of "drums" too; the title's word ranks first.
    assert found("drum") == ["Drum loops", "Mixing guide"]
    assert set(found("drums")) == {"Drum loops", "Mixing guide"}


def test_a_few_letters_find_the_word_and_every_word_must_match(shop):
    assert found("pia") == ["Piano one-shots", "Mixing guide"]
    assert found("PI") == ["Piano one-shots", "Mixing guide"]
    assert found("pian mix") == ["Mixing guide"]
    assert found("piano zebra") == []
    assert found("p") and found("zz") == []


def test_accents_and_case_do_not_matter_either_way(shop):
    assert found("cafe") == ["Café jazz brushes"]
    assert found("CAFÉ") == ["Café jazz brushes"]
    assert found("caf") == ["Café jazz brushes"]
    # The seller's name is searched too, folded the same way (ø has no accent to drop).
    assert set(found("Ødegård")) == {"Mixing guide", "Café jazz brushes"} == set(found("odegard"))
    assert set(found("Priya")) == {"Piano one-shots", "Drum loops"}


def test_tags_are_searched_and_punctuation_separates_words(shop):
    assert found("lo-fi") == ["Drum loops"]
    assert found("hip-hop") == ["Drum loops"]
    assert found("%") == [] and found("") != []


def test_search_combines_with_filters_and_other_orders(shop):
    Product.update(price=100).where(Product.id == shop["guide"].id).execute()
    assert found("piano", sort="price-low") == ["Mixing guide", "Piano one-shots"]
    assert found("piano", max="2") == ["Mixing guide"]


def test_an_edit_is_found_by_its_new_words_and_not_its_old_ones(shop, make_user):
    piano = shop["piano"]
    form = {**products.form_values(piano), "title": "Celesta one-shots"}
    with products.StagedFiles() as staged:
        edited, review_again = products.update_product(piano, form, None, None, staged)
    # A new title sends the product back to review: it leaves the search at once.
    assert review_again and found("celesta") == [] and piano.id not in index_matches("piano")
    moderation.approve(piano.id, make_user("admin"))
    assert found("celesta") == ["Celesta one-shots"] and found("one-shots") == ["Celesta one-shots"]
    assert found("piano")[0] == "Mixing guide"  # the word is no longer in its title
    # A new price or new tags alone keep it on sale, with the tags searchable.
    form = {**products.form_values(edited), "price": "9", "tags": "bells"}
    with products.StagedFiles() as staged:
        _, review_again = products.update_product(Product.get_by_id(piano.id), form, None, None, staged)
    assert not review_again and found("bells") == ["Celesta one-shots"]


def test_a_rejected_product_is_not_found(shop, make_user):
    guide, admin = shop["guide"], make_user("admin")
    Product.update(status="pending").where(Product.id == guide.id).execute()
    search.refresh(guide.id)
    assert found("mixing") == []
    moderation.reject(guide.id, admin, "The audio examples are missing.")
    assert found("mixing") == [] and ProductSearch.get_or_none(ProductSearch.product == guide.id) is None
    assert guide.id not in index_matches("mix")


def test_a_deleted_product_leaves_the_index(shop):
    cafe = shop["cafe"]
    Product.delete().where(Product.id == cafe.id).execute()
    assert found("cafe") == [] and cafe.id not in index_matches("cafe")
    assert ProductSearch.select().count() == 3
    if models.is_sqlite():
        # FTS5's own check that its index agrees with its content table.
        models.db.execute_sql("INSERT INTO product_search_fts(product_search_fts) VALUES ('integrity-check')")


def test_a_sellers_new_name_is_searched(shop):
    seller = shop["cafe"].seller
    settings.change_name(seller, "Jonna Berg")
    assert set(found("jonna")) == {"Café jazz brushes", "Mixing guide"} and found("odeg") == []


def test_the_search_page_orders_by_best_match_and_keeps_the_words(client, shop):
    page = client.get("/", {"q": "piano"})
    assert [h.get_text(strip=True) for h in page.html.select(".product-card h2")] == ["Piano one-shots",
                                                                                       "Mixing guide"]
    form = next(f for f in page.forms.values() if f.action == "/" and "sort" in f.fields)
    assert form["q"].value == "piano" and form["sort"].value == "relevance"
    page = client.get("/", {"q": "piano", "sort": "newest"})
    assert [h.get_text(strip=True) for h in page.html.select(".product-card h2")] == ["Mixing guide",
                                                                                       "Piano one-shots"]


def test_rebuild_indexes_products_loaded_around_the_shop(shop):
    ProductSearch.delete().execute()
    assert found("piano") == []
    assert search.rebuild() == 4 and found("piano") == ["Piano one-shots", "Mixing guide"]
