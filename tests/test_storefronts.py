"""Seller storefronts: /sellers/<name>-<id> with the seller's bio, avatar and products on sale."""

from webtest import Upload

from models import SellerProfile
from shop.accounts import settings
from tests.catalog_helpers import form_for, jpeg_bytes, media_files
from tests.shop_fixtures import make_product


def test_a_storefront_shows_the_sellers_products_on_sale_and_cards_link_to_it(client, make_user):
    priya = make_user("seller", name="Priya Patel")
    make_product(priya, "Piano one-shots")
    make_product(priya, "Unreviewed beat", status="pending")
    make_product(make_user("seller", name="Someone Else"), "Other things")
    card = next(c for c in client.get("/").html.select(".product-card") if "Piano one-shots" in c.text)
    assert card.select_one(".card-seller a")["href"] == f"/sellers/priya-patel-{priya.id}"
    page = client.get(f"/sellers/priya-patel-{priya.id}")
    assert page.html.select_one("h1").get_text(strip=True) == "Priya Patel"
    assert [h.get_text(strip=True) for h in page.html.select(".product-card h2")] == ["Piano one-shots"]
    assert "1 product on sale" in page.text


def test_an_old_address_redirects_and_a_wrong_one_is_a_404(client, make_user):
    priya = make_user("seller", name="Priya Patel")
    settings.change_name(priya, "Priya P. Studio")
    response = client.get(f"/sellers/priya-patel-{priya.id}?page=1")
    assert response.status_int == 301
    assert response.headers["Location"].endswith(f"/sellers/priya-p-studio-{priya.id}?page=1")
    customer = make_user("customer")
    for slug in (f"someone-{customer.id}", "priya-patel", "999999", "x" * 300):
        assert client.get(f"/sellers/{slug}", expect_errors=True).status_int == 404


def test_a_seller_writes_a_bio_and_the_avatar_is_made_by_its_job(client, login_as):
    seller = login_as("seller", name="Jon Berg")
    form = form_for(client.get("/seller/profile"), "/seller/profile")
    form["bio"] = "I record drums.\r\n\r\nIn Oslo."
    form["avatar"] = Upload("me.jpg", jpeg_bytes())
    form.submit().follow()
    profile = SellerProfile.get(SellerProfile.seller == seller)
    # The job ran (immediately in tests): clean WebP sizes under MEDIA_DIR, none of the original's EXIF.
    assert profile.avatar_state == "ready" and set(profile.avatars) == {"96", "320"}
    assert all(name.endswith(".webp") for name in media_files())
    page = client.get(seller.storefront_path)
    assert [p.get_text() for p in page.html.select(".storefront-bio p")] == ["I record drums.", "In Oslo."]
    assert page.html.select_one("img.avatar")["src"] == profile.avatar_url(96)
    assert b"SecretCam" not in client.get(profile.avatar_url(96)).body


def test_a_picture_that_is_not_an_image_or_a_long_bio_is_a_form_error(client, login_as):
    login_as("seller")
    form = form_for(client.get("/seller/profile"), "/seller/profile")
    form["bio"] = "x" * 2001
    form["avatar"] = Upload("me.jpg", b"not an image at all")
    response = form.submit(expect_errors=True)
    assert response.status_int == 400 and "at most 2000" in response.text and "not an image" in response.text
    assert SellerProfile.select().count() == 0


def test_only_sellers_have_a_storefront_form(client, login_as):
    login_as("customer")
    assert client.get("/seller/profile", expect_errors=True).status_int in (403, 404)
