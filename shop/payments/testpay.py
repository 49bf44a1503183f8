"""The test-mode gateway: a local payment page whose Pay and Decline buttons travel
the same asynchronous path as a real payment.

Design: this gateway speaks Stripe's language. Its events have the shape of
Stripe's (checkout.session.completed, checkout.session.async_payment_failed,
charge.refunded) and are signed with Stripe's scheme (`t=...,v1=HMAC`) under a
secret derived from APP_SECRET. They are POSTed over HTTP, by a job as Stripe's
servers would, to their own endpoint, /webhooks/test, which verifies them with
stripe.Webhook.construct_event exactly as /webhooks/stripe does. A separate
endpoint (rather than /webhooks/stripe) means a real Stripe endpoint never
accepts a locally signed event, and /webhooks/test does not exist at all when
test payments are off (always in production).

What process_webhook verifies a test event against is SimulatedPayment: the
gateway's own record of what the customer clicked, as Stripe's API is for
Stripe.
"""

import json
import logging
import time
import urllib.error
import urllib.request

from peewee import IntegrityError

from shop import config
from shop.accounts import notifications
from shop.orders import fulfilment
from shop.orders import orders
from shop.payments import outcomes
from shop.payments.outcomes import Change
from shop import security
from shop.payments import stripe_gateway
from shop.errors import PaymentError, ValidationError
from models import Order, SimulatedPayment, User, db, utcnow

log = logging.getLogger(__name__)

HTTP_TIMEOUT = 10
EVENT_TYPES = ("checkout.session.completed", "checkout.session.async_payment_failed", "charge.refunded")
TEST_EVENT_UNDELIVERED = "test_event_undelivered"


def webhook_secret():
    """The signing secret of test events, derived from APP_SECRET (so web and consumer agree)."""
    return "whsec_" + security.derive_key("test-payments-webhook").hex()


def decide(order, pay):
    """Record the customer's click (Pay or Decline) once; returns (SimulatedPayment, created).

    The first decision stands: a second click, or a click on the other button
    after a reload, changes nothing.
    """
    if order.gateway != "test":
        raise ValidationError("This order is not paid through the test gateway.")
    try:
        with db.atomic():
            return SimulatedPayment.create(order=order, status="succeeded" if pay else "failed",
                                           amount=order.total, currency=order.currency), True
    except IntegrityError:
        return SimulatedPayment.get(SimulatedPayment.order == order), False


def event_type_for(payment):
    return {"succeeded": "checkout.session.completed", "failed": "checkout.session.async_payment_failed",
            "refunded": "charge.refunded"}[payment.status]


def build_event(order, payment, event_type):
    """A Stripe-shaped event about the order's simulated payment."""
    session_id = f"cs_test_{order.reference}"
    payment_intent = f"pi_test_{order.reference}"
    if event_type == "charge.refunded":
        obj = {"id": f"ch_test_{order.reference}", "object": "charge", "amount": payment.amount,
               "amount_refunded": payment.amount, "currency": payment.currency.lower(), "refunded": True,
               "payment_intent": payment_intent, "metadata": {"order_id": str(order.id)}}
    else:
        paid = event_type == "checkout.session.completed"
        obj = {"id": session_id, "object": "checkout.session", "amount_total": payment.amount,
               "currency": payment.currency.lower(), "client_reference_id": str(order.id),
               "metadata": {"order_id": str(order.id), "order_reference": order.reference},
               "mode": "payment", "status": "complete", "payment_status": "paid" if paid else "unpaid",
               "payment_intent": payment_intent}
    return {"id": f"evt_test_{order.reference}_{event_type.replace('.', '_')}", "object": "event",
            "api_version": None, "created": int(time.time()), "data": {"object": obj}, "livemode": False,
            "pending_webhooks": 1, "request": {"id": None, "idempotency_key": None}, "type": event_type}


def send_event(order_id, event_type):
    """POST a signed event about the order's simulated payment to our own /webhooks/test."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"the test gateway sends no {event_type} events")
    order = Order.get_by_id(order_id)
    payment = SimulatedPayment.get(SimulatedPayment.order == order)
    body = json.dumps(build_event(order, payment, event_type), separators=(",", ":"))
    signature = stripe_gateway.stripe_library().WebhookSignature.generate_signature_header(body, webhook_secret())
    request = urllib.request.Request(f"{config.APP_URL}/webhooks/test", data=body.encode("utf-8"), method="POST",
                                     headers={"Content-Type": "application/json", "Stripe-Signature": signature})
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        raise PaymentError(f"the shop's webhook refused the test event: HTTP {exc.code}") from exc
    except (urllib.error.URLError, OSError) as exc:
        raise PaymentError(f"the shop's webhook at {config.APP_URL} could not be reached: {exc}") from exc
    return status


def delivery_failed(order_id, event_type, error):
    """The test gateway gave up on an event: tell the admins, on the notifications page and
    by email, since the order will wait for ever and nothing else would say why."""
    order = Order.get_or_none(Order.id == order_id)
    reference = order.reference if order else f"#{order_id}"
    log.error("the test gateway could not deliver %s for order %s to %s/webhooks/test: %s",
              event_type, reference, config.APP_URL, error)
    message = f"Test payment for order {reference} could not reach the shop at {config.APP_URL}."
    detail = (f"The test gateway sends its signed {event_type} event to {config.APP_URL}/webhooks/test and "
              f"gave up after its last attempt: {error}. If the shop is served at another address "
              f"(WEB_BIND {config.WEB_BIND}), set APP_URL to it and restart the web app and the consumer; "
              f"then retry the failed job from the queue's Failed page.")
    for admin in User.select().where(User.role == "admin").order_by(User.id):
        key = f"test-event-undelivered:{order_id}:{event_type}:{admin.id}"
        notifications.deliver(admin, TEST_EVENT_UNDELIVERED, key,
                              {"message": message, "detail": detail, "url": "/admin/queue/failed"},
                              f"[{config.APP_NAME}] {message}", f"{message}\n\n{detail}\n")


def parse_webhook(body, signature):
    parsed = stripe_gateway.parse_signed_event(body, signature, webhook_secret())
    if parsed is None or parsed[1] not in EVENT_TYPES:
        return None
    return parsed


def process_event(event):
    """Act on a stored test event after checking it against the SimulatedPayment."""
    data = json.loads(event.payload)
    event_type = data["type"]
    order = Order.get_or_none((Order.id == event.order_id) & (Order.gateway == "test")) if event.order_id else None
    if order is None:
        return outcomes.ignored("ignored: no test order of this shop")
    payment = SimulatedPayment.get_or_none(SimulatedPayment.order == order)
    if payment is None:
        raise PaymentError(f"no simulated payment for order {order.reference}")
    if payment.amount != order.total or payment.currency != order.currency:
        raise PaymentError(f"simulated payment is for {payment.amount} {payment.currency}")
    if event_type == "checkout.session.completed":
        if payment.status not in ("succeeded", "refunded"):
            return outcomes.ignored(f"ignored: the simulated payment is {payment.status}")
        changed = orders.mark_paid(order.id, payment_ref=f"pi_test_{order.reference}")
        return outcomes.of_update(changed, Change.PAID, order.id)
    if event_type == "checkout.session.async_payment_failed":
        if payment.status != "failed":
            return outcomes.ignored(f"ignored: the simulated payment is {payment.status}")
        changed = orders.mark_failed(order.id, "The test payment was declined.")
        return outcomes.of_update(changed, Change.FAILED, order.id)
    if payment.status != "refunded":
        return outcomes.ignored(f"ignored: the simulated payment is {payment.status}")
    changed = fulfilment.refund_order(order.id, "Refunded (test payment).")
    return outcomes.of_update(changed, Change.REFUNDED, order.id)


def reconcile(order):
    # The test gateway always sends its event; there is nothing to poll.
    return outcomes.waiting("the test gateway sends its own event")


def cancel(order):
    """The customer gave up on the test payment: only the shop's own page could pay the
    order, and it pays pending orders only, so closing the order here is final."""
    return outcomes.of_update(orders.mark_expired(order.id, orders.CANCELLED_BY_BUYER), Change.EXPIRED, order.id)


def request_refund(order, refund):
    """Refund the simulated payment; the caller then sends its charge.refunded event."""
    updated = SimulatedPayment.update(status="refunded", updated_at=utcnow()).where(
        (SimulatedPayment.order == order) & (SimulatedPayment.status.in_(("succeeded", "refunded")))).execute()
    if not updated:
        raise PaymentError(f"order {order.reference} has no successful test payment to refund")
    return f"re_test_{order.reference}"
