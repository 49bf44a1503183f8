"""The customer's way to pay: cart, checkout, the gateways' pages and the order status page.

The gateways' own pages are the test-mode payment page and Paytm's JS checkout with its
browser callback; purchases, invoices and downloads are shop_web/customer.py.
"""

import logging

from shop.accounts import users
from shop.orders import cart
from shop import config
from shop.orders import downloads
from shop.payments import gateways
from shop.orders import invoices
from shop.orders import orders
from shop.payments import methods
from shop.payments import paytm_gateway
import tasks
from shop.payments import testpay
from shop.payments import webhooks
from shop.errors import NotFound, PaymentError, ValidationError, WebhookError
from models import Invoice, SimulatedPayment, db, utcnow
from shop_web.common import (
    RouteTable,
    context_processors,
    current_shopper,
    current_user,
    flash,
    form_fields,
    int_param,
    json_response,
    redirect_to,
    render,
    request,
    require_login_or_guest,
    require_shopper,
    shopper_for_cart,
    validation_page,
)

log = logging.getLogger(__name__)
routes = RouteTable()


def _cart_count(user):
    """The header's "Cart (n)" for customers and guests."""
    shopper = current_shopper()
    return {"cart_count": cart.count(shopper)} if shopper is not None else {}


context_processors.append(_cart_count)


# ---------------------------------------------------------------------------
# Cart
# ---------------------------------------------------------------------------


def _cart_context(user):
    items = cart.items(user) if user is not None else []
    available, unavailable, totals = cart.summary(items)
    return {"items": items, "available": available, "unavailable": unavailable, "totals": totals}


@routes.get("/cart")
@require_shopper
def cart_show():
    user = current_shopper()
    cancelled = (request.query.getunicode("cancelled") or "")[:40]
    if cancelled and user is not None:
        _cancel_payment(user, cancelled)
    context = _cart_context(user)
    return render("cart.tpl", title="Your cart", cancelled=cancelled, **context)


def _cancel_payment(user, reference):
    """Back from the gateway's page with Cancel: close the order there and here, so its
    products return to the cart and it cannot be paid behind the customer's back."""
    order = orders.find_by_reference(reference)
    if order is None or order.buyer_id != user.id or order.status != "pending":
        return
    try:
        gateways.cancel(order)
    except PaymentError as exc:
        # The order stays pending and expires with its session; the cart says nothing was charged.
        log.warning("could not cancel the payment of order %s: %s", order.reference, exc)


@routes.post("/cart/add")
@require_shopper
def cart_add():
    product_id = int_param(request.forms.get("product_id"))
    try:
        with db.atomic():
            product = cart.add(shopper_for_cart(), product_id)
    except ValidationError as exc:
        flash(str(exc), "error")
        redirect_to("/cart")
    flash(f"“{product.title}” is in your cart.", "success")
    redirect_to("/cart")


@routes.post("/cart/remove")
@require_shopper
def cart_remove():
    shopper = current_shopper()
    if shopper is not None and cart.remove(shopper, int_param(request.forms.get("product_id"))):
        flash("Removed from your cart.")
    redirect_to("/cart")


# ---------------------------------------------------------------------------
# Checkout
# ---------------------------------------------------------------------------


def _checkout_context(user):
    context = _cart_context(user)
    currency = next(iter(context["totals"]), None)
    context["gateways"] = methods.available_gateways_for(currency)
    context["labels"] = methods.LABELS
    return context


def _latest_guest_email(shopper):
    """What a returning guest typed last time, so the form need not ask twice."""
    if shopper is None or not shopper.is_guest:
        return ""
    order = orders.latest_of(shopper)
    return order.guest_email if order and order.guest_email else ""


@routes.get("/checkout")
@require_shopper
def checkout_form():
    shopper = current_shopper()
    context = _checkout_context(shopper)
    if not context["available"]:
        flash("Your cart is empty.")
        redirect_to("/cart")
    form = {"gateway": context["gateways"][0] if len(context["gateways"]) == 1 else "",
            "email": _latest_guest_email(shopper)}
    return render("checkout.tpl", title="Checkout", form=form, **context)


@routes.post("/checkout")
@require_shopper
def checkout_submit():
    user = current_shopper()
    if user is None:
        flash("Your cart is empty.")
        redirect_to("/cart")
    form = {"gateway": (request.forms.get("gateway") or "").strip(),
            "email": (request.forms.getunicode("email") or "").strip()}
    try:
        guest_email = users.checked_email(form["email"]) if user.is_guest else None
        order = orders.create_from_cart(user, form["gateway"], guest_email=guest_email)
        target = gateways.start_checkout(order)
    except ValidationError as exc:
        return validation_page("checkout.tpl", exc, form, title="Checkout", **_checkout_context(user))
    except PaymentError as exc:
        log.warning("checkout of order for user %s could not start: %s", user.id, exc)
        flash("The payment could not be started just now. Nothing was charged; please try again in a moment.",
              "error")
        redirect_to("/checkout")
    redirect_to(target)


# ---------------------------------------------------------------------------
# The test-mode gateway's page
# ---------------------------------------------------------------------------


def order_for_visitor(order_id):
    """The order if this visitor bought it (as a customer or a guest) or is an admin."""
    return orders.for_viewer(order_id, current_user() or current_shopper())


def _test_order(order_id):
    if not config.TEST_PAYMENTS_ENABLED:
        raise NotFound("Test payments are switched off.")
    order = order_for_visitor(order_id)
    if order.gateway != "test":
        raise NotFound("This order is not paid through the test gateway.")
    return order


@routes.get("/pay/test/<order_id:int>")
@require_shopper
@require_login_or_guest
def testpay_page(order_id):
    order = _test_order(order_id)
    if order.status != "pending":
        redirect_to(f"/orders/{order.id}/success")
    return render("testpay.tpl", title="Test payment", order=order, items=orders.items_of(order))


@routes.post("/pay/test/<order_id:int>")
@require_shopper
@require_login_or_guest
def testpay_decide(order_id):
    order = _test_order(order_id)
    action = request.forms.get("action")
    if action not in ("pay", "decline"):
        raise ValidationError("Choose Pay or Decline.")
    if order.status == "pending":
        with db.atomic():
            payment, created = testpay.decide(order, action == "pay")
            if created:
                tasks.deliver_test_event.dispatch(order.id, testpay.event_type_for(payment))
    redirect_to(f"/orders/{order.id}/success")


# ---------------------------------------------------------------------------
# Paytm: the JS checkout page and the browser callback
# ---------------------------------------------------------------------------


@routes.get("/checkout/paytm/<order_id:int>")
@require_shopper
@require_login_or_guest
def paytm_page(order_id):
    if not config.PAYTM_ENABLED:
        raise NotFound("Paytm is not available in this shop.")
    order = order_for_visitor(order_id)
    if order.gateway != "paytm" or not order.gateway_ref:
        raise NotFound("This order is not paid through Paytm.")
    if order.status != "pending":
        redirect_to(f"/orders/{order.id}/success")
    checkout = paytm_gateway.checkout_page(order)
    # Paytm's checkout script loads its own frames, styles and API calls from PAYTM_HOST.
    host = config.PAYTM_HOST
    request.environ["app.csp_extra"] = {"script-src": [host], "connect-src": [host], "frame-src": [host],
                                        "img-src": [host], "style-src": [host, "'unsafe-inline'"],
                                        "font-src": [host]}
    return render("paytm_pay.tpl", title="Pay with Paytm", order=order, items=orders.items_of(order),
                  checkout=checkout, scripts=[checkout["script_url"], "/static/paytm_checkout.js"])


@routes.post("/checkout/paytm/callback", csrf=False)
def paytm_callback():
    """Paytm posts the payment's result here from the customer's browser (a cross-site POST,
    so no session cookie arrives): verify its checksum, store it like the server-to-server
    notification, and send the customer on to the order's page."""
    if not config.PAYTM_ENABLED:
        raise NotFound("Paytm is not available in this shop.")
    webhooks.check_size(request.content_length)
    payload = request.body.read().decode("utf-8", "replace")
    fields = form_fields()
    try:
        with db.atomic():
            received = webhooks.receive_paytm_form(fields, payload)
            tasks.dispatch_webhook(received)
    except WebhookError:
        log.warning("Paytm callback with a bad checksum for %s", fields.get("ORDERID"))
        raise ValidationError("The payment response could not be verified. If you paid, your order "
                              "will update by itself shortly; see your purchases.") from None
    order = orders.find_by_reference(fields.get("ORDERID"))
    redirect_to(f"/orders/{order.id}/success" if order else "/purchases")


# ---------------------------------------------------------------------------
# After paying: "processing", then the download links
# ---------------------------------------------------------------------------


HEADINGS = {
    "pending": "Processing your payment…",
    "paid": "Payment received",
    "ready": "Your downloads are ready",
    "failed": "Payment declined",
    "expired": "Payment expired",
    "refunded": "Order refunded",
}

MESSAGES = {
    "pending": "We are waiting for the payment to be confirmed. This page updates by itself.",
    "paid": "Payment received. Your downloads are being prepared…",
    "ready": "Payment received. Download each file below; the links are in your email too.",
    "failed": "The payment did not go through, and nothing was charged.",
    "expired": "The payment page expired before the payment was made.",
    "refunded": "This order was refunded; its downloads no longer work.",
}


# After this long "waiting for the payment to be confirmed" is no longer an answer.
CONFIRMATION_EXPECTED_SECONDS = 60

NOT_CONFIRMED = "Payment not confirmed yet"


def late_confirmation(order):
    """What to say when a pending order's payment is overdue, or None while it is not.

    The test gateway's event leaves the moment the customer clicks: if it has not
    landed a minute later, it could not reach the shop at APP_URL, and saying so
    is what lets the owner trying the shop out see why. A real gateway may take a
    few minutes more; the customer learns what to do meanwhile.
    """
    if order.status != "pending":
        return None
    if order.gateway == "test":
        decided = SimulatedPayment.get_or_none(SimulatedPayment.order == order)
        since = decided.created_at if decided else None
    else:
        since = order.created_at
    if since is None or (utcnow() - since).total_seconds() < CONFIRMATION_EXPECTED_SECONDS:
        return None
    if order.gateway == "test":
        return (f"The test gateway has not been able to tell the shop about this payment: it sends it "
                f"to {config.APP_URL}, which does not seem to reach this shop. If the shop is served at "
                f"another address, its APP_URL setting must name that address. Nothing was charged "
                f"(test mode); you can keep this page open or go back to your cart.")
    return ("The payment has not been confirmed yet. If you completed it, there is nothing more to do: "
            "the confirmation can take a few minutes, and your downloads will appear here and in your "
            "email. If you did not finish paying, you can go back to your cart and try again.")


def progress(order):
    """What the order page shows, as JSON-ready values (also its polling endpoint's answer)."""
    links = downloads.links_for_order(order) if order.status == "paid" else []
    item_count = len(orders.items_of(order))
    ready = order.status == "paid" and len(links) == item_count
    state = "ready" if ready else order.status
    invoice = Invoice.get_or_none(Invoice.order == order)
    late = late_confirmation(order)
    return {
        "status": order.status,
        "state": state,
        "done": state in ("ready", "failed", "expired", "refunded"),
        "late": late is not None,
        "heading": NOT_CONFIRMED if late else HEADINGS[state],
        "message": late or (order.status_reason if order.status in ("failed", "expired") and order.status_reason
                            else MESSAGES[state]),
        "links": [{"title": link.order_item.title, "url": downloads.url_for(link),
                   "file": link.product.file_name or "", "state": downloads.state(link),
                   "remaining": downloads.remaining(link),
                   "expires": f"{link.expires_at:%d %b %Y %H:%M} UTC"} for link in links],
        "invoice_url": f"/orders/{order.id}/invoice" if order.paid_at else None,
        "invoice_ready": bool(invoice and invoices.pdf_key(invoice)),
    }


@routes.get("/orders/<order_id:int>/success")
@require_login_or_guest
def order_success(order_id):
    order = order_for_visitor(order_id)
    session_id = request.query.get("session_id")
    if order.status == "pending" and (
            (order.gateway == "stripe" and session_id and session_id == order.gateway_ref)
            or order.gateway == "paytm"):
        # Stripe's advice: fulfil from the success page too, in case the webhook is slow.
        # The order's status change happens once, whichever path gets there first.
        tasks.reconcile_order.dispatch(order.id)
    return render("order_status.tpl", title=f"Order {order.reference}", order=order,
                  items=orders.items_of(order), progress=progress(order), can_cancel=gateways.can_cancel(order),
                  scripts=["/static/order_status.js"])


@routes.post("/orders/<order_id:int>/cancel")
@require_shopper
@require_login_or_guest
def order_cancel(order_id):
    """The order page's "Cancel this order": its products go back to the cart."""
    order = order_for_visitor(order_id)
    if not gateways.can_cancel(order):
        raise ValidationError(f"Order {order.reference} cannot be cancelled from here.")
    try:
        gateways.cancel(order)
    except PaymentError as exc:
        log.warning("could not cancel the payment of order %s: %s", order.reference, exc)
        flash("The payment could not be cancelled just now; please try again in a moment.", "error")
        redirect_to(f"/orders/{order.id}/success")
    order = orders.get(order.id)
    if order.status == "pending":
        flash("The payment is still open; it could not be cancelled.", "error")
        redirect_to(f"/orders/{order.id}/success")
    if order.status == "paid":
        flash("That payment had already gone through: your downloads are below.")
        redirect_to(f"/orders/{order.id}/success")
    flash(f"Order {order.reference} was cancelled. Nothing was charged, and its products are back in your cart.")
    redirect_to("/cart")


@routes.get("/orders/<order_id:int>/status.json")
@require_login_or_guest
def order_status_json(order_id):
    order = order_for_visitor(order_id)
    answer = progress(order)
    shopper = current_shopper()
    if shopper is not None:
        # Fulfilment empties the cart; the open page's header says so without a reload.
        answer["cart_count"] = cart.count(shopper)
    return json_response(answer)
