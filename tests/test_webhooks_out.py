"""Outgoing webhooks delivered to a real HTTP server started by the test: signed bodies
the receiver verifies, one event per audience with only what it may see, retries while
the receiver answers 500 or is down, disabling after days of failures, and the guard
that keeps deliveries off loopback, private and link-local addresses."""

import datetime
import json

import pytest

import models
from job_runtime.models import JobRecord
from models import OutgoingEvent, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from shop.errors import ValidationError
from shop.webhooks_out import address_guard, delivery, endpoints, events, signing
from tests.shop_fixtures import make_product
from tests.test_api import paid_order
from tests.webhook_receiver import Receiver
import tasks


@pytest.fixture
def receiver(app_env):
    app_env.reload(WEBHOOK_ALLOW_PRIVATE="true")
    server = Receiver()
    yield server
    server.stop()


def verified_events(receiver, endpoint):
    """The bodies the receiver got for `endpoint`, each checked as a receiver would."""
    secret = signing.endpoint_secret(endpoint)
    found = []
    for headers, body in receiver.requests:
        if signing.verify(secret, body, headers[signing.SIGNATURE_HEADER]):
            event = json.loads(body)
            assert headers["Marketplace-Event-Id"] == event["id"]
            found.append(event)
    return found


def test_a_paid_order_is_told_signed_to_its_seller_and_to_the_shop(receiver, two_sellers, make_user):
    sam_hook = endpoints.register(two_sellers["sam"], receiver.url + "?who=sam", ["order.paid"])
    admin_hook = endpoints.register(make_user("admin"), receiver.url, ["order.paid", "order.refunded"])
    order = paid_order(make_user("customer"), [two_sellers["presets"], two_sellers["ebook"]])
    assert len(receiver.requests) == 2
    [to_sam] = verified_events(receiver, sam_hook)
    [to_shop] = verified_events(receiver, admin_hook)
    assert to_sam["type"] == to_shop["type"] == "order.paid" and to_sam["id"] != to_shop["id"]
    assert [item["title"] for item in to_sam["data"]["items"]] == ["Field recorder presets"]
    assert to_shop["data"]["total"] == order.total and len(to_shop["data"]["items"]) == 2
    # Priya has no endpoint: no event is stored for her.
    assert OutgoingEvent.select().count() == 2
    attempt = WebhookAttempt.get(WebhookAttempt.delivery == WebhookDelivery.get(WebhookDelivery.endpoint == sam_hook))
    assert attempt.status_code == 200 and attempt.error is None and attempt.duration_ms >= 0
    # A signature under another secret, or of other bytes, does not verify.
    headers, body = receiver.requests[0]
    assert not signing.verify("whsec_other", body, headers[signing.SIGNATURE_HEADER])
    assert not signing.verify(signing.endpoint_secret(sam_hook), body + b" ", headers[signing.SIGNATURE_HEADER])
    # Publishing again (a retried job) makes and sends nothing new.
    tasks.publish_event.run_now("order.paid", order.id)
    assert len(receiver.requests) == 2 and WebhookDelivery.select().count() == 2


def test_no_job_is_dispatched_while_no_endpoint_listens(two_sellers, make_user):
    paid_order(make_user("customer"), [two_sellers["presets"]])
    assert not JobRecord.select().where(JobRecord.name.in_(["publish_event", "deliver_webhook"])).exists()


def test_a_receiver_answering_500_or_down_is_tried_again_until_it_takes_the_event(receiver, two_sellers,
                                                                                   make_user):
    hook = endpoints.register(two_sellers["sam"], receiver.url, ["order.paid"])
    receiver.statuses = [500]
    order = paid_order(make_user("customer"), [two_sellers["presets"]])
    record = JobRecord.get(JobRecord.name == "deliver_webhook")
    assert record.state not in ("completed", "failed") and record.exceptions == 1  # waiting for its retry
    policy = tasks.deliver_webhook.policy
    assert policy.retry_until == 86400 and policy.backoff[:2] == (30, 120)
    [sent] = WebhookDelivery.select()
    assert sent.delivered_at is None and WebhookEndpoint.get_by_id(hook.id).failing_since is not None

    # Down: nothing listens at the address.
    WebhookEndpoint.update(url="http://127.0.0.1:9/hooks").where(WebhookEndpoint.id == hook.id).execute()
    with pytest.raises(delivery.DeliveryFailed, match="ConnectionRefused"):
        delivery.deliver(sent.id)
    WebhookEndpoint.update(url=receiver.url).where(WebhookEndpoint.id == hook.id).execute()
    assert delivery.deliver(sent.id) is delivery.Outcome.DELIVERED
    assert delivery.deliver(sent.id) is delivery.Outcome.ALREADY_DELIVERED
    attempts = [(a.status_code, (a.error or "")[:8]) for a in WebhookAttempt.select().order_by(WebhookAttempt.id)]
    assert attempts == [(500, "HTTP 500"), (None, "Connecti"), (200, "")]
    bodies = {body for _, body in receiver.requests}
    assert len(receiver.requests) == 2 and len(bodies) == 1  # the same event, byte for byte
    assert json.loads(bodies.pop())["data"]["id"] == order.id
    assert WebhookEndpoint.get_by_id(hook.id).failing_since is None


def test_an_endpoint_failing_for_days_is_disabled_and_its_owner_emailed(receiver, app_env, two_sellers, make_user):
    hook = endpoints.register(two_sellers["sam"], receiver.url, ["order.paid"])
    WebhookEndpoint.update(failing_since=models.utcnow() - datetime.timedelta(days=3, minutes=1)).where(
        WebhookEndpoint.id == hook.id).execute()
    receiver.statuses = [503]
    paid_order(make_user("customer"), [two_sellers["presets"]])
    disabled = WebhookEndpoint.get_by_id(hook.id)
    assert disabled.disabled_at is not None and "3 days" in disabled.disabled_reason
    assert JobRecord.get(JobRecord.name == "deliver_webhook").state == "completed"  # no more retries
    [mail] = [m for m in app_env.mails if m["Subject"] == "A webhook endpoint was disabled"]
    assert mail["To"] == two_sellers["sam"].email and receiver.url in mail.get_content()
    # A disabled endpoint hears of nothing, and no job is started for it.
    paid_order(make_user("customer"), [two_sellers["presets"]])
    assert len(receiver.requests) == 1
    endpoints.enable(two_sellers["sam"], hook.id)
    assert WebhookEndpoint.get_by_id(hook.id).disabled_at is None


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/hooks", "http://10.1.2.3/", "http://169.254.169.254/latest",
                                 "http://[::1]/", "http://localhost/", "http://[::ffff:127.0.0.1]/",
                                 "http://0.0.0.0/", "http://192.168.1.1/", "http://224.0.0.1/",
                                 # shared address space, site-local IPv6, and IPv4 inside 6to4 and Teredo
                                 "http://100.100.100.200/", "http://[fec0::1]/", "http://[2002:a9fe:a9fe::1]/",
                                 "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/"])
def test_the_guard_refuses_addresses_that_are_not_public(url):
    with pytest.raises(address_guard.AddressRefused, match="address"):
        address_guard.check_url(url)


@pytest.mark.parametrize("url", ["ftp://example.com/", "file:///etc/passwd", "gopher://example.com", "http://",
                                 "http://user:pw@93.184.215.14/", "http://[::1", "javascript:alert(1)"])
def test_the_guard_refuses_what_is_not_an_http_url(url):
    with pytest.raises(address_guard.AddressRefused):
        address_guard.check_url(url)


def test_a_public_address_passes_and_is_the_one_connected_to():
    target = address_guard.check_url("https://93.184.215.14:8443/in?x=1", allow_private=False)
    assert (target.scheme, target.address, target.port, target.path) == ("https", "93.184.215.14", 8443, "/in?x=1")


def test_with_the_setting_off_no_private_endpoint_is_registered_or_reached(app_env, two_sellers):
    receiver = Receiver()
    try:
        with pytest.raises(ValidationError) as refused:
            endpoints.register(two_sellers["sam"], receiver.url, ["order.paid"])
        assert "loopback" in refused.value.errors["url"]
        # One registered while the setting was on is not reached once it is off.
        app_env.reload(WEBHOOK_ALLOW_PRIVATE="true")
        hook = endpoints.register(two_sellers["sam"], receiver.url, ["order.paid"])
        app_env.reload(WEBHOOK_ALLOW_PRIVATE="false")
        made, _ = events.test_event(hook, "k1")
        with pytest.raises(delivery.DeliveryFailed, match="refused"):
            delivery.deliver(made.id)
        assert receiver.requests == []
    finally:
        receiver.stop()


def test_moderation_payouts_and_refunds_are_told_too(receiver, client, login_as, two_sellers, make_user):
    from shop.orders import fulfilment
    from models import LedgerEntry

    sam = two_sellers["sam"]
    hook = endpoints.register(sam, receiver.url, ["product.approved", "product.rejected", "payout.paid",
                                                  "order.refunded"])
    pending = make_product(sam, "Loops", status="pending")
    order = paid_order(make_user("customer"), [two_sellers["presets"]])
    LedgerEntry.update(created_at=models.utcnow() - datetime.timedelta(days=30)).execute()  # past the hold
    login_as("admin")
    page = client.get("/admin/products")
    next(f for f in page.forms.values() if f.action == f"/admin/products/{pending.id}/approve").submit()
    page = client.get("/admin/payouts")
    form = next(f for f in page.forms.values() if f.action == f"/admin/payouts/{sam.id}")
    form["reference"] = "BANK-7"
    form.submit()
    form.submit()  # the double click records one payout, and tells of one
    assert fulfilment.refund_order(order.id)
    got = verified_events(receiver, hook)
    assert [e["type"] for e in got] == ["product.approved", "payout.paid", "order.refunded"]
    assert got[0]["data"]["product"]["id"] == pending.id and got[0]["data"]["decision"] == "approved"
    assert got[1]["data"]["reference"] == "BANK-7" and got[2]["data"]["status"] == "refunded"
