"""Hostile webhook deliveries, beyond test_webhooks.py, test_stripe.py and test_paytm.py: bodies
that are not UTF-8, NUL characters, wrong content types, bodies without a length, oversize
Paytm forms, malformed Paytm JSON, and Paytm events out of order or repeated. Each is a 4xx
(as JSON) with nothing stored, or for repeats and reorders a correct final state with
nothing done twice; the app keeps serving."""

import json
from urllib.parse import urlencode

import pytest

import job_runtime
from shop.payments import testpay
from shop.payments import webhooks
from job_runtime.models import JobRecord
from models import DownloadLink, LedgerEntry, Order, WebhookEvent
from tests.bad_input import still_serving
from tests.conftest import login
from tests.shop_fixtures import (
    PAYTM_MID,
    STRIPE_KEY,
    STRIPE_WEBHOOK_SECRET,
    add_to_cart,
    checkout,
    make_product,
    sign_stripe,
    stripe_event,
)

NOT_UTF8 = b'{"id": "evt_\xff\xfe", "type": "checkout.session.completed"}'


@pytest.fixture
def stripe_keys(app_env):
    app_env.reload(STRIPE_SECRET_KEY=STRIPE_KEY, STRIPE_WEBHOOK_SECRET=STRIPE_WEBHOOK_SECRET)
    job_runtime.huey.immediate = False  # what the endpoint stores is seen; no job asks Stripe's API


def nothing_stored():
    return WebhookEvent.select().count() == 0 and JobRecord.select().count() == 0


def refused(response, status=400):
    assert response.status_int == status, (response.status, response.text[:300])
    assert response.content_type == "application/json" and response.json["error"]
    assert "Something went wrong" not in response.json["error"]
    return response


def post(client, path, body, content_type="application/json", **headers):
    return client.post(path, body, headers={"Content-Type": content_type, **headers}, expect_errors=True)


# ---------------------------------------------------------------------------
# Stripe and the test gateway (Stripe's format)
# ---------------------------------------------------------------------------


def test_a_body_that_is_not_utf8_is_a_400_even_when_signed(client, stripe_keys, app_env):
    for path in ("/webhooks/stripe", "/webhooks/test"):
        secret = STRIPE_WEBHOOK_SECRET
        if path == "/webhooks/test":
            app_env.reload(STRIPE_SECRET_KEY="", STRIPE_WEBHOOK_SECRET="")
            secret = testpay.webhook_secret()
        # The signature is an HMAC of bytes; a header made over the latin-1 reading of them.
        signature = sign_stripe(NOT_UTF8.decode("latin-1"), secret)
        refused(post(client, path, NOT_UTF8, **{"Stripe-Signature": signature}))
        refused(post(client, path, NOT_UTF8, **{"Stripe-Signature": "t=1,v1=00"}))
    assert nothing_stored()
    still_serving(client)


def test_nul_characters_in_a_signed_event_are_refused(client, stripe_keys):
    body = json.dumps(stripe_event("checkout_session_completed", event_id="evt_nul\u0000id"))
    assert "\\u0000" in body
    refused(post(client, "/webhooks/stripe", body.encode(), **{"Stripe-Signature": sign_stripe(body)}))
    raw = body.replace("\\u0000", "\x00")
    refused(post(client, "/webhooks/stripe", raw.encode(), **{"Stripe-Signature": sign_stripe(raw)}))
    assert nothing_stored()
    still_serving(client)


NOT_STRIPE_EVENTS = [
    ("application/x-www-form-urlencoded", b"id=evt_1&type=checkout.session.completed"),
    ("multipart/form-data; boundary=zz",
     b"--zz\r\nContent-Disposition: form-data; name=\"id\"\r\n\r\nevt_1\r\n--zz--\r\n"),
    ("text/plain", b"checkout.session.completed evt_1"),
    ("application/json", b""),
    ("application/json", b"null"),
    ("application/json", b'"a string"'),
    ("application/json", b'{"id": "evt_1", "type": "checkout.session.completed", "data": {"object": []}}'),
    ("application/json", b'{"id": "evt_1", "type": ["x"], "data": {"object": {"id": "cs_1"}}}'),
    ("application/json", b"[" * 5000 + b"]" * 5000),
]


def test_signed_bodies_that_are_not_stripe_events_are_refused(client, stripe_keys):
    for content_type, body in NOT_STRIPE_EVENTS:
        signature = sign_stripe(body.decode())
        refused(post(client, "/webhooks/stripe", body, content_type, **{"Stripe-Signature": signature}))
    assert nothing_stored()
    still_serving(client)


def test_a_forged_form_post_to_the_stripe_endpoint_is_refused(client, stripe_keys):
    response = post(client, "/webhooks/stripe", urlencode({"id": "evt_1", "type": "charge.refunded"}).encode(),
                    "application/x-www-form-urlencoded")
    assert refused(response).json["error"] == "Missing Stripe-Signature header."
    assert nothing_stored()


def test_a_body_without_a_length_is_refused(client, stripe_keys):
    body = json.dumps(stripe_event("checkout_session_completed")).encode()
    response = client.post("/webhooks/stripe", body, headers={
        "Content-Type": "application/json", "Transfer-Encoding": "chunked",
        "Stripe-Signature": sign_stripe(body.decode())}, expect_errors=True)
    assert response.status_int in (400, 411)
    assert nothing_stored()
    still_serving(client)


def test_replays_with_fresh_signatures_are_one_event(client, stripe_keys):
    event = stripe_event("checkout_session_expired", event_id="evt_replayed")
    body = json.dumps(event)
    answers = [post(client, "/webhooks/stripe", body.encode(),
                    **{"Stripe-Signature": sign_stripe(body, timestamp=None)}).json for _ in range(5)]
    assert [answer["duplicate"] for answer in answers] == [False, True, True, True, True]
    assert WebhookEvent.select().count() == 1
    assert JobRecord.select().where(JobRecord.name == "process_webhook").count() == 1


# ---------------------------------------------------------------------------
# Paytm: forms and JSON
# ---------------------------------------------------------------------------


@pytest.fixture
def paytm_order(client, make_user, paytm_api):
    """A customer's pending Paytm order of two products."""
    login(client, make_user("customer"))
    add_to_cart(client, make_product(make_user("seller"), "Tabla loops", 49900, "INR"))
    add_to_cart(client, make_product(make_user("seller"), "Rangoli patterns", 19900, "INR"))
    assert checkout(client, "paytm").status_int == 303
    client.reset()  # gateway posts come without the customer's cookies
    return Order.get()


def form(client, path, fields):
    return post(client, path, urlencode(fields).encode(), "application/x-www-form-urlencoded")


PAYTM_PATHS = ["/webhooks/paytm", "/checkout/paytm/callback"]


@pytest.mark.parametrize("path", PAYTM_PATHS)
def test_paytm_form_bytes_that_are_not_utf8_are_a_400(client, paytm_order, paytm_api, path):
    paytm_api.pay(paytm_order.reference)
    fields = paytm_api.notification(paytm_order.reference)
    body = urlencode(fields).encode() + b"&BANKNAME=\xff\xfeBank&\xc3\x28=x"
    response = post(client, path, body, "application/x-www-form-urlencoded")
    assert response.status_int == 400 and "not UTF-8 text" in response.text
    assert nothing_stored() and Order.get_by_id(paytm_order.id).status == "pending"
    # The same notification, sent properly, still settles the order.
    assert form(client, path, fields).status_int in (200, 303)
    assert Order.get_by_id(paytm_order.id).status == "paid"


@pytest.mark.parametrize("path", PAYTM_PATHS)
def test_paytm_form_fields_with_nul_are_a_400(client, paytm_order, paytm_api, path):
    paytm_api.pay(paytm_order.reference)
    fields = paytm_api.notification(paytm_order.reference)
    fields["RESPMSG"] = "Txn\x00Success"
    response = form(client, path, fields)
    assert response.status_int == 400 and "contains a NUL character" in response.text
    assert nothing_stored()
    still_serving(client)


@pytest.mark.parametrize("path", PAYTM_PATHS)
def test_an_oversize_paytm_form_is_a_413(client, paytm_order, paytm_api, path):
    paytm_api.pay(paytm_order.reference)
    fields = paytm_api.notification(paytm_order.reference)
    fields["PADDING"] = "x" * (webhooks.MAX_BODY_BYTES + 10)
    assert form(client, path, fields).status_int == 413
    assert nothing_stored()
    still_serving(client)


MALFORMED_PAYTM = [
    ("application/json", b"[]"),
    ("application/json", b"{}"),
    ("application/json", b'{"head": "x", "body": {}}'),
    ("application/json", b'{"head": {"signature": "abc"}, "body": []}'),
    ("application/json", b'{"head": {"signature": "abc"}, "body": {"orderId": "x"}, "body": {"refId": "y"}}'),
    ("application/json", b'{"head": {"signature": ["a"]}, "body": {"orderId": "x", "refId": "y"}}'),
    ("application/json", b'{"body": {"orderId": "\xff"}}'),
    ("application/json", b"{" * 3000),
    ("application/json", b"[" * 5000 + b"]" * 5000),
    ("application/x-www-form-urlencoded", b'{"head": {"signature": "abc"}, "body": {"orderId": "x"}}'),
    ("text/plain", b"ORDERID=x&STATUS=TXN_SUCCESS"),
    ("application/x-www-form-urlencoded", b""),
    ("application/x-www-form-urlencoded", b"CHECKSUMHASH=%%%%&&&==="),
]


def test_malformed_paytm_deliveries_are_refused(client, paytm_order, paytm_api):
    for content_type, body in MALFORMED_PAYTM:
        refused(post(client, "/webhooks/paytm", body, content_type))
    assert nothing_stored()
    still_serving(client)


def test_a_paytm_notification_in_the_json_format_is_refused(client, paytm_order, paytm_api):
    """The form fields of a real notification, sent as JSON: the content type decides the format."""
    paytm_api.pay(paytm_order.reference)
    fields = paytm_api.notification(paytm_order.reference)
    refused(post(client, "/webhooks/paytm", json.dumps(fields).encode()))
    assert nothing_stored() and Order.get_by_id(paytm_order.id).status == "pending"


def test_paytm_notifications_out_of_order_end_paid_once(client, paytm_order, paytm_api, app_env):
    """A PENDING notification arriving after the success one, each delivered twice."""
    reference = paytm_order.reference
    paytm_api.orders[reference]["status"] = "PENDING"
    pending = paytm_api.notification(reference)
    paytm_api.pay(reference)
    success = paytm_api.notification(reference)
    for fields in (success, pending, success, pending):
        assert form(client, "/webhooks/paytm", fields).status_int == 200
    order = Order.get_by_id(paytm_order.id)
    assert order.status == "paid"
    assert WebhookEvent.select().count() == 2
    assert DownloadLink.select().count() == 2 and LedgerEntry.select().count() == 2
    assert len([m for m in app_env.mails if m["Subject"].endswith("is ready to download")]) == 1


def test_a_paytm_refund_webhook_before_the_payment_notification_wins(client, paytm_order, paytm_api):
    """Out of order: Paytm paid and refunded before its payment notification reached us."""
    reference = paytm_order.reference
    paytm_api.pay(reference)
    paytm_api.refunds["RF-early"] = {"order_id": reference, "amount": "698.00", "status": "TXN_SUCCESS",
                                     "refund_id": "77"}
    response = post(client, "/webhooks/paytm", paytm_api.refund_webhook("RF-early").encode())
    assert response.status_int == 200
    for _ in range(2):
        assert form(client, "/webhooks/paytm", paytm_api.notification(reference)).status_int == 200
    order = Order.get_by_id(paytm_order.id)
    assert order.status == "refunded"
    assert DownloadLink.select().where(DownloadLink.revoked_at.is_null()).count() == 0
    assert sum(entry.amount for entry in LedgerEntry.select()) == 0


def test_a_signed_paytm_refund_webhook_with_nul_in_its_ids_is_refused(client, paytm_order, paytm_api):
    """JSON can carry a NUL as \\u0000; it reaches no query and no stored event id."""
    from paytmchecksum import PaytmChecksum

    from tests.shop_fixtures import PAYTM_KEY

    for ids in ({"orderId": "ORD\u0000", "refId": "RF-1"}, {"orderId": paytm_order.reference, "refId": "RF\u0000"}):
        body = json.dumps({"mid": PAYTM_MID, "refundAmount": "698.00", **ids})
        signed = '{"head": {"signature": "%s"}, "body": %s}' % (PaytmChecksum.generateSignature(body, PAYTM_KEY), body)
        refused(post(client, "/webhooks/paytm", signed.encode()))
    assert nothing_stored()
    still_serving(client)
