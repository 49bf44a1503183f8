"""Moderation: the admin's list of pending products, approving, rejecting with a reason."""

import pytest

from job_runtime.models import JobRecord
from models import Notification, Product, ProductReview
from tests.catalog_helpers import form_for, jpeg_bytes, make_product
from tests.conftest import login


def run_thumbnail(product):
    import tasks
    from models import db

    with db.atomic():
        tasks.process_file_upload.dispatch(product.id, product.thumbnail_original)
    return Product.get_by_id(product.id)


def test_moderation_list_shows_what_an_admin_needs(client, login_as, make_user):
    seller = make_user("seller", name="Sam Seller")
    pending = run_thumbnail(make_product(seller, title="Icon Pack", price=1900, thumbnail=jpeg_bytes(),
                                         file_data=b"x" * 3000))
    make_product(seller, title="Already On Sale", status="approved")
    login_as("admin")
    page = client.get("/admin/products")
    cards = page.html.select("article.review-card")
    assert len(cards) == 1
    card = cards[0]
    assert "Icon Pack" in card.text and "Sam Seller" in card.text and "$19.00" in card.text
    assert "notes.pdf" in card.text and "2.9 KB" in card.text
    assert card.select_one("img")["src"] == pending.thumbnail_url(480)
    assert "Already On Sale" not in page.text
    tabs = page.html.select_one("nav.tabs").text
    assert "Pending 1" in " ".join(tabs.split()) and "Approved 1" in " ".join(tabs.split())
    assert "Already On Sale" in client.get("/admin/products?status=approved").text


def test_approving_puts_the_product_on_sale_and_notifies_the_seller(client, login_as, make_user, app_env):
    seller = make_user("seller")
    product = make_product(seller, title="Icon Pack")
    admin = login_as("admin")
    page = client.get("/admin/products")
    response = form_for(page, f"/admin/products/{product.id}/approve").submit()
    assert "is approved and on sale" in response.follow().text
    product = Product.get_by_id(product.id)
    assert product.status == "approved" and product.approved_at is not None
    review = ProductReview.get()
    assert (review.product_id, review.admin_id, review.decision, review.reason) == (product.id, admin.id,
                                                                                     "approved", None)
    assert "Icon Pack" in client.get("/").text
    assert client.get(f"/products/{product.slug}").status_int == 200
    # Both channels (immediate mode ran the job).
    notification = Notification.get()
    assert notification.user_id == seller.id and notification.type == "product_approved"
    assert notification.key == f"product-approved:{review.id}"
    [message] = app_env.mails
    assert message["To"] == seller.email and "Approved" in message["Subject"]
    assert f"/products/{product.slug}" in message.get_content()
    assert JobRecord.get().name == "notify_product_approved" and JobRecord.get().state == "completed"


def test_rejecting_needs_a_reason(client, login_as, make_user, app_env):
    product = make_product(make_user("seller"), title="Icon Pack")
    login_as("admin")
    form = form_for(client.get("/admin/products"), f"/admin/products/{product.id}/reject")
    form["reason"] = "   "
    response = form.submit(expect_errors=True)
    assert response.status_int == 400
    card = response.html.select_one(f"#product-{product.id}")
    assert card.select_one("details.reject").has_attr("open")
    assert card.select_one(".field-error").text == "Tell the seller why, so they can fix it."
    assert Product.get_by_id(product.id).status == "pending"
    assert ProductReview.select().count() == 0 and Notification.select().count() == 0 and app_env.mails == []


def test_rejecting_tells_the_seller_why(client, login_as, make_user, app_env):
    seller = make_user("seller")
    product = make_product(seller, title="Icon Pack")
    login_as("admin")
    form = form_for(client.get("/admin/products"), f"/admin/products/{product.id}/reject")
    form["reason"] = "The preview images are someone else's work."
    assert "is rejected" in form.submit().follow().text
    product = Product.get_by_id(product.id)
    assert product.status == "rejected" and product.rejection_reason == "The preview images are someone else's work."
    review = ProductReview.get()
    assert review.decision == "rejected" and review.reason == product.rejection_reason
    notification = Notification.get()
    assert notification.type == "product_rejected" and notification.data["reason"] == product.rejection_reason
    [message] = app_env.mails
    assert "The preview images are someone else's work." in message.get_content()
    assert f"/seller/products/{product.id}/edit" in message.get_content()
    # The seller sees it in their list.
    client.reset()
    login(client, seller)
    assert "someone else's work" in client.get("/seller/products").html.get_text()


def test_a_product_is_decided_once(client, login_as, make_user, app_env):
    product = make_product(make_user("seller"))
    login_as("admin")
    page = client.get("/admin/products")
    approve = form_for(page, f"/admin/products/{product.id}/approve")
    reject = form_for(page, f"/admin/products/{product.id}/reject")
    approve.submit()
    reject["reason"] = "Too late"
    response = reject.submit().follow()
    assert "no longer waiting for review" in response.text
    assert approve.submit().follow().text.count("no longer waiting for review") == 1
    assert Product.get_by_id(product.id).status == "approved"
    assert ProductReview.select().count() == 1 and Notification.select().count() == 1 and len(app_env.mails) == 1


def test_admin_can_download_the_file_under_review(client, login_as, make_user):
    product = make_product(make_user("seller"), file_data=b"%PDF-1.4 the real thing")
    login_as("admin")
    response = client.get(f"/admin/products/{product.id}/file")
    assert response.body == b"%PDF-1.4 the real thing"
    assert 'filename="notes.pdf"' in response.headers["Content-Disposition"]


ADMIN_POSTS = ["/admin/products/{id}/approve", "/admin/products/{id}/reject"]


@pytest.mark.parametrize("path", ["/admin/products", "/admin/products/{id}/file"])
def test_admin_pages_need_an_admin(client, login_as, make_user, path):
    product = make_product(make_user("seller"))
    url = path.format(id=product.id)
    response = client.get(url)
    assert response.status_int == 303 and "/login?next=" in response.headers["Location"]
    for role in ("customer", "seller"):
        client.reset()
        login_as(role)
        assert client.get(url, expect_errors=True).status_int == 403


@pytest.mark.parametrize("path", ADMIN_POSTS)
def test_admin_posts_check_role_and_csrf(client, login_as, make_user, path):
    owner = make_user("seller")
    product = make_product(owner)
    url = path.format(id=product.id)
    fields = {"reason": "Not good enough"}
    token = form_for(client.get("/login"), "/login")["csrf_token"].value
    response = client.post(url, dict(fields, csrf_token=token))
    assert response.status_int == 303 and "/login?next=" in response.headers["Location"]
    # A seller cannot approve anything, not even their own product; a customer neither.
    for user in (owner, make_user("customer")):
        client.reset()
        login(client, user)
        token = form_for(client.get("/notifications"), "/logout")["csrf_token"].value
        assert client.post(url, dict(fields, csrf_token=token), expect_errors=True).status_int == 403
    client.reset()
    login_as("admin")
    assert client.post(url, fields, expect_errors=True).status_int == 403
    assert client.post(url, dict(fields, csrf_token=token), expect_errors=True).status_int == 403
    assert Product.get_by_id(product.id).status == "pending"
    assert ProductReview.select().count() == 0 and Notification.select().count() == 0


def test_customers_see_no_seller_or_admin_links(client, login_as):
    login_as("customer")
    page = client.get("/")
    links = [a["href"] for a in page.html.select("nav.main-nav a")]
    assert not any(link.startswith(("/admin", "/seller")) for link in links)
