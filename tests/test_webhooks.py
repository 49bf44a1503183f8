"""The webhook endpoints: signatures checked on the raw body, forged, stale, malformed and
oversize deliveries refused with a 4xx and nothing stored, each event stored once, the work
left to a job."""

import json
import time

import pytest

import job_runtime
from shop.payments import testpay
from shop.payments import webhooks
from job_runtime.models import JobRecord
from models import WebhookEvent
from tests.shop_fixtures import STRIPE_KEY, STRIPE_WEBHOOK_SECRET, post_stripe_event, sign_stripe, stripe_event


@pytest.fixture
def stripe_keys(app_env):
    app_env.reload(STRIPE_SECRET_KEY=STRIPE_KEY, STRIPE_WEBHOOK_SECRET=STRIPE_WEBHOOK_SECRET)


def nothing_stored():
    return WebhookEvent.select().count() == 0 and JobRecord.select().count() == 0


def completed(event_id="evt_webhook_test_1"):
    return stripe_event("checkout_session_completed", event_id=event_id)


def test_a_forged_signature_is_refused(client, stripe_keys):
    response = post_stripe_event(client, completed(), secret="whsec_not_the_shops")
    assert response.status_int == 400
    assert response.json == {"error": "The signature does not match, or its timestamp is too old."}
    assert nothing_stored()


def test_a_stale_signature_is_refused(client, stripe_keys):
    response = post_stripe_event(client, completed(), timestamp=int(time.time()) - 301)
    assert response.status_int == 400 and nothing_stored()
    # Inside Stripe's 300 s tolerance the same event is fine.
    assert post_stripe_event(client, completed(), timestamp=int(time.time()) - 250).status_int == 200


@pytest.mark.parametrize("path", ["/webhooks/stripe", "/webhooks/test"])
def test_a_signature_dated_in_the_future_is_refused(client, stripe_keys, app_env, path):
    """Stripe's helper checks only the past: a signature dated a day ahead stayed valid."""
    if path == "/webhooks/test":  # the test gateway exists only while Stripe is not configured
        app_env.reload(STRIPE_SECRET_KEY="", STRIPE_WEBHOOK_SECRET="")
    secret = STRIPE_WEBHOOK_SECRET if path == "/webhooks/stripe" else testpay.webhook_secret()
    job_runtime.huey.immediate = False  # only what the endpoint stores is looked at
    for ahead in (301, 3600, 86400 * 365, 10 ** 12):
        response = post_stripe_event(client, completed(f"evt_future_{ahead}"), secret=secret, path=path,
                                     timestamp=int(time.time()) + ahead)
        assert response.status_int == 400, (ahead, response.text)
        assert response.json["error"] in ("The signature's timestamp is in the future.",
                                          "The signature does not match, or its timestamp is too old.")
    assert nothing_stored()
    # A clock a little ahead of ours is fine.
    assert post_stripe_event(client, completed("evt_near"), secret=secret, path=path,
                             timestamp=int(time.time()) + 250).status_int == 200


def test_a_signature_header_that_is_not_ascii_is_refused(client, stripe_keys):
    body = json.dumps(completed())
    good = sign_stripe(body)
    for signature in (good + ",v1=\u00e9", "t=1,v1=\u00ff\u00fe", good.replace("t=", "t=\u0661")):
        for raw in (signature.encode("utf-8").decode("latin-1"), signature.encode("latin-1", "replace").decode("latin-1")):
            response = post_stripe_event(client, body, signature=raw)
            assert response.status_int == 400, (signature, response.status)
    assert nothing_stored()


def test_a_body_changed_after_signing_is_refused(client, stripe_keys):
    body = json.dumps(completed())
    signature = sign_stripe(body)
    tampered = body.replace('"amount_total": 100', '"amount_total": 1')
    assert tampered != body
    response = post_stripe_event(client, tampered, signature=signature)
    assert response.status_int == 400 and nothing_stored()


@pytest.mark.parametrize("body", ["not json at all", "[1, 2, 3]", '{"id": "evt_1", "type": "checkout.session.completed"}',
                                  '{"id": 5, "type": "charge.refunded", "data": {"object": {"id": "ch_1"}}}'])
def test_malformed_events_are_refused_even_when_signed(client, stripe_keys, body):
    response = post_stripe_event(client, body)
    assert response.status_int == 400, response.text
    assert nothing_stored()


def test_a_missing_signature_header_is_refused(client, stripe_keys):
    response = client.post("/webhooks/stripe", json.dumps(completed()).encode(),
                           headers={"Content-Type": "application/json"}, expect_errors=True)
    assert response.status_int == 400 and response.json["error"] == "Missing Stripe-Signature header."
    assert nothing_stored()


def test_an_oversize_body_is_refused_before_it_is_read(client, stripe_keys):
    event = completed()
    event["data"]["object"]["metadata"]["padding"] = "x" * (webhooks.MAX_BODY_BYTES + 10)
    response = post_stripe_event(client, event)
    assert response.status_int == 413 and nothing_stored()


def test_unhandled_event_types_are_acknowledged_and_not_stored(client, stripe_keys):
    event = completed()
    event["type"] = "customer.created"
    response = post_stripe_event(client, event)
    assert response.status_int == 200 and response.json["ignored"] is True
    assert nothing_stored()


def test_an_event_is_stored_once_and_redeliveries_start_nothing(client, stripe_keys):
    job_runtime.huey.immediate = False  # nothing runs: only what the endpoint itself does is seen
    first = post_stripe_event(client, completed())
    assert first.status_int == 200 and first.json["duplicate"] is False
    second = post_stripe_event(client, completed())
    assert second.status_int == 200 and second.json["duplicate"] is True
    assert WebhookEvent.select().count() == 1
    record = JobRecord.get()
    assert (record.name, record.queue, record.state) == ("process_webhook", "high", "pending")
    event = WebhookEvent.get()
    assert event.processed_at is None and event.payload == json.dumps(completed())


def test_the_endpoint_leaves_the_work_to_the_job(client, stripe_keys):
    job_runtime.huey.immediate = False
    post_stripe_event(client, completed())
    # The answer came back while the job was still only queued (no consumer runs here).
    assert JobRecord.get().attempts == 0


def test_stripe_webhook_is_off_without_stripe(client):
    response = post_stripe_event(client, completed())
    assert response.status_int == 404 and nothing_stored()


def test_test_gateway_events_need_the_local_secret(client, stripe_keys, app_env):
    app_env.reload(STRIPE_SECRET_KEY="", STRIPE_WEBHOOK_SECRET="")  # test mode again
    event = stripe_event("checkout_session_completed", event_id="evt_test_1")
    # Signed with Stripe's secret, or anything but the shop's own test secret: refused.
    assert post_stripe_event(client, event, path="/webhooks/test").status_int == 400
    response = post_stripe_event(client, event, secret=testpay.webhook_secret(), path="/webhooks/test")
    assert response.status_int == 200
    assert WebhookEvent.get().gateway == "test"


def test_the_test_secret_is_not_accepted_by_the_stripe_endpoint(client, stripe_keys):
    response = post_stripe_event(client, completed(), secret=testpay.webhook_secret())
    assert response.status_int == 400 and nothing_stored()
