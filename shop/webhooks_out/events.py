"""The events the shop tells endpoints, each stored once per audience.

An event is told to the shop's admins (every detail) and to each seller it concerns
(only what that seller may see, as the API shows it: resources.py decides). Its row is
made once under a key of its type, subject and audience, with its id and body fixed,
so a retried job, a retried delivery or a "send again" all send the same bytes.
"""

import json
import types

from peewee import IntegrityError

from models import (LicenseActivation, LicenseKey, Order, OrderItem, OutgoingEvent, Payout, Product, ProductReview,
                    User, WebhookDelivery, db, utcnow)
from shop import security
from shop.api import resources
from shop.webhooks_out import endpoints

SHOP_AUDIENCE = None
# The shop's view of an order or a product: what an admin's API token sees.
_ADMIN_VIEW = types.SimpleNamespace(id=None, is_admin=True)


def _order_data(order_id, viewer):
    return resources.order_json_for(viewer)(resources.orders_query(_ADMIN_VIEW).where(
        Order.id == order_id).get())


def _order_audiences(order_id):
    sellers = [seller for (seller,) in OrderItem.select(OrderItem.seller).where(OrderItem.order == order_id)
               .distinct().order_by(OrderItem.seller).tuples()]
    yield SHOP_AUDIENCE, _order_data(order_id, _ADMIN_VIEW)
    for seller_id in sellers:
        yield seller_id, _order_data(order_id, User.get_by_id(seller_id))


def _review_audiences(review_id):
    review = ProductReview.get_by_id(review_id)
    product = resources.product_json(Product.get_by_id(review.product_id))
    data = {"product": product, "decision": review.decision, "reason": review.reason}
    return [(SHOP_AUDIENCE, data), (product["seller_id"], data)]


def _payout_audiences(payout_id):
    payout = resources.payout_json(Payout.get_by_id(payout_id))
    return [(SHOP_AUDIENCE, payout), (payout["seller_id"], payout)]


def _activation_audiences(activation_id):
    """The key as the API shows it, with the instance just activated. An instance
    deactivated before the job ran is gone (deactivating deletes it): nothing is told."""
    activation = LicenseActivation.get_or_none(LicenseActivation.id == activation_id)
    if activation is None:
        return []
    key = resources.license_keys_query(_ADMIN_VIEW).where(LicenseKey.id == activation.license_id).get()
    data = {"license_key": resources.license_key_json_for()(key), "instance": resources.activation_json(activation)}
    return [(SHOP_AUDIENCE, data), (key.seller_id, data)]


# Each event type: the subject its id names, and who hears of it with what.
AUDIENCES = {
    "order.paid": _order_audiences,
    "order.refunded": _order_audiences,
    "product.approved": _review_audiences,
    "product.rejected": _review_audiences,
    "payout.paid": _payout_audiences,
    "license.activated": _activation_audiences,
}


def _body(event_id, event_type, created, data):
    return json.dumps({"id": event_id, "type": event_type, "created": created.isoformat(timespec="seconds") + "Z",
                       "data": data}, separators=(",", ":"), sort_keys=True)


def record(event_type, key, audience_id, data):
    """The event stored under `key`, made now if it is new."""
    existing = OutgoingEvent.get_or_none(OutgoingEvent.key == key)
    if existing is not None:
        return existing
    event_id, created = "evt_" + security.random_token(16), utcnow()
    OutgoingEvent.insert(event_id=event_id, key=key, type=event_type, audience=audience_id, created_at=created,
                         body=_body(event_id, event_type, created, data)).on_conflict_ignore().execute()
    return OutgoingEvent.get(OutgoingEvent.key == key)


def add_delivery(event, endpoint, request_key):
    """The delivery of `event` to `endpoint` under `request_key`: (row, whether it is new).
    Two jobs or two clicks at once make one row; only the one that made it is told "new"."""
    existing = WebhookDelivery.get_or_none(WebhookDelivery.request_key == request_key)
    if existing is not None:
        return existing, False
    try:
        with db.atomic():  # a savepoint: a lost race leaves the caller's transaction usable
            return WebhookDelivery.create(event=event, endpoint=endpoint, request_key=request_key), True
    except IntegrityError:
        return WebhookDelivery.get(WebhookDelivery.request_key == request_key), False


def publish(event_type, subject_id):
    """Store the event for every audience with an endpoint listening, and a delivery to
    each such endpoint; returns the ids of the deliveries made now (the caller dispatches
    their jobs in the same transaction). Running it again makes nothing new."""
    made = []
    with db.atomic():
        for audience_id, data in AUDIENCES[event_type](subject_id):
            listening = endpoints.listening(event_type, audience_id)
            if not listening:
                continue
            event = record(event_type, f"{event_type}:{subject_id}:{audience_id or 'shop'}", audience_id, data)
            for endpoint in listening:
                delivery, new = add_delivery(event, endpoint, f"{event.id}:{endpoint.id}")
                if new:
                    made.append(delivery.id)
    return made


def test_event(endpoint, request_key):
    """A webhook.test event for `endpoint` alone (its page's button): (delivery, whether it
    is new). The form's request key makes a double click one event."""
    request_key = request_key or security.random_token(12)
    with db.atomic():
        event = record(endpoints.TEST_EVENT, f"{endpoints.TEST_EVENT}:{endpoint.id}:{request_key}",
                       endpoint.owner_id, {"endpoint_id": endpoint.id, "message": "A test event from the shop."})
        return add_delivery(event, endpoint, f"{event.id}:{endpoint.id}")
