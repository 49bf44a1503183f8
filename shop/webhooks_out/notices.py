"""Telling an endpoint's owner it was disabled: a notification row and an email, keyed by
the endpoint and the moment it was disabled, so a retried job sends nothing twice."""

from shop import config
from shop.accounts import notifications
from models import User, WebhookEndpoint

WEBHOOK_DISABLED = "webhook_disabled"


def endpoint_disabled(endpoint_id):
    endpoint = WebhookEndpoint.get_or_none(WebhookEndpoint.id == endpoint_id)
    if endpoint is None or endpoint.disabled_at is None:
        return None
    owner = User.get_by_id(endpoint.owner_id)
    url = f"{config.APP_URL}/account/webhooks/{endpoint.id}"
    data = {"endpoint_id": endpoint.id, "message": "A webhook endpoint was disabled.",
            "detail": f"{endpoint.url}: {endpoint.disabled_reason}", "url": url}
    text = (f"Hello {owner.name},\n\n"
            f"{config.APP_NAME} stopped sending events to your webhook endpoint\n{endpoint.url}\n"
            f"{endpoint.disabled_reason}\n\n"
            f"Once it answers again, enable it and send the missed events again: {url}\n")
    key = f"webhook-disabled:{endpoint.id}:{endpoint.disabled_at.isoformat()}"
    return notifications.deliver(owner, WEBHOOK_DISABLED, key, data, "A webhook endpoint was disabled", text)
