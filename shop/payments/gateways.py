"""One front to the three gateways: start a checkout, reconcile an order, refund it.

Each gateway module (stripe_gateway, paytm_gateway, testpay) offers the same
functions: start_checkout, parse_* for its notifications, process_event,
reconcile and request_refund.
"""

import logging

from peewee import IntegrityError

from shop.orders import orders
from shop.payments import methods
from shop.payments import outcomes
from shop.payments import paytm_gateway
from shop.payments import stripe_gateway
from shop.payments import testpay
from shop.errors import ValidationError
from models import Order, Refund, db

log = logging.getLogger(__name__)

MODULES = {"stripe": stripe_gateway, "paytm": paytm_gateway, "test": testpay}

# Either module's mismatch: the gateway's record contradicts our order; retrying cannot help.
MISMATCH_ERRORS = (stripe_gateway.PaymentMismatch, paytm_gateway.PaymentMismatch)


def module_for(gateway):
    return MODULES[gateway]


def start_checkout(order):
    """Hand the order to its gateway; returns the URL to send the buyer to.

    A free order has no gateway: tasks.complete_free_order pays it instead.
    """
    if order.gateway == methods.FREE:
        raise ValidationError(f"Order {order.reference} is free: there is no payment to start.")
    if order.gateway == "test":
        # The test gateway's "session" is named like the session of its events.
        orders.set_gateway_ref(order.id, f"cs_test_{order.reference}")
        return f"/pay/test/{order.id}"
    return module_for(order.gateway).start_checkout(order)


def reconcile(order_id):
    """Ask the gateway about a pending order and settle it (the success page's path); an Outcome."""
    order = Order.get_or_none(Order.id == order_id)
    if order is None or order.status != "pending":
        return outcomes.ignored("no pending order")
    if order.gateway == methods.FREE:
        # Made but not marked paid (written apart by another caller): there is no one to ask.
        return outcomes.of_update(orders.complete_free(order), outcomes.Change.PAID, order.id)
    return module_for(order.gateway).reconcile(order)


def cancel(order):
    """The buyer cancelled the payment: close the pending order once its gateway can no
    longer take the payment (Stripe expires the session; the test gateway is ours); an Outcome.

    Paytm has no such call here: its unpaid orders stay pending.
    """
    if order.status != "pending":
        return outcomes.ignored("no pending order")
    if not can_cancel(order):
        return outcomes.ignored(f"{order.gateway} orders cannot be cancelled from the shop")
    return module_for(order.gateway).cancel(order)


def can_cancel(order):
    """True when the customer may cancel this order's payment from the shop."""
    return order.status == "pending" and order.gateway in CANCELLABLE


CANCELLABLE = ("stripe", "test")


def create_refund(order, admin):
    """Record the admin's refund request once; the refund job then asks the gateway."""
    if order.status != "paid":
        raise ValidationError(f"Order {order.reference} is {order.status}; only paid orders can be refunded.")
    if order.gateway == methods.FREE:
        raise ValidationError(f"Order {order.reference} was free: there is nothing to refund.")
    try:
        with db.atomic():
            return Refund.create(order=order, gateway=order.gateway, amount=order.total, currency=order.currency,
                                 requested_by=admin)
    except IntegrityError:
        existing = Refund.get(Refund.order == order)
        if existing.status == "failed":
            Refund.update(status="requested", error=None, requested_by=admin).where(Refund.id == existing.id).execute()
            return Refund.get_by_id(existing.id)
        raise ValidationError(f"A refund of order {order.reference} was already requested.") from None


def perform_refund(refund_id):
    """Send the refund request to the gateway; its notification then completes the refund."""
    refund = Refund.get_by_id(refund_id)
    if refund.status != "requested":
        return refund.status
    order = Order.get_by_id(refund.order_id)
    reference = module_for(order.gateway).request_refund(order, refund)
    Refund.update(gateway_ref=reference).where(Refund.id == refund.id).execute()
    return reference


def refund_failed(refund_id, message):
    Refund.update(status="failed", error=message[:1000]).where(
        (Refund.id == refund_id) & (Refund.status == "requested")).execute()
