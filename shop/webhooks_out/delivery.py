"""One event to one endpoint: sign, POST, log the attempt, and say whether to try again.

deliver() is the body of the deliver_webhook job. It raises DeliveryFailed when the
receiver did not answer 2xx, and the job runtime retries with its backoff for about a
day; every attempt is a WebhookAttempt row, written before the POST (so an attempt cut
short by a crash shows as one without an answer) and completed after it. A delivery
already made is not made again, so a retried job sends nothing twice once an answer
was recorded; a receiver that keeps the event ids it has seen acts once either way.
"""

import enum
import http.client
import logging
import time

from shop import config, security
from shop.errors import NotFound
from models import User, WebhookAttempt, WebhookDelivery, WebhookEndpoint, db, utcnow
from shop.webhooks_out import address_guard, endpoints, events, signing

log = logging.getLogger(__name__)


class DeliveryFailed(Exception):
    """The receiver did not take the event; the job tries again later."""


class Outcome(enum.Enum):
    DELIVERED = "delivered"
    ALREADY_DELIVERED = "already delivered"
    ENDPOINT_DISABLED = "endpoint disabled"
    GONE = "gone"


def headers_for(event, endpoint, body, timestamp=None):
    return {"Content-Type": "application/json", "User-Agent": f"{config.APP_NAME} webhooks",
            "Marketplace-Event-Id": event.event_id, "Marketplace-Event-Type": event.type,
            signing.SIGNATURE_HEADER: signing.signature_header(signing.endpoint_secret(endpoint), body, timestamp)}


def _post(endpoint, event):
    """(status code or None, error text or None) of one POST of `event`."""
    body = event.body.encode("utf-8")
    try:
        target = address_guard.check_url(endpoint.url)
        status, answer = address_guard.post(target, body, headers_for(event, endpoint, body))
    except address_guard.AddressRefused as exc:
        return None, f"refused: {exc}"
    except (OSError, http.client.HTTPException) as exc:
        return None, f"{type(exc).__name__}: {exc}"[:500]
    if 200 <= status < 300:
        return status, None
    return status, f"HTTP {status}: {answer.decode('utf-8', 'replace')[:200]}"


def deliver(delivery_id, on_disabled=None):
    """Make one attempt at the delivery; returns its Outcome or raises DeliveryFailed.
    `on_disabled(endpoint_id)` runs inside the transaction that disables a failing endpoint
    (the job asks for the owner's email there)."""
    delivery = WebhookDelivery.get_or_none(WebhookDelivery.id == delivery_id)
    if delivery is None:
        return Outcome.GONE
    if delivery.delivered_at is not None:
        return Outcome.ALREADY_DELIVERED
    endpoint = WebhookEndpoint.get_by_id(delivery.endpoint_id)
    if endpoint.disabled_at is not None:
        return Outcome.ENDPOINT_DISABLED
    event = delivery.event
    with db.atomic():
        attempt = WebhookAttempt.create(delivery=delivery)
    started = time.perf_counter()
    status, error = _post(endpoint, event)
    duration_ms = int((time.perf_counter() - started) * 1000)
    now = utcnow()
    with db.atomic():
        WebhookAttempt.update(status_code=status, error=error, duration_ms=duration_ms).where(
            WebhookAttempt.id == attempt.id).execute()
        if error is None:
            WebhookDelivery.update(delivered_at=now).where(WebhookDelivery.id == delivery.id).execute()
            WebhookEndpoint.update(failing_since=None).where(WebhookEndpoint.id == endpoint.id).execute()
            return Outcome.DELIVERED
        WebhookEndpoint.update(failing_since=now).where(
            (WebhookEndpoint.id == endpoint.id) & WebhookEndpoint.failing_since.is_null()).execute()
    log.info("webhook delivery %s to endpoint %s failed: %s", delivery.id, endpoint.id, error)
    if disable_if_failing_too_long(endpoint.id, now, on_disabled):
        return Outcome.ENDPOINT_DISABLED
    raise DeliveryFailed(error)


def disable_if_failing_too_long(endpoint_id, now=None, on_disabled=None):
    """Disable the endpoint when it has failed for WEBHOOK_DISABLE_AFTER_DAYS; True when
    this call disabled it (the caller's job then asks for the owner's email)."""
    endpoint = WebhookEndpoint.get_by_id(endpoint_id)
    days = config.WEBHOOK_DISABLE_AFTER_DAYS
    if endpoint.disabled_at is not None or not endpoints.is_failing_too_long(endpoint, days, now):
        return False
    reason = f"Every delivery failed for {days} days."
    with db.atomic():
        changed = WebhookEndpoint.update(disabled_at=now or utcnow(), disabled_reason=reason).where(
            (WebhookEndpoint.id == endpoint_id) & WebhookEndpoint.disabled_at.is_null()).execute()
        if changed and on_disabled is not None:
            on_disabled(endpoint_id)
    return bool(changed)


def gave_up(delivery_id):
    """The job's retries are spent: the endpoint page shows the delivery as given up."""
    WebhookDelivery.update(gave_up_at=utcnow()).where(
        (WebhookDelivery.id == delivery_id) & WebhookDelivery.delivered_at.is_null()).execute()


def resend(owner, delivery_id, request_key):
    """"Send again" from the endpoint page: a new delivery of the same event (same id, same
    body) to the same endpoint. Returns (delivery, whether it is new); the form's request
    key makes a double click one delivery."""
    delivery = (WebhookDelivery.select().join(WebhookEndpoint)
                .where((WebhookDelivery.id == delivery_id) & (WebhookEndpoint.owner == owner)).first())
    if delivery is None:
        raise NotFound("No such delivery.")
    request_key = request_key[:64] or security.random_token(12)
    return events.add_delivery(delivery.event, delivery.endpoint, f"resend:{delivery.id}:{request_key}")


def log_of(endpoint, limit=50):
    """The endpoint's latest deliveries, each with its attempts, newest first."""
    deliveries = list(WebhookDelivery.select().where(WebhookDelivery.endpoint == endpoint)
                      .order_by(WebhookDelivery.id.desc()).limit(limit))
    attempts = {}
    for attempt in (WebhookAttempt.select().where(WebhookAttempt.delivery.in_([d.id for d in deliveries]))
                    .order_by(WebhookAttempt.id)):
        attempts.setdefault(attempt.delivery_id, []).append(attempt)
    return [(d, attempts.get(d.id, [])) for d in deliveries]


def owner_of(endpoint_id):
    return User.select().join(WebhookEndpoint, on=WebhookEndpoint.owner == User.id).where(
        WebhookEndpoint.id == endpoint_id).get()
