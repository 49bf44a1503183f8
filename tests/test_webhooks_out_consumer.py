"""Outgoing webhooks with a real `huey_consumer`: the consumer is SIGKILLed while the
receiver holds the delivery open, and after a restart every event has reached the
receiver at least once, each time with the same event id, body and a valid signature;
so a receiver that keeps the ids it has seen acts once on each."""

import json
from collections import defaultdict

import pytest

from job_runtime.models import FailedJob
from models import OutgoingEvent, WebhookAttempt, WebhookDelivery
from shop.orders import cart, orders
from shop.webhooks_out import endpoints, signing
from tests.conftest import wait_for
from tests.webhook_receiver import Receiver

pytestmark = [pytest.mark.consumer]


def test_a_consumer_killed_mid_delivery_delivers_every_event_at_least_once_unchanged(
        consumer, app_env, two_sellers, make_user):
    app_env.reload(WEBHOOK_ALLOW_PRIVATE="true")
    receiver = Receiver()
    try:
        hooks = [endpoints.register(two_sellers["sam"], receiver.url + "?for=sam", ["order.paid"]),
                 endpoints.register(two_sellers["priya"], receiver.url + "?for=priya", ["order.paid"]),
                 endpoints.register(make_user("admin"), receiver.url + "?for=shop", ["order.paid"])]
        receiver.stall.set()
        process = consumer(workers=4)
        customer = make_user("customer")
        for product in (two_sellers["presets"], two_sellers["ebook"]):
            cart.add(customer, product.id)
        order = orders.create_from_cart(customer, "test")
        assert orders.mark_paid(order.id, "pi_killed_mid_delivery")
        wait_for(lambda: len(receiver.requests) >= 1, timeout=60, message="a delivery held by the receiver")
        process.kill()  # the receiver has the body; the shop never hears its answer
        receiver.stall.clear()
        killed_during = len(receiver.requests)
        process = consumer(workers=4)
        wait_for(lambda: WebhookDelivery.select().where(WebhookDelivery.delivered_at.is_null()).count() == 0
                 and WebhookDelivery.select().count() == 3, timeout=90, message="every delivery")

        stored = {event.event_id: event.body.encode() for event in OutgoingEvent.select()}
        assert len(stored) == 3
        secrets = {hook.id: signing.endpoint_secret(hook) for hook in hooks}
        received = defaultdict(list)
        for headers, body in receiver.requests:
            assert any(signing.verify(secret, body, headers[signing.SIGNATURE_HEADER]) for secret in secrets.values())
            received[headers["Marketplace-Event-Id"]].append(body)
        assert set(received) == set(stored)
        for event_id, bodies in received.items():
            assert all(body == stored[event_id] for body in bodies) and json.loads(bodies[0])["id"] == event_id
        # The attempt cut short by the kill is in the log, without an answer.
        assert WebhookAttempt.select().where(WebhookAttempt.status_code.is_null()).count() >= killed_during
        assert FailedJob.select().count() == 0, process.output()
    finally:
        receiver.stop()
