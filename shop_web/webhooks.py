"""POST /webhooks/stripe, /webhooks/paytm and /webhooks/test (the test-mode gateway).

Each verifies the signature on the raw body, stores the event once and
dispatches its job in the same transaction, and answers at once: the work
happens in process_webhook on the high queue. Anything forged, stale,
malformed or oversize gets a 4xx (as JSON) and nothing is stored; a
redelivery gets a 2xx and starts nothing.
"""

from shop import config
import tasks
from shop.payments import stripe_gateway
from shop.payments import webhooks
from shop.errors import NotFound
from models import db
from shop_web.common import RouteTable, form_fields, header, json_response, request

routes = RouteTable()

# The web app imports stripe as it starts (the consumer only when a job calls Stripe):
# no webhook or checkout waits for it.
stripe_gateway.stripe_library()


def _raw_body():
    """The request body, refused before reading when it is larger than a notification can be."""
    webhooks.check_size(request.content_length)
    return request.body.read(webhooks.MAX_BODY_BYTES + 1)


def _answer(received):
    return json_response({"received": True, "duplicate": received.duplicate,
                          "ignored": received.event is None and not received.duplicate})


@routes.post("/webhooks/stripe", csrf=False)
def webhook_stripe():
    if not config.STRIPE_ENABLED:
        raise NotFound("Stripe is not configured in this shop.")
    body = _raw_body()
    with db.atomic():
        received = webhooks.receive_stripe(body, header("Stripe-Signature"))
        tasks.dispatch_webhook(received)
    return _answer(received)


@routes.post("/webhooks/paytm", csrf=False)
def webhook_paytm():
    """Paytm's server-to-server notifications: payments as form fields, refunds as JSON."""
    if not config.PAYTM_ENABLED:
        raise NotFound("Paytm is not configured in this shop.")
    body = _raw_body()
    with db.atomic():
        if (request.content_type or "").startswith("application/json"):
            received = webhooks.receive_paytm_json(body)
        else:
            fields = form_fields()
            received = webhooks.receive_paytm_form(fields, body.decode("utf-8", "replace"))
        tasks.dispatch_webhook(received)
    return _answer(received)


@routes.post("/webhooks/test", csrf=False)
def webhook_test():
    """The test-mode gateway's events: Stripe's format and signature scheme, a local secret."""
    if not config.TEST_PAYMENTS_ENABLED:
        raise NotFound("Test payments are switched off.")
    body = _raw_body()
    with db.atomic():
        received = webhooks.receive_test(body, header("Stripe-Signature"))
        tasks.dispatch_webhook(received)
    return _answer(received)
