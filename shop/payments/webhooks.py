"""Gateway notifications: verify, store once, and (in the job) process.

The endpoints verify the signature on the raw body and store the event, unique
by gateway and event id, in the same transaction as the process_webhook job
that will act on it; a redelivery hits the unique index, answers 2xx and
starts nothing. The job asks the gateway's API before it changes an order
(see each gateway module), so the payload is only ever a hint.
"""

import logging
from typing import NamedTuple, Optional

from peewee import IntegrityError

from shop.payments import gateways
from shop.payments import outcomes
from shop.payments import paytm_gateway
from shop.payments import stripe_gateway
from shop.payments import testpay
from shop.errors import PayloadTooLarge, WebhookError
from models import Order, WebhookEvent, db, utcnow

log = logging.getLogger(__name__)

# The largest notification accepted. Stripe's events are a few KB; anything
# far larger is not a notification and is refused before it is parsed.
MAX_BODY_BYTES = 256 * 1024


class Received(NamedTuple):
    event: Optional[WebhookEvent]  # None for a duplicate or an event type we do not handle
    duplicate: bool = False
    # The event says the order is paid: process_webhook is chained with the invoice jobs.
    claims_payment: bool = False


def check_size(length):
    if length is None or length < 0:
        raise WebhookError("Send the notification with a Content-Length.")
    if length > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"A notification is at most {MAX_BODY_BYTES // 1024} KB.")


def _decode(body):
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise WebhookError("The body is not UTF-8 text.") from None


def store(gateway, parsed, payload):
    """Store a verified event once. `parsed` is (event id, type, order id hint, claims payment)."""
    if parsed is None:
        return Received(None)
    event_id, event_type, order_hint, claims_payment = parsed
    order = None
    if order_hint:
        order = Order.get_or_none((Order.id == order_hint) & (Order.gateway == gateway))
    try:
        with db.atomic():
            event = WebhookEvent.create(gateway=gateway, event_id=event_id[:255], event_type=event_type[:100],
                                        payload=payload, order=order)
    except IntegrityError:
        log.info("%s event %s delivered again; already stored", gateway, event_id)
        return Received(None, duplicate=True)
    return Received(event, claims_payment=bool(claims_payment and order is not None))


def receive_stripe(body, signature):
    check_size(len(body))
    return store("stripe", stripe_gateway.parse_webhook(body, signature), _decode(body))


def receive_test(body, signature):
    check_size(len(body))
    return store("test", testpay.parse_webhook(body, signature), _decode(body))


def receive_paytm_form(fields, payload):
    """A callback or server-to-server notification: form fields with a CHECKSUMHASH."""
    return store("paytm", paytm_gateway.parse_form(fields), payload)


def receive_paytm_json(body):
    check_size(len(body))
    text = _decode(body)
    return store("paytm", paytm_gateway.parse_json(text), text)


def process(event_id, handlers=None, after=None):
    """Act on a stored event (process_webhook's work); returns its Outcome. Idempotent.

    `handlers` maps (gateway, event type) to a function of the event for the events
    that are not about an order (Stripe Connect's, which the payouts act on).
    `after(outcome)` runs in the transaction that marks the event processed, so
    what it dispatches is asked for exactly when the event counts as done: a
    consumer killed in between leaves the event to be processed again, never
    processed with its consequences lost.
    """
    event = WebhookEvent.get_or_none(WebhookEvent.id == event_id)
    if event is None:
        return outcomes.ignored("missing")
    if event.processed_at is not None:
        return outcomes.Outcome(outcomes.Change.UNCHANGED, f"already processed: {event.outcome}")
    handler = (handlers or {}).get((event.gateway, event.event_type)) or gateways.module_for(event.gateway).process_event
    outcome = handler(event)
    with db.atomic():
        marked = WebhookEvent.update(processed_at=utcnow(), outcome=outcome.text[:1000]).where(
            (WebhookEvent.id == event.id) & WebhookEvent.processed_at.is_null()).execute()
        if marked and after is not None:
            after(outcome)
    log.info("%s event %s (%s): %s", event.gateway, event.event_id, event.event_type, outcome)
    return outcome
