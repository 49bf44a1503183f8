"""The seller area: creating and editing products with their files, and who may do it."""

import hashlib

import pytest
from webtest import Upload

from shop import config
import tasks
from models import Product
from tests.catalog_helpers import (
    form_for,
    jpeg_bytes,
    make_product,
    media_files,
    png_bytes,
    uploaded_files,
)

PDF = b"%PDF-1.4\n" + b"A real enough product file.\n" * 200


def new_product_form(client):
    return form_for(client.get("/seller/products/new"), "/seller/products")


def submit_new(client, title="Pixel Icons", description="Forty icons.\n\nSVG and PNG.", price="12.50",
               file=("icons.zip", PDF), thumbnail=("cover.jpg", jpeg_bytes())):
    form = new_product_form(client)
    form["title"], form["description"], form["price"] = title, description, price
    if file:
        form["file"] = Upload(*file)
    if thumbnail:
        form["thumbnail"] = Upload(*thumbnail)
    return form.submit(expect_errors=True)


# ---------------------------------------------------------------------------
# Creating
# ---------------------------------------------------------------------------


def test_seller_creates_a_product_that_waits_for_review(client, login_as):
    seller = login_as("seller")
    response = submit_new(client)
    assert response.status_int == 303 and response.headers["Location"].endswith("/seller/products")
    page = response.follow()
    assert "is saved and waiting for review" in page.text
    product = Product.get()
    assert product.seller_id == seller.id and product.status == "pending"
    assert product.price == 1250 and product.currency == config.CURRENCY
    assert product.description == "Forty icons.\n\nSVG and PNG."
    # The file is private, under a random name, byte for byte what was sent.
    assert product.file_name == "icons.zip" and product.file_size == len(PDF)
    assert product.file_path.startswith("files/") and "icons" not in product.file_path
    assert (config.UPLOADS_DIR / product.file_path).read_bytes() == PDF
    assert product.file_sha256 == hashlib.sha256(PDF).hexdigest()
    # Immediate mode ran the thumbnail job already.
    assert product.thumbnail_state == "ready" and len(product.thumbnails) == 3
    listing = client.get("/seller/products")
    row = listing.html.select_one("table.seller-products tbody tr")
    assert "Pixel Icons" in row.text and "Waiting for review" in row.text and "Ready" in row.text
    assert row.select_one("img.row-thumb")["src"] == product.thumbnail_url(160)
    # Not in the shop until approved.
    assert client.get(f"/products/{product.slug}", expect_errors=True).status_int == 404
    assert "Pixel Icons" not in client.get("/").text


def test_product_files_are_never_served_as_static_files(client, login_as):
    login_as("seller")
    submit_new(client)
    product = Product.get()
    for url in (f"/media/{product.file_path}", f"/media/../products/{product.file_path}",
                f"/static/../../data/products/{product.file_path}", f"/media/{product.thumbnail_original}"):
        assert client.get(url, expect_errors=True).status_int in (403, 404), url


def test_thumbnail_is_optional_and_shows_a_placeholder(client, login_as):
    login_as("seller")
    submit_new(client, thumbnail=None)
    product = Product.get()
    assert product.thumbnail_state == "none" and product.thumbnail_original is None
    row = client.get("/seller/products").html.select_one("table.seller-products tbody tr")
    assert row.select_one(".row-thumb-placeholder") is not None and "No cover" in row.text


def test_missing_fields_rerender_the_form_with_messages(client, login_as):
    login_as("seller")
    response = submit_new(client, title="", description="  ", price="", file=None)
    assert response.status_int == 400
    errors = {p.parent.select_one("label").text: p.text for p in response.html.select(".field-error")}
    assert errors == {"Title": "Enter a title.", "Description": "Describe what the buyer gets.",
                      f"Price ({config.CURRENCY})": "Enter an amount such as 12.50.",
                      "Product file": "Choose the file buyers will download."}
    assert "choose them again" in response.text
    assert Product.select().count() == 0 and uploaded_files() == []


@pytest.mark.parametrize("price, message", [
    ("0", "The price must be more than zero."),
    ("-4", "The price must be more than zero."),
    ("twelve", "Enter an amount such as 12.50."),
    ("1.999", "Use at most 2 decimal places."),
])
def test_price_must_be_a_positive_amount(client, login_as, price, message):
    login_as("seller")
    response = submit_new(client, price=price)
    assert response.status_int == 400
    assert response.html.select_one("#e-price").text == message
    # What the seller typed is kept.
    assert response.html.select_one("#f-title")["value"] == "Pixel Icons"
    assert Product.select().count() == 0 and uploaded_files() == []


def test_thumbnail_that_is_not_an_image_is_a_form_error(client, login_as):
    login_as("seller")
    response = submit_new(client, thumbnail=("cover.jpg", b"GIF? no: plain text pretending"))
    assert response.status_int == 400
    assert "not an image we can read" in response.html.select_one("#e-thumbnail").text
    assert Product.select().count() == 0 and uploaded_files() == []


def test_file_over_the_limit_is_refused_with_413(client, login_as, app_env):
    app_env.reload(UPLOAD_MAX_MB=1)
    login_as("seller")
    response = submit_new(client, file=("big.bin", b"x" * (1024 * 1024 + 10)))
    assert response.status_int == 413
    assert "The product file is 1.0 MB; the limit is 1 MB." in response.text
    assert Product.select().count() == 0 and uploaded_files() == []


def test_thumbnail_over_the_limit_is_refused_with_413(client, login_as, app_env):
    app_env.reload(THUMBNAIL_MAX_MB=1)
    login_as("seller")
    response = submit_new(client, thumbnail=("huge.png", png_bytes() + b"\0" * (1024 * 1024)))
    assert response.status_int == 413
    assert "The thumbnail is 1.0 MB; the limit is 1 MB." in response.text
    assert Product.select().count() == 0 and uploaded_files() == []


def test_a_body_over_every_limit_is_refused_before_it_is_read(client, login_as, app_env):
    app_env.reload(UPLOAD_MAX_MB=1, THUMBNAIL_MAX_MB=1)
    login_as("seller")
    response = submit_new(client, file=("big.bin", b"x" * (2 * 1024 * 1024 + 100 * 1024)))
    assert response.status_int == 413
    assert Product.select().count() == 0 and uploaded_files() == []


def test_a_failure_after_the_files_are_written_leaves_nothing_behind(client, login_as, monkeypatch):
    login_as("seller")

    def broken_dispatch(*args, **kwargs):
        raise RuntimeError("the queue database is gone")

    monkeypatch.setattr(tasks.process_file_upload, "dispatch", broken_dispatch)
    response = submit_new(client)
    assert response.status_int == 500
    assert "Something went wrong on our side" in response.text
    assert Product.select().count() == 0
    assert uploaded_files() == [] and media_files() == []


def test_non_ascii_file_names_are_kept_for_the_download(client, login_as):
    login_as("seller")
    submit_new(client, file=("Résumé – 2025.pdf", PDF))
    product = Product.get()
    assert product.file_name == "Résumé – 2025.pdf"
    response = client.get(f"/seller/products/{product.id}/file")
    assert response.body == PDF
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and "UTF-8''R%C3%A9sum%C3%A9" in disposition
    assert "private" in response.headers["Cache-Control"]


# ---------------------------------------------------------------------------
# Editing
# ---------------------------------------------------------------------------


def edit_form(client, product):
    return form_for(client.get(f"/seller/products/{product.id}/edit"), f"/seller/products/{product.id}/edit")


def test_edit_form_is_filled_in(client, login_as):
    seller = login_as("seller")
    product = make_product(seller, title="Field Notes", price=129900)
    form = edit_form(client, product)
    assert form["title"].value == "Field Notes"
    assert form["price"].value == "1299.00"
    assert "Current file: notes.pdf" in client.get(f"/seller/products/{product.id}/edit").text


def test_price_change_keeps_an_approved_product_on_sale(client, login_as):
    seller = login_as("seller")
    product = make_product(seller, status="approved")
    form = edit_form(client, product)
    form["price"] = "15"
    page = form.submit().follow()
    assert "Your changes are saved." in page.text
    product = Product.get_by_id(product.id)
    assert product.status == "approved" and product.price == 1500


def test_new_content_sends_an_approved_product_back_to_review(client, login_as):
    seller = login_as("seller")
    product = make_product(seller, status="approved")
    old_file = product.file_path
    form = edit_form(client, product)
    form["title"] = "Field Notes, second edition"
    form["file"] = Upload("notes-v2.pdf", PDF)
    page = form.submit().follow()
    assert "hidden from the shop until it has been reviewed again" in page.text
    product = Product.get_by_id(product.id)
    assert product.status == "pending" and product.approved_at is None
    assert product.title == "Field Notes, second edition" and product.file_name == "notes-v2.pdf"
    assert (config.UPLOADS_DIR / product.file_path).read_bytes() == PDF
    assert not (config.UPLOADS_DIR / old_file).exists()  # the replaced file is gone
    assert uploaded_files() == [product.file_path]


def test_saving_a_rejected_product_resubmits_it(client, login_as):
    seller = login_as("seller")
    product = make_product(seller, status="rejected", rejection_reason="The cover is blurry.")
    page = client.get(f"/seller/products/{product.id}/edit")
    assert "The cover is blurry." in page.text
    form = form_for(page, f"/seller/products/{product.id}/edit")
    form["thumbnail"] = Upload("sharp.png", png_bytes(), "image/png")
    assert "sent for review again" in form.submit().follow().text
    product = Product.get_by_id(product.id)
    assert product.status == "pending" and product.rejection_reason is None
    assert product.thumbnail_state == "ready"


def test_a_new_thumbnail_replaces_the_old_files(client, login_as):
    login_as("seller")
    submit_new(client)
    product = Product.get()
    old_original, old_media = product.thumbnail_original, media_files()
    assert len(old_media) == 3
    form = edit_form(client, product)
    form["thumbnail"] = Upload("new.png", png_bytes(), "image/png")
    form.submit()
    product = Product.get_by_id(product.id)
    assert product.thumbnail_state == "ready" and product.thumbnail_original != old_original
    assert not (config.UPLOADS_DIR / old_original).exists()
    assert set(media_files()).isdisjoint(old_media) and len(media_files()) == 3
    assert sorted(uploaded_files()) == sorted([product.file_path, product.thumbnail_original])


def test_invalid_edit_changes_nothing(client, login_as):
    seller = login_as("seller")
    product = make_product(seller, status="approved")
    before = uploaded_files()
    form = edit_form(client, product)
    form["price"] = "0"
    form["file"] = Upload("new.pdf", PDF)
    response = form.submit(expect_errors=True)
    assert response.status_int == 400 and "The price must be more than zero." in response.text
    after = Product.get_by_id(product.id)
    assert after.status == "approved" and after.price == product.price and after.file_path == product.file_path
    assert uploaded_files() == before


def test_failed_thumbnail_is_explained_in_the_list(client, login_as):
    seller = login_as("seller")
    make_product(seller, thumbnail_state="failed",
                 thumbnail_error="This file is not an image we can read. Upload a JPEG, PNG, WebP or GIF.")
    row = client.get("/seller/products").html.select_one("table.seller-products tbody tr")
    assert "Failed" in row.text and "not an image we can read" in row.text


def test_rejection_reason_is_shown_in_the_list(client, login_as):
    seller = login_as("seller")
    make_product(seller, status="rejected", rejection_reason="Please add a preview of the pages.")
    row = client.get("/seller/products").html.select_one("table.seller-products tbody tr")
    assert "Not approved" in row.text and "Please add a preview of the pages." in row.text


# ---------------------------------------------------------------------------
# Who may do what
# ---------------------------------------------------------------------------


def test_sellers_see_only_their_own_products(client, login_as, make_user):
    other = make_user("seller")
    theirs = make_product(other, title="Not Yours")
    login_as("seller")
    assert "Not Yours" not in client.get("/seller/products").text
    for url in (f"/seller/products/{theirs.id}/edit", f"/seller/products/{theirs.id}/file"):
        assert client.get(url, expect_errors=True).status_int == 404
    # Posting to another seller's product (with a valid token) changes nothing.
    token = new_product_form(client)["csrf_token"].value
    response = client.post(f"/seller/products/{theirs.id}/edit",
                           {"csrf_token": token, "title": "Mine now", "description": "x", "price": "1"},
                           expect_errors=True)
    assert response.status_int == 404
    assert Product.get_by_id(theirs.id).title == "Not Yours"


SELLER_POSTS = ["/seller/products", "/seller/products/{id}/edit"]
SELLER_PAGES = ["/seller/products", "/seller/products/new", "/seller/products/{id}/edit",
                "/seller/products/{id}/file"]


@pytest.mark.parametrize("path", SELLER_PAGES)
def test_seller_pages_need_a_seller(client, make_user, login_as, path):
    product = make_product(make_user("seller"))
    url = path.format(id=product.id)
    response = client.get(url)
    assert response.status_int == 303 and "/login?next=" in response.headers["Location"]
    for role in ("customer", "admin"):
        login_as(role)
        assert client.get(url, expect_errors=True).status_int == 403
        client.reset()


@pytest.mark.parametrize("path", SELLER_POSTS)
def test_seller_posts_check_role_and_csrf(client, make_user, login_as, path):
    owner = make_user("seller")
    product = make_product(owner, title="Original")
    url = path.format(id=product.id)
    fields = {"title": "Changed", "description": "Changed", "price": "3"}
    # Anonymous, with a valid token for the visitor: sent to log in.
    token = form_for(client.get("/login"), "/login")["csrf_token"].value
    response = client.post(url, dict(fields, csrf_token=token))
    assert response.status_int == 303 and "/login?next=" in response.headers["Location"]
    # Wrong role, with its own valid token: forbidden.
    for role in ("customer", "admin"):
        client.reset()
        login_as(role)
        token = form_for(client.get("/notifications"), "/logout")["csrf_token"].value
        assert client.post(url, dict(fields, csrf_token=token), expect_errors=True).status_int == 403
    # The owner without a token, or with someone else's: forbidden, nothing changed.
    client.reset()
    from tests.conftest import login

    login(client, owner)
    assert client.post(url, fields, expect_errors=True).status_int == 403
    assert client.post(url, dict(fields, csrf_token=token), expect_errors=True).status_int == 403
    assert Product.select().count() == 1 and Product.get().title == "Original"
