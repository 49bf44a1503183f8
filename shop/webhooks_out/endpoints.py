"""The endpoints sellers and admins register: a URL, the events it wants, its secret.

A seller's endpoint hears of their own orders, products, payouts and license keys; an admin's hears
of the whole shop's. An endpoint failing for WEBHOOK_DISABLE_AFTER_DAYS is disabled
(delivery.py); its owner enables it again from the endpoint page.
"""

from models import User, WebhookEndpoint, utcnow
from shop import security
from shop.errors import Forbidden, NotFound, ValidationError
from shop.webhooks_out.address_guard import check_url

# The events an endpoint may choose, with what the endpoint page says of each.
EVENT_TYPES = {
    "order.paid": "An order was paid (a seller hears of orders that hold their products).",
    "order.refunded": "A paid order was refunded.",
    "product.approved": "A product was approved and is on sale.",
    "product.rejected": "A product was rejected, with the reason.",
    "payout.paid": "A payout to a seller was recorded.",
    "license.activated": "A license key of a sale was activated on a new instance.",
}
TEST_EVENT = "webhook.test"
OWNER_ROLES = ("seller", "admin")
MAX_ENDPOINTS = 10


def register(owner, url, events):
    """A new endpoint of `owner`, or ValidationError naming each problem."""
    if owner.role not in OWNER_ROLES:
        raise Forbidden("Only sellers and admins register webhook endpoints.")
    problems = {}
    url = (url or "").strip()
    try:
        check_url(url)
    except ValidationError as exc:
        problems["url"] = str(exc)
    chosen = sorted(set(events or ()))
    if not chosen or any(event not in EVENT_TYPES for event in chosen):
        problems["events"] = "Choose at least one of the events listed."
    if WebhookEndpoint.select().where(WebhookEndpoint.owner == owner).count() >= MAX_ENDPOINTS:
        problems["url"] = f"An account has at most {MAX_ENDPOINTS} endpoints; delete one first."
    if problems:
        raise ValidationError("The endpoint was not added.", problems)
    return WebhookEndpoint.create(owner=owner, url=url, events=chosen, nonce=security.random_token(24))


def of_owner(owner, endpoint_id):
    endpoint = WebhookEndpoint.get_or_none((WebhookEndpoint.id == endpoint_id) & (WebhookEndpoint.owner == owner))
    if endpoint is None:
        raise NotFound("No such webhook endpoint.")
    return endpoint


def endpoints_of(owner):
    return list(WebhookEndpoint.select().where(WebhookEndpoint.owner == owner).order_by(WebhookEndpoint.id))


def delete(owner, endpoint_id):
    of_owner(owner, endpoint_id).delete_instance()


def enable(owner, endpoint_id):
    """Deliver to a disabled endpoint again; its failures count from now."""
    endpoint = of_owner(owner, endpoint_id)
    WebhookEndpoint.update(disabled_at=None, disabled_reason=None, failing_since=None).where(
        WebhookEndpoint.id == endpoint.id).execute()


def listening(event_type, audience_id):
    """The enabled endpoints that hear of `event_type` told to `audience_id` (a seller's
    id, or None for the shop's admins)."""
    query = (WebhookEndpoint.select().join(User, on=WebhookEndpoint.owner == User.id)
             .where(WebhookEndpoint.disabled_at.is_null()))
    query = query.where(User.role == "admin") if audience_id is None else query.where(User.id == audience_id)
    return [endpoint for endpoint in query.order_by(WebhookEndpoint.id) if event_type in endpoint.events]


def is_failing_too_long(endpoint, days, now=None):
    return endpoint.failing_since is not None and ((now or utcnow()) - endpoint.failing_since).days >= days


def anyone_listens(event_type):
    """Whether any enabled endpoint chose `event_type`. The shop has a handful of endpoints
    at most (MAX_ENDPOINTS per account), so their lists are read and looked through here."""
    chosen = WebhookEndpoint.select(WebhookEndpoint.events).where(WebhookEndpoint.disabled_at.is_null())
    return any(event_type in endpoint.events for endpoint in chosen)
