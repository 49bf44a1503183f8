"""Paytm: Initiate Transaction, the JS checkout, the callback and notifications, refunds.

Every request to Paytm is signed and every message from Paytm is verified with
Paytm's own `paytmchecksum` library. The browser callback and the server-to-
server notification carry the same form fields and both become the same
stored event (so whichever arrives second is a duplicate); refund webhooks
arrive as JSON with the signature in `head`. As with Stripe, the job then asks
Paytm's Order Status (or Refund Status) API before changing anything.
PAYTM_HOST names the Paytm server (staging by default; tests use a local one).
"""

import datetime
import hashlib
import json
import logging
import urllib.error
import urllib.request

from shop import config, money
from shop.accounts import guests
from shop.orders import fulfilment
from shop.orders import orders
from shop.payments import outcomes
from shop.payments.outcomes import Change
from shop.errors import PaymentError, WebhookError
from models import Order, User

log = logging.getLogger(__name__)

# Seconds per HTTP call to Paytm: well inside process_webhook's 60 s.
HTTP_TIMEOUT = 15
SUCCESS, FAILURE, PENDING = "TXN_SUCCESS", "TXN_FAILURE", "PENDING"


class PaymentMismatch(PaymentError):
    """Paytm's record disagrees with our order: never retried."""


class PaymentNotConfirmed(PaymentError):
    """The notification says paid but the Order Status API does not confirm it (yet): retried."""


# ---------------------------------------------------------------------------
# Signing and verifying
# ---------------------------------------------------------------------------


def checksum_library():
    """Paytm's library, imported on first use: it loads pycryptodome, which every consumer
    start would otherwise pay for (about 40 ms), whether or not its jobs see Paytm."""
    from paytmchecksum import PaytmChecksum
    return PaytmChecksum


def sign(text_or_params):
    return checksum_library().generateSignature(text_or_params, config.PAYTM_MERCHANT_KEY)


def verify(text_or_params, signature):
    """True if `signature` is Paytm's checksum of the text or of the form fields."""
    if not signature or not isinstance(signature, str):
        return False
    try:
        return bool(checksum_library().verifySignature(text_or_params, config.PAYTM_MERCHANT_KEY, signature))
    except Exception:  # a forged checksum can be any bytes: bad base64, bad padding, not UTF-8
        return False


def raw_member(text, name):
    """The exact source text of top-level member `name` of the JSON object in `text`.

    Paytm signs the body object as it serialised it, so the signature must be
    checked against those very characters, not against a re-serialisation.
    """
    decoder = json.JSONDecoder()
    index = text.index("{") + 1
    while True:
        while text[index] in " \t\r\n,":
            index += 1
        if text[index] == "}":
            return None
        key, index = decoder.raw_decode(text, index)
        while text[index] in " \t\r\n":
            index += 1
        if text[index] != ":":
            raise ValueError("expected ':'")
        index += 1
        while text[index] in " \t\r\n":
            index += 1
        _, end = decoder.raw_decode(text, index)
        if key == name:
            return text[index:end]
        index = end


def _post(path, body):
    """POST a signed {"body", "head"} request to Paytm; returns the verified response body."""
    body_text = json.dumps(body, separators=(",", ":"))
    payload = '{"body":%s,"head":{"signature":"%s"}}' % (body_text, sign(body_text))
    request = urllib.request.Request(config.PAYTM_HOST + path, data=payload.encode("utf-8"),
                                     headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as response:
            text = response.read(1024 * 1024).decode("utf-8")
    except (urllib.error.URLError, OSError) as exc:
        raise PaymentError(f"Paytm {path} could not be reached: {exc}") from exc
    try:
        data = json.loads(text)
        signature = (data.get("head") or {}).get("signature")
        response_body = raw_member(text, "body")
    except (ValueError, AttributeError, IndexError):
        raise PaymentError(f"Paytm {path} answered something that is not a Paytm response") from None
    if signature and not verify(response_body, signature):
        raise PaymentError(f"Paytm {path} answered with a signature that does not verify")
    return data.get("body") or {}


def _result(body):
    info = body.get("resultInfo") or {}
    return info.get("resultStatus"), info.get("resultMsg") or ""


# ---------------------------------------------------------------------------
# Checkout
# ---------------------------------------------------------------------------


def callback_url():
    return f"{config.APP_URL}/checkout/paytm/callback"


def start_checkout(order):
    """Initiate the transaction (once per order) and keep its token; returns our payment page."""
    if not order.gateway_ref:
        buyer = User.get_by_id(order.buyer_id)
        body = {
            "requestType": "Payment", "mid": config.PAYTM_MID, "websiteName": config.PAYTM_WEBSITE,
            "orderId": order.reference, "callbackUrl": callback_url(),
            "txnAmount": {"value": money.decimal_amount(order.total, order.currency), "currency": order.currency},
            "userInfo": {"custId": f"CUST{buyer.id}", "email": guests.receipt_contact(order, buyer)[1]},
        }
        answer = _post(f"/theia/api/v1/initiateTransaction?mid={config.PAYTM_MID}&orderId={order.reference}", body)
        status, message = _result(answer)
        if status != "S" or not answer.get("txnToken"):
            raise PaymentError(f"Paytm could not start the payment: {message or status}")
        orders.set_gateway_ref(order.id, answer["txnToken"])
    return f"/checkout/paytm/{order.id}"


def checkout_page(order):
    """What the JS checkout page needs."""
    return {
        "script_url": f"{config.PAYTM_HOST}/merchantpgpui/checkoutjs/merchants/{config.PAYTM_MID}.js",
        "fallback_url": (f"{config.PAYTM_HOST}/theia/api/v1/showPaymentPage"
                         f"?mid={config.PAYTM_MID}&orderId={order.reference}"),
        "mid": config.PAYTM_MID,
        "order_id": order.reference,
        "token": order.gateway_ref,
        "amount": money.decimal_amount(order.total, order.currency),
    }


# ---------------------------------------------------------------------------
# Notifications: the browser callback, the server-to-server notification, refund webhooks
# ---------------------------------------------------------------------------


# Paytm signs no time of its own; its notifications carry the times of the transaction
# and the refund, in India's time. A replay is stopped by the event's unique id, and a
# late notification is normal (Paytm retries for days), but none can be dated ahead of
# now: that is refused, with the same tolerance as Stripe's signatures.
IST = datetime.timezone(datetime.timedelta(hours=5, minutes=30))
FUTURE_TOLERANCE_SECONDS = 300
TIME_FIELDS = ("TXNDATE", "txnTimestamp", "acceptRefundTimestamp", "userCreditInitiateTimestamp")


def paytm_time(text):
    """"2025-03-12 10:31:00.0" (India's time) as an aware datetime; None when it is not one."""
    if not isinstance(text, str):
        return None
    try:
        return datetime.datetime.strptime(text.strip()[:19], "%Y-%m-%d %H:%M:%S").replace(tzinfo=IST)
    except ValueError:
        return None


def check_not_in_future(fields, now=None):
    """Refuse a notification whose transaction or refund times lie ahead of now."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    limit = now + datetime.timedelta(seconds=FUTURE_TOLERANCE_SECONDS)
    for name in TIME_FIELDS:
        when = paytm_time(fields.get(name))
        if when is not None and when > limit:
            raise WebhookError(f"The notification's {name} is in the future.")


def parse_form(fields):
    """Verify a callback or notification (form fields with CHECKSUMHASH).

    Returns (event id, type, order id hint, claims payment). Raises WebhookError.
    """
    fields = {str(k): str(v) for k, v in fields.items()}
    checksum = fields.pop("CHECKSUMHASH", None)
    if not checksum:
        raise WebhookError("Missing CHECKSUMHASH.")
    if not verify(dict(fields), checksum):
        raise WebhookError("The checksum does not match.")
    check_not_in_future(fields)
    order_ref, status = fields.get("ORDERID"), fields.get("STATUS")
    if not order_ref or status not in (SUCCESS, FAILURE, PENDING) or fields.get("MID") != config.PAYTM_MID:
        raise WebhookError("The notification lacks ORDERID, STATUS or this shop's MID.")
    order = orders.find_by_reference(order_ref)
    event_id = f"txn:{order_ref}:{fields.get('TXNID') or '-'}:{status}"
    return event_id, f"payment.{status}", order.id if order else None, status == SUCCESS


def parse_json(text):
    """Verify a refund webhook ({"head": {"signature"}, "body": {...}}). Raises WebhookError."""
    try:
        data = json.loads(text)
        body_text = raw_member(text, "body")
        signature = (data.get("head") or {}).get("signature")
        body = data["body"]
    except (ValueError, AttributeError, IndexError, KeyError, TypeError, RecursionError):
        raise WebhookError("The body is not a Paytm webhook.") from None
    if not body_text or not verify(body_text, signature):
        raise WebhookError("The signature does not match.")
    if not isinstance(body, dict) or not _text(body.get("orderId")) or not _text(body.get("refId")):
        raise WebhookError("The refund webhook lacks orderId or refId.")
    check_not_in_future(body)
    if body.get("mid") not in (None, config.PAYTM_MID):
        raise WebhookError("The webhook is for another merchant.")
    order = orders.find_by_reference(body["orderId"])
    # Paytm sends several webhooks per refund (accepted, succeeded); each is its own event.
    digest = hashlib.sha256(body_text.encode("utf-8")).hexdigest()[:16]
    return f"refund:{body['refId']}:{digest}", "refund", order.id if order else None, False


def _text(value):
    """A non-empty string a database can hold (JSON can carry a NUL as \\u0000)."""
    return isinstance(value, str) and value and "\x00" not in value


def order_status(order):
    """Paytm's Order Status API for the order: the response body."""
    return _post("/v3/order/status", {"mid": config.PAYTM_MID, "orderId": order.reference})


def settle(order, status_body):
    """Act on an Order Status answer: the outcome when paid or failed, None while pending."""
    status, message = _result(status_body)
    if status == SUCCESS:
        if status_body.get("orderId") != order.reference:
            raise PaymentMismatch(f"status answer is for order {status_body.get('orderId')}")
        amount = money.minor_amount(status_body.get("txnAmount"), order.currency)
        if amount != order.total:
            raise PaymentMismatch(f"Paytm took {status_body.get('txnAmount')}, order {order.reference} "
                                  f"is for {money.decimal_amount(order.total, order.currency)}")
        changed = orders.mark_paid(order.id, payment_ref=status_body.get("txnId"))
        return outcomes.of_update(changed, Change.PAID, order.id)
    if status == FAILURE:
        changed = orders.mark_failed(order.id, message or "The payment did not go through.")
        return outcomes.of_update(changed, Change.FAILED, order.id)
    return None


def process_event(event):
    """Act on a stored Paytm event after asking Paytm's API; returns the outcome."""
    order = Order.get_or_none((Order.id == event.order_id) & (Order.gateway == "paytm")) if event.order_id else None
    if order is None:
        return outcomes.ignored("ignored: no order of this shop")
    if event.event_type == "refund":
        body = json.loads(event.payload)["body"]
        return _process_refund(order, body["refId"])
    outcome = settle(order, order_status(order))
    if outcome is None:
        if event.event_type == f"payment.{SUCCESS}":
            raise PaymentNotConfirmed(f"Paytm does not confirm order {order.reference} yet")
        return outcomes.waiting("pending at Paytm")
    return outcome


def _process_refund(order, ref_id):
    body = _post("/v2/refund/status", {"mid": config.PAYTM_MID, "orderId": order.reference, "refId": ref_id})
    status, message = _result(body)
    if status != SUCCESS:
        return outcomes.waiting(f"refund {ref_id} is {status or 'unknown'} at Paytm: {message}")
    refunded = money.minor_amount(body.get("totalRefundAmount") or body.get("refundAmount"), order.currency)
    if refunded is None or refunded < order.total:
        return outcomes.Outcome(Change.UNCHANGED,
                                f"partial refund of {body.get('refundAmount')} recorded by Paytm; order unchanged")
    changed = fulfilment.refund_order(order.id, "Refunded through Paytm.")
    return outcomes.of_update(changed, Change.REFUNDED, order.id)


def reconcile(order):
    return settle(order, order_status(order)) or outcomes.waiting("pending at Paytm")


def refund_id(order):
    return f"RF-{order.reference}"


def request_refund(order, refund):
    """Ask Paytm to refund the whole payment; its refund webhook completes it."""
    if not order.payment_ref:
        raise PaymentError(f"order {order.reference} has no Paytm transaction to refund")
    body = _post("/refund/apply", {
        "mid": config.PAYTM_MID, "txnType": "REFUND", "orderId": order.reference, "txnId": order.payment_ref,
        "refId": refund_id(order), "refundAmount": money.decimal_amount(order.total, order.currency)})
    status, message = _result(body)
    if status not in (PENDING, SUCCESS):
        raise PaymentError(f"Paytm refused the refund: {message or status}")
    return refund_id(order)
