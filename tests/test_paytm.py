"""Paytm: Initiate Transaction signed with paytmchecksum, the JS checkout page, the browser
callback and the server-to-server notification (both verified by checksum and stored as one
event), the Order Status API as the judge, refunds through the API and the refund webhook.
Paytm's APIs are a local server that checks every checksum (tests/shop_fixtures.py)."""

from urllib.parse import urlencode

import pytest

from job_runtime.models import FailedJob, JobRecord
from models import DownloadLink, LedgerEntry, Order, Refund, WebhookEvent, utcnow
from tests.conftest import login
from tests.shop_fixtures import PAYTM_MID, add_to_cart, checkout, make_product


@pytest.fixture
def paytm_order(client, make_user, paytm_api):
    """A customer who chose Paytm for two products of two sellers: the pending order."""
    sam, priya = make_user("seller"), make_user("seller")
    login(client, make_user("customer"))
    add_to_cart(client, make_product(sam, "Tabla loops", 49900, "INR"))
    add_to_cart(client, make_product(priya, "Rangoli patterns", 19900, "INR"))
    response = checkout(client, "paytm")
    assert response.status_int == 303, response.text
    order = Order.get()
    assert response.headers["Location"] == f"/checkout/paytm/{order.id}"
    return order


def post_form(client, path, fields):
    return client.post(path, urlencode(fields), headers={"Content-Type": "application/x-www-form-urlencoded"},
                       expect_errors=True)


def test_initiate_transaction_is_signed_and_its_token_kept(paytm_order, paytm_api):
    assert paytm_api.problems == []
    initiate = paytm_api.requests[0]
    assert initiate["path"] == "/theia/api/v1/initiateTransaction"
    assert initiate["query"] == {"mid": PAYTM_MID, "orderId": paytm_order.reference}
    assert initiate["body"]["txnAmount"] == {"value": "698.00", "currency": "INR"}
    assert initiate["body"]["callbackUrl"] == "http://127.0.0.1:8080/checkout/paytm/callback"
    assert paytm_order.gateway_ref == paytm_api.orders[paytm_order.reference]["token"]


def test_the_js_checkout_page_loads_paytm_under_its_own_csp(paytm_order, paytm_api, client):
    page = client.get(f"/checkout/paytm/{paytm_order.id}")
    assert f'<script src="{paytm_api.url}/merchantpgpui/checkoutjs/merchants/{PAYTM_MID}.js" defer>' in page.text
    assert '<script src="/static/paytm_checkout.js" defer>' in page.text
    assert f'data-token="{paytm_order.gateway_ref}"' in page.text and 'data-amount="698.00"' in page.text
    assert f'action="{paytm_api.url}/theia/api/v1/showPaymentPage?mid={PAYTM_MID}&amp;orderId=' in page.text
    csp = page.headers["Content-Security-Policy"]
    assert f"script-src 'self' {paytm_api.url}" in csp and f"frame-src 'self' {paytm_api.url}" in csp
    assert f"form-action 'self' {paytm_api.url}" in csp
    # Other pages keep the strict policy.
    assert paytm_api.url not in client.get("/cart").headers["Content-Security-Policy"].split("form-action")[0]


def test_callback_and_notification_settle_the_order_once(paytm_order, paytm_api, client, app_env):
    paytm_api.pay(paytm_order.reference)
    fields = paytm_api.notification(paytm_order.reference)
    client.reset()  # Paytm's POST from the browser is cross-site: no session cookie comes with it
    response = post_form(client, "/checkout/paytm/callback", fields)
    assert response.status_int == 303 and response.headers["Location"].endswith(f"/orders/{paytm_order.id}/success")
    order = Order.get_by_id(paytm_order.id)
    assert order.status == "paid" and order.payment_ref == paytm_api.orders[order.reference]["txn_id"]
    assert any(r["path"] == "/v3/order/status" for r in paytm_api.requests)
    assert DownloadLink.select().count() == 2
    # The server-to-server notification with the same fields is the same event.
    response = post_form(client, "/webhooks/paytm", fields)
    assert response.status_int == 200 and response.json["duplicate"] is True
    assert WebhookEvent.select().count() == 1 and LedgerEntry.select().count() == 2
    assert any(m["Subject"].startswith(f"Invoice INV-{utcnow().year}-000001") for m in app_env.mails)


@pytest.mark.parametrize("path", ["/checkout/paytm/callback", "/webhooks/paytm"])
def test_a_forged_checksum_is_refused(paytm_order, paytm_api, client, path):
    paytm_api.pay(paytm_order.reference)
    forged = paytm_api.notification(paytm_order.reference, key="A" * 16)
    assert post_form(client, path, forged).status_int == 400
    tampered = paytm_api.notification(paytm_order.reference)
    tampered["TXNAMOUNT"] = "1.00"
    assert post_form(client, path, tampered).status_int == 400
    missing = paytm_api.notification(paytm_order.reference)
    del missing["CHECKSUMHASH"]
    assert post_form(client, path, missing).status_int == 400
    assert WebhookEvent.select().count() == 0 and Order.get_by_id(paytm_order.id).status == "pending"


def test_a_success_notification_is_checked_against_the_status_api(paytm_order, paytm_api, client):
    paytm_api.pay(paytm_order.reference)
    fields = paytm_api.notification(paytm_order.reference)
    paytm_api.orders[paytm_order.reference]["status"] = "PENDING"  # Paytm's own record says otherwise
    post_form(client, "/webhooks/paytm", fields)
    assert Order.get_by_id(paytm_order.id).status == "pending"
    record = JobRecord.get(JobRecord.name == "process_webhook")
    assert record.state == "pending" and "does not confirm" in record.last_error


def test_a_different_amount_at_paytm_fails_the_job(paytm_order, paytm_api, client):
    paytm_api.pay(paytm_order.reference)
    paytm_api.orders[paytm_order.reference]["amount"] = "1.00"
    post_form(client, "/webhooks/paytm", paytm_api.notification(paytm_order.reference))
    assert Order.get_by_id(paytm_order.id).status == "pending"
    assert "Paytm took 1.00" in FailedJob.get().message


def test_a_failed_payment_fails_the_order(paytm_order, paytm_api, client):
    paytm_api.pay(paytm_order.reference, succeed=False)
    post_form(client, "/checkout/paytm/callback", paytm_api.notification(paytm_order.reference))
    order = Order.get_by_id(paytm_order.id)
    assert order.status == "failed" and DownloadLink.select().count() == 0


def test_refund_through_paytm_and_its_webhook(paytm_order, paytm_api, client, make_user, app_env):
    paytm_api.pay(paytm_order.reference)
    post_form(client, "/webhooks/paytm", paytm_api.notification(paytm_order.reference))
    client.reset()
    login(client, make_user("admin"))
    page = client.get(f"/admin/orders/{paytm_order.id}")
    next(f for f in page.forms.values() if f.action.endswith("/refund")).submit()
    apply = next(r for r in paytm_api.requests if r["path"] == "/refund/apply")
    ref_id = f"RF-{paytm_order.reference}"
    assert apply["body"]["refId"] == ref_id and apply["body"]["refundAmount"] == "698.00"
    assert Refund.get().gateway_ref == ref_id and paytm_api.problems == []
    # Paytm accepts the refund: its webhook arrives while the refund is still pending.
    response = client.post("/webhooks/paytm", paytm_api.refund_webhook(ref_id),
                           headers={"Content-Type": "application/json"})
    assert response.status_int == 200 and Order.get_by_id(paytm_order.id).status == "paid"
    paytm_api.complete_refund(ref_id)
    response = client.post("/webhooks/paytm", paytm_api.refund_webhook(ref_id),
                           headers={"Content-Type": "application/json"})
    assert response.status_int == 200 and response.json["duplicate"] is False
    assert Order.get_by_id(paytm_order.id).status == "refunded"
    assert DownloadLink.select().where(DownloadLink.revoked_at.is_null()).count() == 0
    assert sum(entry.amount for entry in LedgerEntry.select()) == 0
    assert any(m["Subject"].endswith("was refunded") for m in app_env.mails)


def test_a_forged_refund_webhook_is_refused(paytm_order, paytm_api, client, make_user):
    paytm_api.pay(paytm_order.reference)
    post_form(client, "/webhooks/paytm", paytm_api.notification(paytm_order.reference))
    paytm_api.refunds["RF-x"] = {"order_id": paytm_order.reference, "amount": "698.00", "status": "TXN_SUCCESS",
                                 "refund_id": "1"}
    forged = paytm_api.refund_webhook("RF-x", key="B" * 16)
    response = client.post("/webhooks/paytm", forged, headers={"Content-Type": "application/json"},
                           expect_errors=True)
    assert response.status_int == 400
    response = client.post("/webhooks/paytm", "{not json", headers={"Content-Type": "application/json"},
                           expect_errors=True)
    assert response.status_int == 400
    assert Order.get_by_id(paytm_order.id).status == "paid" and WebhookEvent.select().count() == 1


def test_paytm_is_offered_only_for_rupees(client, make_user, paytm_api):
    login(client, make_user("customer"))
    add_to_cart(client, make_product(make_user("seller"), "Dollar product", 500, "USD"))
    page = client.get("/checkout")
    assert "Paytm" not in page.text and "No payment method can take this currency" in page.text
    token = page.forms[2]["csrf_token"].value
    response = client.post("/checkout", {"gateway": "paytm", "country": "IN", "csrf_token": token}, expect_errors=True)
    assert response.status_int == 400 and Order.select().count() == 0


# ---------------------------------------------------------------------------
# Times ahead of now
# ---------------------------------------------------------------------------


def india_time(seconds_from_now):
    import datetime

    from shop.payments.paytm_gateway import IST

    when = datetime.datetime.now(IST) + datetime.timedelta(seconds=seconds_from_now)
    return when.strftime("%Y-%m-%d %H:%M:%S.0")


@pytest.mark.parametrize("path", ["/checkout/paytm/callback", "/webhooks/paytm"])
def test_a_notification_dated_in_the_future_is_refused(paytm_order, paytm_api, client, path):
    """Paytm signs no time; the transaction's own must not lie ahead of now (India's time)."""
    from paytmchecksum import PaytmChecksum

    from tests.shop_fixtures import PAYTM_KEY

    paytm_api.pay(paytm_order.reference)
    for ahead in (86400, 3600 * 24 * 365):
        fields = paytm_api.notification(paytm_order.reference)
        del fields["CHECKSUMHASH"]
        fields["TXNDATE"] = india_time(ahead)
        fields["CHECKSUMHASH"] = PaytmChecksum.generateSignature(dict(fields), PAYTM_KEY)
        assert post_form(client, path, fields).status_int == 400, ahead
    assert WebhookEvent.select().count() == 0 and Order.get_by_id(paytm_order.id).status == "pending"
    # A time a moment ago, or a clock a little ahead, is fine.
    fields = paytm_api.notification(paytm_order.reference)
    del fields["CHECKSUMHASH"]
    fields["TXNDATE"] = india_time(120)
    fields["CHECKSUMHASH"] = PaytmChecksum.generateSignature(dict(fields), PAYTM_KEY)
    assert post_form(client, path, fields).status_int in (200, 303)


def test_a_refund_webhook_dated_in_the_future_is_refused(paytm_order, paytm_api, client):
    import json

    from paytmchecksum import PaytmChecksum

    from tests.shop_fixtures import PAYTM_KEY

    paytm_api.pay(paytm_order.reference)
    paytm_api.refunds["RF-future"] = {"order_id": paytm_order.reference, "amount": "698.00",
                                      "status": "TXN_SUCCESS", "refund_id": "78"}
    body = json.loads(paytm_api.refund_webhook("RF-future"))["body"]
    body["acceptRefundTimestamp"] = india_time(7 * 86400)
    text = json.dumps(body)
    signed = '{"head": {"signature": "%s"}, "body": %s}' % (PaytmChecksum.generateSignature(text, PAYTM_KEY), text)
    response = client.post("/webhooks/paytm", signed.encode(), headers={"Content-Type": "application/json"},
                           expect_errors=True)
    assert response.status_int == 400 and "in the future" in response.json["error"]
    assert WebhookEvent.select().count() == 0
