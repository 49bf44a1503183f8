"""Stripe: hosted Checkout Sessions, verification of every event through the API, out-of-order
and duplicate deliveries, the success page's own settlement, refunds.

Stripe's API is localstripe (PaymentIntents, charges, refunds) behind a small server of
ours that implements Checkout Sessions and checks each request (tests/shop_fixtures.py).
Events are the complete payloads in tests/fixtures/stripe, rewritten for the test's
order and signed with stripe's own helper.
"""

import json

import pytest

from job_runtime.models import FailedJob, JobRecord
from models import DiscountCode, DownloadLink, LedgerEntry, Order, Refund, WebhookEvent, utcnow
from tests.conftest import login
from tests.shop_fixtures import (
    FIXTURES,
    add_to_cart,
    checkout,
    checkout_form,
    post_stripe_event,
    session_event,
    stripe_event,
)


@pytest.fixture
def stripe_order(client, make_user, two_sellers, stripe_api):
    """A customer who has checked out both products with Stripe: (order, session)."""
    login(client, make_user("customer"))
    add_to_cart(client, two_sellers["presets"])
    add_to_cart(client, two_sellers["ebook"])
    response = checkout(client, "stripe")
    assert response.status_int == 303, response.text
    order = Order.get()
    session = stripe_api.sessions[order.gateway_ref]
    assert response.headers["Location"] == session["url"]
    return order, session


def test_checkout_creates_a_hosted_session_for_the_order(stripe_order, stripe_api):
    order, session = stripe_order
    assert stripe_api.problems == []
    created = [r for r in stripe_api.requests if r["path"] == "/v1/checkout/sessions" and r["method"] == "POST"]
    params = created[0]["params"]
    assert created[0]["idempotency_key"] == f"checkout-session-{order.reference}"
    assert [(i["price_data"]["product_data"]["name"], i["price_data"]["unit_amount"]) for i in params["line_items"]] == [
        ("Field recorder presets", "1500"), ("Night photography e-book", "999")]
    assert params["client_reference_id"] == str(order.id) and params["metadata"]["order_id"] == str(order.id)
    assert params["success_url"] == f"http://127.0.0.1:8080/orders/{order.id}/success?session_id={{CHECKOUT_SESSION_ID}}"
    assert params["cancel_url"] == f"http://127.0.0.1:8080/cart?cancelled={order.reference}"
    assert session["amount_total"] == order.total == 2499


def test_a_double_click_makes_one_session(client, make_user, two_sellers, stripe_api):
    login(client, make_user("customer"))
    add_to_cart(client, two_sellers["presets"])
    form = checkout_form(client, "stripe")
    first = form.submit()
    order = Order.get()
    session = stripe_api.sessions[order.gateway_ref]
    assert first.headers["Location"] == session["url"]
    again = form.submit()  # the second click: its cart is empty now
    assert again.headers["Location"] == session["url"]
    keys = [r["idempotency_key"] for r in stripe_api.requests if r["path"] == "/v1/checkout/sessions"
            and r["method"] == "POST"]
    assert keys == [f"checkout-session-{order.reference}"] * 2
    assert len(stripe_api.sessions) == 1 and Order.select().count() == 1


def test_completed_event_is_verified_with_the_api_and_fulfils(stripe_order, stripe_api, client, app_env):
    order, session = stripe_order
    stripe_api.complete(session["id"])
    event = session_event("checkout_session_completed", order, session)
    response = post_stripe_event(client, event)
    assert response.status_int == 200 and response.json == {"received": True, "duplicate": False, "ignored": False}
    order = Order.get_by_id(order.id)
    assert order.status == "paid" and order.payment_ref == session["payment_intent"]
    # One round trip: the session, with its PaymentIntent expanded (read from localstripe).
    [retrieve] = [r for r in stripe_api.requests if r["path"] == f"/v1/checkout/sessions/{session['id']}"]
    assert retrieve["params"] == {"expand": ["payment_intent"]}
    assert not any(r["path"].startswith("/v1/payment_intents") for r in stripe_api.requests)
    assert DownloadLink.select().count() == 2 and LedgerEntry.select().count() == 2
    assert WebhookEvent.get().outcome == "paid"
    assert any(mail["Subject"].startswith(f"Invoice INV-{utcnow().year}-000001") for mail in app_env.mails)


def test_a_duplicate_delivery_starts_nothing(stripe_order, stripe_api, client):
    order, session = stripe_order
    stripe_api.complete(session["id"])
    event = session_event("checkout_session_completed", order, session)
    post_stripe_event(client, event)
    jobs_before = JobRecord.select().count()
    response = post_stripe_event(client, event)
    assert response.status_int == 200 and response.json["duplicate"] is True
    assert JobRecord.select().count() == jobs_before
    assert WebhookEvent.select().count() == 1 and LedgerEntry.select().count() == 2


def test_the_payload_alone_is_not_believed(stripe_order, client):
    order, session = stripe_order  # never paid at "Stripe"
    event = session_event("checkout_session_completed", order, session)  # but the payload says paid
    post_stripe_event(client, event)
    assert Order.get_by_id(order.id).status == "pending"
    record = JobRecord.get(JobRecord.name == "process_webhook")
    assert record.state == "pending" and "unpaid" in record.last_error  # retried after its backoff
    assert DownloadLink.select().count() == 0


def test_an_amount_that_does_not_match_fails_the_job_at_once(stripe_order, stripe_api, client):
    order, session = stripe_order
    stripe_api.complete(session["id"])
    session["amount_total"] = 100  # the gateway's record disagrees with the order
    post_stripe_event(client, session_event("checkout_session_completed", order, session))
    assert Order.get_by_id(order.id).status == "pending"
    failed = FailedJob.get()
    assert failed.name == "process_webhook" and failed.attempts == 1 and "2499" in failed.message
    assert failed.chain_step == 1 and failed.chain_total == 3  # the invoice steps never ran


def test_async_payment_failure_and_expiry(stripe_order, stripe_api, client):
    order, session = stripe_order
    post_stripe_event(client, session_event("checkout_session_async_payment_failed", order, session))
    order = Order.get_by_id(order.id)
    assert order.status == "failed" and order.status_reason == "The payment did not go through."


def test_expired_session_expires_the_order(stripe_order, stripe_api, client):
    order, session = stripe_order
    stripe_api.expire(session["id"])
    post_stripe_event(client, session_event("checkout_session_expired", order, session))
    assert Order.get_by_id(order.id).status == "expired"


def test_an_expiry_arriving_after_the_payment_changes_nothing(stripe_order, stripe_api, client):
    order, session = stripe_order
    stripe_api.complete(session["id"])
    post_stripe_event(client, session_event("checkout_session_completed", order, session))
    post_stripe_event(client, session_event("checkout_session_expired", order, session))
    assert Order.get_by_id(order.id).status == "paid"
    assert "ignored" in WebhookEvent.get(WebhookEvent.event_type == "checkout.session.expired").outcome


def refund_event(stripe_api, session):
    client = stripe_api.localstripe_client()
    intent = client.v1.payment_intents.retrieve(session["payment_intent"]).to_dict()
    charge = intent["latest_charge"]
    charge_id = charge["id"] if isinstance(charge, dict) else charge
    return stripe_event("charge_refunded", event_id=f"evt_refund_{charge_id}", **{
        "id": charge_id, "payment_intent": session["payment_intent"], "amount": session["amount_total"],
        "amount_refunded": session["amount_total"], "amount_captured": session["amount_total"],
        "currency": session["currency"]})


def test_a_refund_delivered_before_the_payment_wins(stripe_order, stripe_api, client):
    """Out of order: charge.refunded arrives (and is processed) before checkout.session.completed."""
    order, session = stripe_order
    stripe_api.complete(session["id"])
    stripe_api.localstripe_client().v1.refunds.create({"payment_intent": session["payment_intent"]})
    post_stripe_event(client, refund_event(stripe_api, session))
    assert Order.get_by_id(order.id).status == "refunded"  # found through the session's PaymentIntent
    post_stripe_event(client, session_event("checkout_session_completed", order, session))
    assert Order.get_by_id(order.id).status == "refunded"
    assert DownloadLink.select().count() == 0 and LedgerEntry.select().count() == 0


def test_the_success_page_settles_the_order_once(stripe_order, stripe_api, client, app_env):
    order, session = stripe_order
    stripe_api.complete(session["id"])
    page = client.get(f"/orders/{order.id}/success?session_id={session['id']}")
    assert Order.get_by_id(order.id).status == "paid"
    assert client.get(f"/orders/{order.id}/status.json").json["state"] == "ready"
    assert "Processing" in page.text or "ready" in page.text
    post_stripe_event(client, session_event("checkout_session_completed", order, session))
    assert WebhookEvent.get().outcome == "already paid"
    assert LedgerEntry.select().count() == 2 and DownloadLink.select().count() == 2
    confirmations = [m for m in app_env.mails if m["Subject"].endswith("is ready to download")]
    assert len(confirmations) == 1


def test_a_wrong_session_id_on_the_success_page_does_nothing(stripe_order, stripe_api, client):
    order, session = stripe_order
    stripe_api.complete(session["id"])
    client.get(f"/orders/{order.id}/success?session_id=cs_test_someone_else")
    assert Order.get_by_id(order.id).status == "pending"
    assert not JobRecord.select().where(JobRecord.name == "reconcile_order").exists()


def test_admin_refund_goes_through_stripe_and_takes_everything_back(stripe_order, stripe_api, client, make_user,
                                                                     app_env):
    order, session = stripe_order
    stripe_api.complete(session["id"])
    post_stripe_event(client, session_event("checkout_session_completed", order, session))
    client.reset()
    login(client, make_user("admin"))
    page = client.get(f"/admin/orders/{order.id}")
    form = next(f for f in page.forms.values() if f.action.endswith("/refund"))
    page = form.submit().follow()
    assert "Refund of order" in page.text
    refund = Refund.get()
    assert refund.status == "requested" and refund.gateway_ref.startswith("re_")
    refund_request = next(r for r in stripe_api.requests if r["path"] == "/v1/refunds")
    assert refund_request["idempotency_key"] == f"refund-{order.reference}"
    assert refund_request["params"] == {"payment_intent": session["payment_intent"]}
    assert Order.get_by_id(order.id).status == "paid"  # until Stripe says it is done
    post_stripe_event(client, refund_event(stripe_api, session))
    assert Order.get_by_id(order.id).status == "refunded"
    assert Refund.get().status == "succeeded"
    assert DownloadLink.select().where(DownloadLink.revoked_at.is_null()).count() == 0
    assert sum(entry.amount for entry in LedgerEntry.select()) == 0
    assert any(m["Subject"] == f"Your order {order.reference} was refunded" for m in app_env.mails)


@pytest.mark.parametrize("name", ["checkout_session_completed", "checkout_session_async_payment_failed",
                                  "checkout_session_expired", "charge_refunded"])
def test_every_fixture_payload_is_accepted_as_sent(name, client, stripe_api):
    body = (FIXTURES / f"{name}.json").read_text()
    response = post_stripe_event(client, body)
    assert response.status_int == 200, response.text
    event = WebhookEvent.get()
    assert event.event_id == json.loads(body)["id"] and event.payload == body
    assert event.order_id is None  # order 1001 is not ours: the job will find nothing to change


def test_cancel_returns_to_the_cart(stripe_order, client):
    order, _ = stripe_order
    page = client.get(f"/cart?cancelled={order.reference}")
    assert f"The payment for order {order.reference} was cancelled" in page.text


def test_cancelling_on_stripes_page_closes_the_order_and_gives_the_cart_back(stripe_order, stripe_api, client):
    order, session = stripe_order
    page = client.get(f"/cart?cancelled={order.reference}")
    assert "was cancelled" in page.text and "Field recorder presets" in page.text
    assert Order.get_by_id(order.id).status == "expired" and stripe_api.sessions[session["id"]]["status"] == "expired"
    purchases = client.get("/purchases").text
    assert order.reference not in purchases and "waiting for the payment" not in purchases.lower()
    again = checkout(client, "stripe")  # the cart can be bought again, in a new order and session
    assert again.status_int == 303 and Order.select().count() == 2


def test_a_discounted_order_sends_stripe_the_prices_paid(client, make_user, two_sellers, stripe_api):
    DiscountCode.create(code="SPRING", kind="percent", amount=20)
    login(client, make_user("customer"))
    add_to_cart(client, two_sellers["presets"])
    add_to_cart(client, two_sellers["ebook"])
    client.set_cookie("discount_code", "SPRING")
    assert checkout(client, "stripe").status_int == 303
    order = Order.get()
    session = stripe_api.sessions[order.gateway_ref]
    [created] = [r for r in stripe_api.requests if r["path"] == "/v1/checkout/sessions" and r["method"] == "POST"]
    assert [i["price_data"]["unit_amount"] for i in created["params"]["line_items"]] == ["1200", "799"]
    assert session["amount_total"] == order.total == 1999 and stripe_api.problems == []
    stripe_api.complete(session["id"])
    assert post_stripe_event(client, session_event("checkout_session_completed", order, session)).status_int == 200
    assert Order.get_by_id(order.id).status == "paid"
    assert sorted(entry.gross for entry in LedgerEntry.select()) == [799, 1200]
