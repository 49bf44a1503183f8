"""Orders: checkout from the cart, the order's life (pending -> paid -> refunded, or failed
or expired), and who may see an order.

Every change of status is one conditional UPDATE (`... WHERE status IN (allowed)`),
so when two jobs race (a webhook and the success page, a duplicate delivery),
exactly one of them makes the change and fires its event.
"""

import hashlib
import secrets

from peewee import IntegrityError

from shop.orders import cart
from shop.payments import methods
from shop.selling import discounts
from shop.tax import checkout as checkout_tax
from shop.errors import Forbidden, NotFound, ValidationError
from shop.events import PurchaseCompleted
from shop.money import format_money
from models import Order, OrderItem, Product, User, db, utcnow

# Which statuses each status may be reached from. A payment the gateway confirms
# is taken even for an order that had expired or failed meanwhile: the money was
# taken, so the customer gets the goods. A refund may overtake the payment's own
# notification (out-of-order delivery): then nothing was fulfilled to take back.
TRANSITIONS = {
    "paid": ("pending", "failed", "expired"),
    "failed": ("pending",),
    "expired": ("pending",),
    "refunded": ("pending", "paid"),
}


def new_reference():
    return "MP-" + secrets.token_hex(5).upper()


def checkout_key(user, quote, gateway):
    """The same buyer, products, prices paid and gateway give the same key (a double click)."""
    parts = [str(user.id), gateway] + sorted(f"{line.product_id}:{line.price}:{quote.currency}"
                                             for line in quote.lines)
    return hashlib.sha256("|".join(parts).encode("utf-8")).hexdigest()


def _lock_buyer(user):
    """Take the buyer's row lock, so that two checkouts of one customer run one after the other."""
    User.update({User.id: User.id}).where(User.id == user.id).execute()


def latest_pending(user):
    """The customer's newest order whose payment may still land, or None."""
    return (Order.select().where((Order.buyer == user) & (Order.status == "pending"))
            .order_by(Order.created_at.desc(), Order.id.desc()).first())


def create_from_cart(user, gateway, guest_email=None, code=None, billing=None):
    """The customer's pending order for the cart as it is, created once; it takes the cart's products.

    The order is priced by the cart's own quote (discounts.quote_cart), with the
    discount `code` the customer entered; a code that can no longer be used (used up
    meanwhile) refuses the order rather than charge another price than the cart
    showed. A cart whose total is zero makes a free order (gateway "free").

    A guest's order records `guest_email`, the address its receipt goes to; a
    second submit with another address (a typo corrected) changes it on the
    pending order.

    Prices and sellers are copied into the order items, so later edits to a
    product do not change what was bought. A second submit (a double click, the
    back button, two tabs) finds the cart empty and returns the pending order
    the first made. A product the customer owns, or has in another pending order,
    is not sold again: the cart that holds exactly a pending order's products
    (given back after a cancelled payment) reuses that order.

    `billing` (shop/tax/checkout.Billing) is who is billed, in which country: the
    pending order's tax is worked out from it, and its total becomes what the buyer pays.
    """
    if gateway != methods.FREE and gateway not in methods.available_gateways_for(None):
        raise ValidationError("Choose one of the payment methods shown.", errors={"gateway": "Choose a payment method."})
    for _ in range(3):
        try:
            with db.atomic():
                order = _order_for_cart(user, gateway, guest_email, code)
                if guest_email and order.guest_email != guest_email and order.status == "pending":
                    Order.update(guest_email=guest_email).where(Order.id == order.id).execute()
                    order.guest_email = guest_email
                if billing is not None and order.status == "pending":
                    checkout_tax.apply(order, billing)
                return order
        except IntegrityError:
            continue  # a reference collision: try again with a new one
    raise RuntimeError("could not create an order")  # pragma: no cover - three reference collisions


def _order_for_cart(user, gateway, guest_email, code):
    _lock_buyer(user)
    items = cart.items(user)
    available, unavailable, totals = cart.summary(items)
    if unavailable:
        titles = ", ".join(item.product.title for item in unavailable)
        raise ValidationError(f"No longer on sale: {titles}. Remove it from your cart to continue.")
    if not available:
        pending = latest_pending(user)
        if pending is not None:
            return pending
        raise ValidationError("Your cart is empty.")
    if len(totals) > 1:
        raise ValidationError("Your cart holds products priced in different currencies; "
                              "buy them in separate orders.")
    product_ids = {item.product_id for item in available}
    if cart.owned_product_ids(user) & product_ids:
        raise ValidationError("Your cart holds a product you already own. Remove it to continue.")
    (currency, _), = totals.items()
    quote = discounts.quote_cart(user, available, currency, code, strict=True)
    if quote.is_free:
        gateway = methods.FREE
    elif gateway == methods.FREE:
        raise ValidationError("This order is not free: choose a payment method.",
                              errors={"gateway": "Choose a payment method."})
    elif gateway not in methods.available_gateways_for(currency):
        raise ValidationError(f"{methods.LABELS[gateway]} cannot take payments in {currency}.",
                              errors={"gateway": "Choose another payment method."})
    elif quote.total < methods.minimum_charge(currency):
        raise ValidationError(f"An order must come to at least {format_money(methods.minimum_charge(currency), currency)}"
                              " (or be free): raise the price you named, or add to your cart.")
    pending = cart.pending_orders_by_product(user)
    waiting = {pending[product_id] for product_id in product_ids if product_id in pending}
    if waiting:
        order = waiting.pop()
        ordered = {item.product_id for item in OrderItem.select(OrderItem.product).where(OrderItem.order == order)}
        if not waiting and ordered == product_ids and order.gateway == gateway:
            cart.clear(user, product_ids)
            return order
        raise ValidationError(f"Your cart holds a product of your order {order.reference}, which is waiting for "
                              "its payment. Finish or cancel that payment (see Purchases), or remove the product to continue.")
    order = Order.create(reference=new_reference(), buyer=user, gateway=gateway, total=quote.total,
                         currency=currency, checkout_key=checkout_key(user, quote, gateway),
                         guest_email=guest_email, discount=quote.discount if quote.code else None)
    for line in quote.lines:
        OrderItem.create(order=order, product=line.product_id, seller=line.seller_id, title=line.title,
                         price=line.price, currency=currency, list_price=line.list_price, discount=line.discount)
    if quote.code is not None:
        discounts.reserve(quote, order, user)
    cart.clear(user, product_ids)
    return order


# ---------------------------------------------------------------------------
# Status changes
# ---------------------------------------------------------------------------


def transition(order_id, status, **fields):
    """Move the order to `status` if its current status allows it; True if this call did."""
    now = utcnow()
    fields.setdefault("updated_at", now)
    return Order.update(status=status, checkout_key=None, **fields).where(
        (Order.id == order_id) & Order.status.in_(TRANSITIONS[status])).execute() == 1


def mark_paid(order_id, payment_ref=None):
    """The gateway confirmed the payment: mark the order paid and fire PurchaseCompleted once."""
    fields = {"paid_at": utcnow(), "status_reason": None}
    if payment_ref:
        fields["payment_ref"] = payment_ref
    with db.atomic():
        changed = transition(order_id, "paid", **fields)
        if changed:
            # Paid after it had failed or expired (its code's use given back): it counts again.
            discounts.retake(order_id)
            PurchaseCompleted.fire(order_id)
    return changed


def complete_free(order):
    """A free order needs no gateway: it is paid the moment it is made, and fulfilled by the
    same jobs as any paid order (PurchaseCompleted)."""
    if order.gateway != methods.FREE or order.total != 0:
        raise ValidationError(f"Order {order.reference} is not free.")
    return mark_paid(order.id)


def _close_unpaid(order_id, status, reason):
    """The payment will not land: close the order and give its products back to the cart."""
    with db.atomic():
        changed = transition(order_id, status, status_reason=reason[:500])
        if changed:
            cart.give_back(Order.get_by_id(order_id))
            discounts.release(order_id)
    return changed


def mark_failed(order_id, reason):
    return _close_unpaid(order_id, "failed", reason)


CANCELLED_BY_BUYER = "You cancelled the payment; nothing was charged."


def mark_expired(order_id, reason="The payment page expired before the payment was made."):
    return _close_unpaid(order_id, "expired", reason)


def set_gateway_ref(order_id, gateway_ref, checkout_url=None):
    fields = {"gateway_ref": gateway_ref, "updated_at": utcnow()}
    if checkout_url is not None:
        fields["checkout_url"] = checkout_url
    Order.update(**fields).where(Order.id == order_id).execute()


# ---------------------------------------------------------------------------
# Reading orders, and who may see them
# ---------------------------------------------------------------------------


def get(order_id):
    order = Order.get_or_none(Order.id == order_id)
    if order is None:
        raise NotFound("There is no such order.")
    return order


def for_viewer(order_id, user):
    """The order if `user` bought it or is an admin; otherwise a 404 or 403 to show."""
    order = get(order_id)
    if user is None or not (user.is_admin or order.buyer_id == user.id):
        raise Forbidden("This order belongs to another account.")
    return order


def items_of(order):
    Seller = User.alias()
    return list(OrderItem.select(OrderItem, Product, Seller)
                .join(Product).switch(OrderItem).join(Seller, on=(OrderItem.seller == Seller.id))
                .where(OrderItem.order == order).order_by(OrderItem.id))


# What Purchases lists: what was bought (paid, and refunded to say where the money
# went), and an order still waiting while its payment may land. A payment that
# failed or expired bought nothing, and its products went back to the cart.
LISTED_ON_PURCHASES = ("paid", "refunded", "pending")


def of_buyer(user):
    """The customer's orders for Purchases, newest first."""
    return list(Order.select().where((Order.buyer == user) & Order.status.in_(LISTED_ON_PURCHASES))
                .order_by(Order.created_at.desc(), Order.id.desc()))


def find_by_reference(reference):
    return Order.get_or_none(Order.reference == reference)
