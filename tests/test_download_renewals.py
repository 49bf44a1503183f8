"""The library that lasts: on the Purchases page an expired or used-up download link is
renewed by its owner (a fresh token, logged, a daily cap), never for a refunded order or
for another customer; the receipt email links to the library."""

import datetime
import re

import pytest

from shop.orders import cart
from shop.orders import downloads
from shop.orders import fulfilment
from shop.orders import orders
from models import DownloadLink, DownloadRenewal, Order, utcnow
from tests.conftest import login
from tests.shop_fixtures import make_product


@pytest.fixture
def bought(make_user, client):
    """A logged-in customer who bought two products: (customer, order)."""
    seller, customer = make_user("seller"), make_user("customer")
    for title in ("Field recordings", "Brush pack"):
        cart.add(customer, make_product(seller, title, 900, content=title.encode() * 50).id)
    order = orders.create_from_cart(customer, "test")
    orders.mark_paid(order.id)
    login(client, customer)
    return customer, order


def renew_forms(page):
    return [form for form in page.forms.values() if (form.action or "").endswith("/renew")]


def expire_all():
    DownloadLink.update(expires_at=utcnow() - datetime.timedelta(minutes=1)).execute()


def test_an_active_link_offers_no_renewal(client, bought):
    assert renew_forms(client.get("/purchases")) == []


def test_an_expired_link_is_renewed_and_the_old_token_stops_working(client, bought):
    customer, _ = bought
    link = DownloadLink.select().order_by(DownloadLink.id).first()
    old_url = downloads.url_for(link)
    expire_all()
    page = client.get("/purchases")
    assert "expired" in page.text
    forms = renew_forms(page)
    assert len(forms) == 2
    response = forms[0].submit()
    assert response.status_int == 303 and "/purchases#" in response.headers["Location"]
    page = response.follow()
    assert "A new download link for" in page.text and len(renew_forms(page)) == 1

    fresh = DownloadLink.get_by_id(link.id)
    assert downloads.state(fresh) is downloads.LinkState.ACTIVE and fresh.download_count == 0
    new_url = downloads.url_for(fresh)
    assert new_url != old_url and new_url in page.text
    assert client.get(new_url).status_int == 200
    assert client.get(old_url, expect_errors=True).status_int == 404
    renewal = DownloadRenewal.get()
    assert (renewal.link_id, renewal.buyer_id, renewal.previous_download_count) == (link.id, customer.id, 0)
    assert renewal.previous_expires_at < utcnow()


def test_a_used_up_link_is_renewed(client, bought):
    DownloadLink.update(download_count=DownloadLink.max_downloads).execute()
    page = client.get("/purchases")
    assert "used up" in page.text
    renew_forms(page)[0].submit().follow()
    assert DownloadLink.select().where(DownloadLink.download_count == 0).count() == 1


def test_renewing_an_active_link_is_refused(client, bought):
    expire_all()
    form = renew_forms(client.get("/purchases"))[0]
    DownloadLink.update(expires_at=utcnow() + datetime.timedelta(hours=1)).execute()
    response = form.submit(expect_errors=True)
    assert response.status_int == 409 and "still works" in response.text
    assert DownloadRenewal.select().count() == 0


def test_the_daily_cap_is_kept(client, bought, app_env):
    app_env.reload(DOWNLOAD_RENEWALS_PER_DAY=2)
    link = DownloadLink.select().order_by(DownloadLink.id).first()
    for _ in range(2):
        expire_all()
        renew_forms(client.get("/purchases"))[0].submit().follow()
    expire_all()
    response = renew_forms(client.get("/purchases"))[0].submit(expect_errors=True)
    assert response.status_int == 429 and "the most a day allows" in response.text
    assert DownloadRenewal.select().count() == 2
    assert downloads.state(DownloadLink.get_by_id(link.id)) is downloads.LinkState.EXPIRED
    # The cap counts the last 24 hours: renewals of yesterday no longer count.
    DownloadRenewal.update(created_at=utcnow() - datetime.timedelta(days=1, minutes=1)).execute()
    assert renew_forms(client.get("/purchases"))[0].submit().status_int == 303


def test_another_customers_link_is_refused(client, bought, make_user):
    expire_all()
    form = renew_forms(client.get("/purchases"))[0]
    client.reset()
    login(client, make_user("customer"))
    # A valid CSRF token of the other customer's own page, with the first customer's form action.
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/purchases").text)
    response = client.post(form.action, {"csrf_token": token.group(1)}, expect_errors=True)
    assert response.status_int == 404 and "not among your purchases" in response.text
    assert DownloadRenewal.select().count() == 0
    assert downloads.state(DownloadLink.select().first()) is downloads.LinkState.EXPIRED


def test_a_refunded_orders_link_is_not_renewed(client, bought):
    _, order = bought
    expire_all()
    form = renew_forms(client.get("/purchases"))[0]
    fulfilment.refund_order(order.id)
    assert renew_forms(client.get("/purchases")) == []
    response = form.submit(expect_errors=True)
    assert response.status_int == 410 and "refunded" in response.text
    assert DownloadRenewal.select().count() == 0
    assert Order.get_by_id(order.id).status == "refunded"


def test_logged_out_visitors_cannot_renew(client, bought):
    expire_all()
    form = renew_forms(client.get("/purchases"))[0]
    client.reset()
    response = client.post(form.action, {}, expect_errors=True)
    assert response.status_int in (303, 403)
    assert DownloadRenewal.select().count() == 0


def test_the_receipt_links_to_the_library(app_env, bought):
    _, order = bought
    fulfilment.send_purchase_confirmation(order.id)
    body = app_env.mails[-1].get_content()
    assert "/download/" in body and "Your library keeps everything you bought" in body
    assert re.search(r"^https?://\S+/purchases$", body, re.M)
