"""Stripe: hosted Checkout Sessions, signed webhooks, verification through the API, refunds.

Nothing in a webhook's payload is trusted beyond "look at this object": the
job retrieves the Checkout Session (and its PaymentIntent) or the Charge from
Stripe's API and compares amount, currency and order with our order before
anything changes. The client honours STRIPE_API_BASE, so tests point it at a
local server, and every call carries its own timeout, shorter than the job's.
"""

import functools
import json
import logging
import time

from shop import config
from shop.accounts import guests
from shop.orders import fulfilment
from shop.orders import orders
from shop.payments import outcomes
from shop.payments.outcomes import Change
from shop.errors import PaymentError, WebhookError
from shop.tax import checkout as checkout_tax
from models import Order, User, WebhookEvent, db

log = logging.getLogger(__name__)

# Seconds per HTTP call to Stripe. process_webhook makes up to two calls, each retried once:
# 4 x 12 s stays inside its 60 s timeout.
HTTP_TIMEOUT = 12
SESSION_EVENTS = ("checkout.session.completed", "checkout.session.async_payment_succeeded",
                  "checkout.session.async_payment_failed", "checkout.session.expired")
# Stripe Connect's events, about the sellers' connected accounts and the payouts sent to them;
# shop/payouts/stripe_payouts.py acts on them (process_webhook is handed its handlers).
CONNECT_EVENTS = ("account.updated", "transfer.created", "transfer.updated", "transfer.reversed",
                  "payout.paid", "payout.failed")
HANDLED_EVENTS = SESSION_EVENTS + ("charge.refunded",) + CONNECT_EVENTS


class PaymentMismatch(PaymentError):
    """The gateway's record disagrees with our order (amount, currency, order id): never retried."""


class PaymentNotConfirmed(PaymentError):
    """The notification says paid but the gateway does not confirm it (yet): retried."""


def stripe_library():
    """The stripe library, imported on first use: it takes 0.1 to 0.3 s to import, and a
    consumer would otherwise pay that at every start, whether or not its jobs call Stripe."""
    import stripe
    return stripe


@functools.lru_cache(maxsize=4)
def _client(api_key, api_base):
    stripe = stripe_library()
    base = {"api": api_base} if api_base else None
    return stripe.StripeClient(api_key, base_addresses=base, max_network_retries=1,
                               http_client=stripe.RequestsClient(timeout=HTTP_TIMEOUT))


def client():
    return _client(config.STRIPE_SECRET_KEY, config.STRIPE_API_BASE)


def _plain(obj):
    """A StripeObject as plain dicts and lists (stripe 16's objects are not dicts)."""
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    return obj.to_dict() if hasattr(obj, "to_dict") else obj


def _call(description, func, *args, **kwargs):
    stripe = stripe_library()
    try:
        return func(*args, **kwargs)
    except stripe.StripeError as exc:
        raise PaymentError(f"Stripe refused to {description}: {exc.user_message or exc}") from exc


# ---------------------------------------------------------------------------
# Checkout
# ---------------------------------------------------------------------------


# Stripe Tax's code for digital products delivered as downloads ("General - Electronically Supplied Services").
DIGITAL_GOODS_TAX_CODE = "txcd_10000000"


def session_params(order, items, buyer):
    params = {
        "mode": "payment",
        "line_items": [{
            "quantity": 1,
            "price_data": {"currency": item.currency.lower(), "unit_amount": item.price,
                           "product_data": {"name": item.title[:250]}},
        } for item in items],
        "client_reference_id": str(order.id),
        "metadata": {"order_id": str(order.id), "order_reference": order.reference},
        # Copied onto the PaymentIntent too, so a refund made in Stripe's dashboard maps back.
        "payment_intent_data": {"metadata": {"order_id": str(order.id), "order_reference": order.reference}},
        "customer_email": guests.receipt_contact(order, buyer)[1],
        "success_url": f"{config.APP_URL}/orders/{order.id}/success?session_id={{CHECKOUT_SESSION_ID}}",
        "cancel_url": f"{config.APP_URL}/cart?cancelled={order.reference}",
    }
    if config.TAX_CALCULATION == "stripe":
        # Stripe Tax instead of the rate table: Stripe asks for the address and works the tax
        # out on its page; settle_session records what it charged.
        params["automatic_tax"] = {"enabled": True}
        params["billing_address_collection"] = "required"
        params["tax_id_collection"] = {"enabled": True}
        behaviour = "inclusive" if config.PRICES_INCLUDE_TAX else "exclusive"
        for line in params["line_items"]:
            line["price_data"]["tax_behavior"] = behaviour
            line["price_data"]["product_data"]["tax_code"] = DIGITAL_GOODS_TAX_CODE
    return params


def card_country(intent):
    """The country of the card that paid, where Stripe reports it (the intent's latest charge)."""
    charge = intent.get("latest_charge") if isinstance(intent, dict) else None
    if not isinstance(charge, dict):
        charges = ((intent or {}).get("charges") or {}).get("data") or []
        charge = charges[-1] if charges and isinstance(charges[-1], dict) else None
    card = ((charge or {}).get("payment_method_details") or {}).get("card") or {}
    country = card.get("country")
    return country if isinstance(country, str) and len(country) == 2 else None


def start_checkout(order):
    """Create (once per order) the hosted Checkout Session; returns the URL to send the buyer to.

    The idempotency key is derived from the order, so a double click, or two
    browser tabs, get the same session back from Stripe.
    """
    items = orders.items_of(order)
    buyer = User.get_by_id(order.buyer_id)
    session = _call("create the checkout session", client().v1.checkout.sessions.create,
                    session_params(order, items, buyer),
                    {"idempotency_key": f"checkout-session-{order.reference}"})
    orders.set_gateway_ref(order.id, session.id, session.url)
    return session.url


# ---------------------------------------------------------------------------
# Webhooks
# ---------------------------------------------------------------------------


def parse_webhook(body, signature):
    """Verify a delivery and describe it: (event id, type, order id hint, claims payment), or None
    for an event type we do not handle. Raises WebhookError for anything forged, stale or malformed.
    """
    connect_secret = config.STRIPE_CONNECT_WEBHOOK_SECRET
    if connect_secret:
        # Stripe sends connected accounts' events from a Connect endpoint, signed with its
        # own secret, to the same URL: a delivery is genuine if either secret signed it.
        try:
            return parse_signed_event(body, signature, config.STRIPE_WEBHOOK_SECRET)
        except WebhookError:
            return parse_signed_event(body, signature, connect_secret)
    return parse_signed_event(body, signature, config.STRIPE_WEBHOOK_SECRET)


# How far a signature's time may be from ours, either way. Stripe's helper checks only
# the past; a signature dated ahead would stay valid for a replay long after it was sent.
# Stripe's own default (stripe.Webhook.DEFAULT_TOLERANCE), written out so that importing
# this module does not import stripe.
TOLERANCE_SECONDS = 300


def signed_at(signature):
    """The time (t=) of a Stripe-Signature header that stripe has verified, read as stripe reads it."""
    for item in signature.split(","):
        key, _, value = item.partition("=")
        if key == "t":
            return int(value)
    raise WebhookError("The signature has no timestamp.")


def parse_signed_event(body, signature, secret):
    if not signature:
        raise WebhookError("Missing Stripe-Signature header.")
    # What stripe.Webhook.construct_event does, without its last step: it would
    # turn the whole event into StripeObjects, a few milliseconds per request
    # that an endpoint answering Stripe in milliseconds cannot spare.
    try:
        payload = body.decode("utf-8") if isinstance(body, bytes) else body
    except UnicodeDecodeError:
        raise WebhookError("The body is not UTF-8 text.") from None
    if not signature.isascii():  # stripe compares with compare_digest, which raises on such text
        raise WebhookError("The Stripe-Signature header is not ASCII text.")
    stripe = stripe_library()
    try:
        stripe.WebhookSignature.verify_header(payload, signature, secret, TOLERANCE_SECONDS)
    except stripe.SignatureVerificationError:
        raise WebhookError("The signature does not match, or its timestamp is too old.") from None
    if signed_at(signature) > time.time() + TOLERANCE_SECONDS:
        raise WebhookError("The signature's timestamp is in the future.")
    try:
        data = json.loads(payload)
    except (ValueError, RecursionError):  # RecursionError: arrays nested thousands deep
        raise WebhookError("The body is not a JSON event.") from None
    if not isinstance(data, dict):
        raise WebhookError("The body is not a JSON event.")
    try:
        event_id, event_type, obj = data["id"], data["type"], data["data"]["object"]
        # An id is stored, and PostgreSQL cannot store a NUL (which JSON can write as \u0000).
        if not isinstance(event_id, str) or "\x00" in event_id or not isinstance(event_type, str) \
                or not isinstance(obj, dict) or not isinstance(obj.get("id"), str):
            raise TypeError
    except (KeyError, TypeError):
        raise WebhookError("The event lacks an id, a type or an object.") from None
    if event_type not in HANDLED_EVENTS:
        return None
    # Only a hint for the admin's event list: the job finds the order from the API's answer.
    metadata = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    order_hint = _int(metadata.get("order_id")) or _int(obj.get("client_reference_id"))
    claims_payment = event_type == "checkout.session.async_payment_succeeded" or (
        event_type == "checkout.session.completed" and obj.get("payment_status") == "paid")
    return event_id, event_type, order_hint, claims_payment


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _order_for_session(session):
    metadata = session.get("metadata") or {}
    order_id = _int(metadata.get("order_id")) or _int(session.get("client_reference_id"))
    order = Order.get_or_none((Order.id == order_id) & (Order.gateway == "stripe")) if order_id else None
    if order is None:
        raise PaymentMismatch(f"checkout session {session.get('id')} names no order of ours ({order_id})")
    return order


def settle_session(order, session):
    """Mark the order paid if Stripe's own records show this session paid in full;
    None while the session is not paid."""
    if session.get("payment_status") != "paid":
        return None
    # With Stripe Tax, prices before tax are charged with the tax Stripe added on top.
    amount_tax = ((session.get("total_details") or {}).get("amount_tax") or 0) if order.tax_treatment == "stripe" else 0
    expected = checkout_tax.expected_stripe_total(order, amount_tax)
    if session.get("amount_total") != expected or (session.get("currency") or "").upper() != order.currency:
        raise PaymentMismatch(
            f"session {session['id']} is for {session.get('amount_total')} {session.get('currency')}, "
            f"order {order.reference} is for {expected} {order.currency}")
    intent = session.get("payment_intent")
    if isinstance(intent, str):
        intent = _plain(_call("retrieve the payment", client().v1.payment_intents.retrieve, intent))
    payment_intent = intent.get("id") if intent else None
    if intent:
        if intent.get("status") != "succeeded":
            raise PaymentNotConfirmed(f"payment {payment_intent} is {intent.get('status')}, not succeeded")
        if intent.get("amount") != expected or (intent.get("currency") or "").upper() != order.currency:
            raise PaymentMismatch(f"payment {payment_intent} is for {intent.get('amount')} {intent.get('currency')}")
    address = ((session.get("customer_details") or {}).get("address") or {})
    with db.atomic():
        if order.tax_treatment == "stripe":
            checkout_tax.record_stripe_tax(order, amount_tax, address.get("country"))
        checkout_tax.record_card_country(order.id, card_country(intent))
        changed = orders.mark_paid(order.id, payment_ref=payment_intent)
    return outcomes.of_update(changed, Change.PAID, order.id)


def process_event(event):
    """Act on a stored Stripe event after verifying it with the API; returns the outcome."""
    data = json.loads(event.payload)
    event_type, obj = data["type"], data["data"]["object"]
    if event_type in SESSION_EVENTS:
        # The PaymentIntent comes expanded in the same answer: one API round trip, not two.
        session = _plain(_call("retrieve the checkout session", client().v1.checkout.sessions.retrieve, obj["id"],
                               {"expand": ["payment_intent"]}))
        order = _order_for_session(session)
        if event_type in ("checkout.session.completed", "checkout.session.async_payment_succeeded"):
            outcome = settle_session(order, session)
            if outcome is None:
                if event_type == "checkout.session.async_payment_succeeded" or obj.get("payment_status") == "paid":
                    raise PaymentNotConfirmed(f"session {session['id']} is {session.get('payment_status')}")
                return outcomes.waiting("awaiting an asynchronous payment")
            return outcome
        if event_type == "checkout.session.async_payment_failed":
            if session.get("payment_status") == "paid":
                return settle_session(order, session)
            changed = orders.mark_failed(order.id, "The payment did not go through.")
            return outcomes.of_update(changed, Change.FAILED, order.id)
        # checkout.session.expired: only the order's current session can expire it.
        if session.get("status") != "expired" or session["id"] != order.gateway_ref:
            return outcomes.ignored("ignored: not the order's open session")
        return outcomes.of_update(orders.mark_expired(order.id), Change.EXPIRED, order.id)
    return _process_refund(event, obj["id"])


def _process_refund(event, charge_id):
    charge = _plain(_call("retrieve the charge", client().v1.charges.retrieve, charge_id))
    payment_intent = charge.get("payment_intent")
    if isinstance(payment_intent, dict):
        payment_intent = payment_intent.get("id")
    order = order_for_payment(payment_intent)
    if order is None:
        return outcomes.ignored(f"ignored: charge {charge_id} is not for an order of this shop")
    if event.order_id is None:
        # A charge names no order; link the event to it for the admin's order page.
        WebhookEvent.update(order=order).where(WebhookEvent.id == event.id).execute()
    if (charge.get("currency") or "").upper() != order.currency or charge.get("amount") != order.total:
        raise PaymentMismatch(f"charge {charge_id} is for {charge.get('amount')} {charge.get('currency')}")
    if not charge.get("refunded"):
        # Partial refunds are settled outside the shop; the order and its links stay as they are.
        return outcomes.Outcome(Change.UNCHANGED,
                                f"partial refund of {charge.get('amount_refunded')} recorded by Stripe; order unchanged")
    changed = fulfilment.refund_order(order.id, "Refunded through Stripe.")
    return outcomes.of_update(changed, Change.REFUNDED, order.id)


def order_for_payment(payment_intent):
    """Our order for a PaymentIntent, even before the payment's own event has been processed."""
    if not payment_intent:
        return None
    order = Order.get_or_none((Order.gateway == "stripe") & (Order.payment_ref == payment_intent))
    if order is not None:
        return order
    sessions = _plain(_call("list checkout sessions", client().v1.checkout.sessions.list,
                            {"payment_intent": payment_intent, "limit": 1}))
    for session in sessions.get("data") or []:
        try:
            return _order_for_session(session)
        except PaymentMismatch:
            return None
    return None


# ---------------------------------------------------------------------------
# The success page and refunds
# ---------------------------------------------------------------------------


def reconcile(order):
    """Check the order's session with Stripe and settle it if paid (the success page's path)."""
    if not order.gateway_ref:
        return outcomes.waiting("no checkout session yet")
    session = _plain(_call("retrieve the checkout session", client().v1.checkout.sessions.retrieve,
                           order.gateway_ref))
    return settle_session(order, session) or outcomes.waiting(f"session {session.get('id')} is not paid yet")


def cancel(order):
    """The buyer left Stripe's page with its back link: expire the session, so it can no longer
    be paid, and close the order (its products go back to the cart).

    Stripe refuses to expire a session that was paid meanwhile; then its record settles the order.
    """
    if not order.gateway_ref:
        return outcomes.of_update(orders.mark_expired(order.id, orders.CANCELLED_BY_BUYER), Change.EXPIRED, order.id)
    try:
        session = _plain(_call("expire the checkout session", client().v1.checkout.sessions.expire,
                               order.gateway_ref))
    except PaymentError:
        return reconcile(order)
    if session.get("status") == "expired":
        return outcomes.of_update(orders.mark_expired(order.id, orders.CANCELLED_BY_BUYER), Change.EXPIRED, order.id)
    return settle_session(order, session) or outcomes.waiting(f"session {session.get('id')} is still open")


def request_refund(order, refund):
    """Ask Stripe to refund the whole payment; charge.refunded then completes it."""
    if not order.payment_ref:
        raise PaymentError(f"order {order.reference} has no payment to refund")
    result = _call("refund the payment", client().v1.refunds.create, {"payment_intent": order.payment_ref},
                   {"idempotency_key": f"refund-{order.reference}"})
    return result.id
