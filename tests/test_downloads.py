"""/download/<token>: the private file for its buyer only, a limited number of times before
the link expires, never after a refund; every refusal a clear page."""

import datetime
import threading

import pytest

from shop.orders import cart
from shop import config
from shop.orders import downloads
from shop.orders import orders
from shop import security
from models import DownloadLink, Order, db, utcnow
from tests.conftest import login
from tests.shop_fixtures import make_product


@pytest.fixture
def purchase(make_user, client):
    """A logged-in customer who bought one product: (customer, link url, file bytes)."""
    seller, customer = make_user("seller"), make_user("customer")
    content = b"PK\x03\x04 pretend zip " * 1000
    product = make_product(seller, "Grüße presets", 1500, content=content, file_name='Grüße "best"\r\n presets.zip')
    cart.add(customer, product.id)
    order = orders.create_from_cart(customer, "test")
    orders.mark_paid(order.id)
    login(client, customer)
    return customer, downloads.url_for(DownloadLink.get()), content


def test_the_buyer_downloads_the_file_with_a_safe_name(client, purchase):
    _, url, content = purchase
    response = client.get(url)
    assert response.status_int == 200 and response.body == content
    assert response.headers["Content-Type"] == "application/octet-stream"
    disposition = response.headers["Content-Disposition"]
    assert disposition == ("attachment; filename=\"Gre best presets.zip\"; "
                           "filename*=UTF-8''Gr%C3%BC%C3%9Fe%20best%20presets.zip")
    assert "\r" not in disposition and "/" not in disposition.split("filename*")[0]
    assert "private" in response.headers["Cache-Control"]
    assert DownloadLink.get().download_count == 1


@pytest.mark.parametrize("name, safe", [
    ("../../etc/passwd", "passwd"), ("C:\\temp\\x.zip", "x.zip"), ('a"b;c.zip', "abc.zip"), ("...", "download"),
    ("", "download"), ("tab\there.pdf", "tabhere.pdf")])
def test_file_names_are_made_safe(name, safe):
    assert downloads.safe_filename(name) == safe


def test_a_range_request_still_counts_one_whole_download(client, purchase):
    _, url, content = purchase
    response = client.get(url, headers={"Range": "bytes=0-9"})
    assert response.status_int == 200 and response.body == content


def test_a_head_request_counts_nothing(client, purchase):
    _, url, _ = purchase
    response = client.head(url)
    assert response.status_int == 200 and "attachment;" in response.headers["Content-Disposition"]
    assert DownloadLink.get().download_count == 0


def test_the_limit_is_counted_and_then_refused(client, purchase, app_env):
    _, url, _ = purchase
    DownloadLink.update(max_downloads=2).execute()
    assert client.get(url).status_int == 200
    assert client.get(url).status_int == 200
    response = client.get(url, expect_errors=True)
    assert response.status_int == 410
    assert "Download limit reached" in response.text and "all 2 downloads" in response.text
    assert DownloadLink.get().download_count == 2


def test_concurrent_requests_cannot_exceed_the_limit(purchase):
    customer, url, _ = purchase
    DownloadLink.update(max_downloads=3).execute()
    token = url.rsplit("/", 1)[1]
    results = []
    barrier = threading.Barrier(8)

    def attempt():
        with db.connection_context():
            barrier.wait()
            try:
                downloads.claim(token, customer)
                results.append("ok")
            except downloads.DownloadRefused:
                results.append("refused")

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count("ok") == 3 and results.count("refused") == 5
    assert DownloadLink.get().download_count == 3


def test_an_expired_link_is_refused(client, purchase):
    _, url, _ = purchase
    DownloadLink.update(expires_at=utcnow() - datetime.timedelta(minutes=1)).execute()
    response = client.get(url, expect_errors=True)
    assert response.status_int == 410 and "Download link expired" in response.text
    assert f"Links last {config.DOWNLOAD_LINK_TTL_HOURS} hours" in response.text


def test_links_expire_after_the_configured_hours(purchase):
    link = DownloadLink.get()
    hours = (link.expires_at - link.created_at).total_seconds() / 3600
    assert round(hours) == config.DOWNLOAD_LINK_TTL_HOURS and link.max_downloads == config.DOWNLOAD_LIMIT


def test_a_refunded_purchase_cannot_be_downloaded(client, purchase):
    from shop.orders import fulfilment

    _, url, _ = purchase
    fulfilment.refund_order(Order.get().id)
    response = client.get(url, expect_errors=True)
    assert response.status_int == 410 and "This purchase was refunded" in response.text


def test_someone_elses_link_is_refused(client, purchase, make_user):
    _, url, _ = purchase
    client.reset()
    login(client, make_user("customer"))
    response = client.get(url, expect_errors=True)
    assert response.status_int == 403
    assert "belongs to another customer" in response.text and "Traceback" not in response.text
    assert DownloadLink.get().download_count == 0


def test_anonymous_visitors_log_in_first(client, purchase):
    _, url, _ = purchase
    client.reset()
    response = client.get(url)
    assert response.status_int == 303 and "/login?next=%2Fdownload%2F" in response.headers["Location"]


def test_an_unknown_token_is_a_clear_404(client, purchase):
    response = client.get("/download/not-a-real-token", expect_errors=True)
    assert response.status_int == 404 and "This download link is not valid." in response.text


def test_a_missing_file_is_a_clear_page(client, purchase):
    _, url, _ = purchase
    product = DownloadLink.get().product
    (config.UPLOADS_DIR / product.file_path).unlink()
    response = client.get(url, expect_errors=True)
    assert response.status_int == 404 and "The file of this product is missing" in response.text


def test_nginx_streams_the_file_when_configured(client, purchase, app_env):
    _, url, _ = purchase
    app_env.reload(DOWNLOAD_ACCEL_PREFIX="/protected-downloads/")
    response = client.get(url)
    product = DownloadLink.get().product
    assert response.headers["X-Accel-Redirect"] == f"/protected-downloads/{product.file_path}"
    assert response.body == b"" and "attachment;" in response.headers["Content-Disposition"]
    assert DownloadLink.get().download_count == 1


def test_the_database_alone_cannot_make_a_link(purchase):
    _, url, _ = purchase
    token = url.rsplit("/", 1)[1]
    link = DownloadLink.get()
    assert token not in (link.nonce, link.token_hash)
    assert link.token_hash == security.token_digest(token)
    assert downloads.token_for(link.nonce) == token  # it needs APP_SECRET's derived key as well


def test_purchases_page_lists_links_and_states(client, purchase):
    _, url, _ = purchase
    page = client.get("/purchases")
    assert f'href="{url}"' in page.text and "5 of 5 left" in page.text
    DownloadLink.update(expires_at=utcnow() - datetime.timedelta(hours=1)).execute()
    page = client.get("/purchases")
    assert f'href="{url}"' not in page.text and ">expired<" in page.text


# ---------------------------------------------------------------------------
# Every product file is an attachment of a neutral type, whatever it holds
# ---------------------------------------------------------------------------

HOSTILE_FILES = [("page.html", b"<html><script>alert(document.cookie)</script></html>"),
                 ("drawing.svg", b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>"),
                 ("no-extension", b"<script>alert(1)</script>"),
                 ("notes.txt", b"plain text"), ("photo.jpg", b"\xff\xd8\xff not really")]


def assert_attachment(response, body):
    assert response.status_int == 200 and response.body == body
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=\"")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "private" in response.headers["Cache-Control"]


@pytest.mark.parametrize("file_name, content", HOSTILE_FILES)
def test_every_product_file_is_sent_as_a_neutral_attachment_to_buyer_seller_and_admin(
        client, make_user, file_name, content):
    seller, admin, buyer = make_user("seller"), make_user("admin"), make_user("customer")
    product = make_product(seller, "Hostile file", content=content, file_name=file_name)
    cart.add(buyer, product.id)
    orders.mark_paid(orders.create_from_cart(buyer, "test").id)
    for user, path in [(seller, f"/seller/products/{product.id}/file"), (admin, f"/admin/products/{product.id}/file"),
                       (buyer, downloads.url_for(DownloadLink.get()))]:
        client.reset()
        login(client, user)
        assert_attachment(client.get(path), content)
