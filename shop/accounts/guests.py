"""Guest checkout: buying with an email address and no account.

A visitor who adds a product to the cart without being logged in becomes a guest
user (role GUEST_ROLE, no password): the cart, the order, its download links and
its ledger rows hang on that user exactly as on a customer, so the checkout, the
fulfilment jobs and the books need no second path. The address typed at
checkout is the order's `guest_email`; the receipt, the links and the invoice go
there, and the receipt carries a signed link back to the order from any browser.

The purchases join an account once the account proves it owns the address (its
verification link, an address change it confirmed, or logging in to a verified
account): never on sign-up alone, or anyone could claim a stranger's library by
typing their address.
"""

import datetime
import logging

from shop import config
from shop import security
from models import (
    GUEST_ROLE,
    CartItem,
    DownloadLink,
    DownloadRenewal,
    Order,
    OrderItem,
    Session,
    TransactionItem,
    User,
    db,
    utcnow,
)

log = logging.getLogger(__name__)

ORDER_LINK_PURPOSE = "guest-order"
GUEST_NAME = "Guest"


def create_guest():
    """A new guest user. Its email column holds a unique placeholder with no "@" in it,
    which no login, reset or mail ever matches."""
    return User.create(name=GUEST_NAME, email=f"guest.{security.random_token(18)}", role=GUEST_ROLE,
                       password_hash="")


def receipt_contact(order, buyer=None):
    """(name, email) that the order's receipt, invoice and gateway page use: the guest's
    address while the order is a guest's, the account's once it belongs to one."""
    buyer = buyer or User.get_by_id(order.buyer_id)
    if buyer.is_guest:
        return "", order.guest_email or ""
    return buyer.name, buyer.email


# ---------------------------------------------------------------------------
# The signed link to a guest's order, from the receipt
# ---------------------------------------------------------------------------


def order_link_key(order):
    return security.sign(ORDER_LINK_PURPOSE, f"{order.id}:{order.reference}")


def order_link(order):
    """The absolute link a guest's receipt carries back to the order and its downloads."""
    return f"{config.APP_URL}/orders/{order.reference}/guest/{order_link_key(order)}"


def order_for_link(reference, key):
    """The order a receipt's link names, or None when the link is not one the shop made."""
    if not reference or len(reference) > 40 or not key or len(key) > 128:
        return None
    order = Order.get_or_none(Order.reference == reference)
    if order is None or not security.verify_signature(ORDER_LINK_PURPOSE, f"{order.id}:{order.reference}", key):
        return None
    return order


# ---------------------------------------------------------------------------
# Joining an account
# ---------------------------------------------------------------------------


def claim_orders(user):
    """Move the guest orders bought with `user`'s verified address to the account; returns how many.

    Each order moves with everything that names its buyer (its download links and
    their renewals, the ledger's transaction rows), in one transaction, so the
    library, the books and who may download stay in step. Running it again finds
    nothing left to move.
    """
    if not (user.is_customer and user.email_verified):
        return 0
    with db.atomic():
        guest_ids = User.select(User.id).where(User.role == GUEST_ROLE)
        order_ids = [order_id for (order_id,) in Order.select(Order.id).where(
            (Order.guest_email == user.email) & Order.buyer.in_(guest_ids)).tuples()]
        if not order_ids:
            return 0
        Order.update(buyer=user.id).where(Order.id.in_(order_ids)).execute()
        TransactionItem.update(buyer=user.id).where(TransactionItem.order.in_(order_ids)).execute()
        link_ids = [link_id for (link_id,) in DownloadLink.select(DownloadLink.id).join(OrderItem)
                    .where(OrderItem.order.in_(order_ids)).tuples()]
        if link_ids:
            DownloadLink.update(buyer=user.id).where(DownloadLink.id.in_(link_ids)).execute()
            DownloadRenewal.update(buyer=user.id).where(DownloadRenewal.link.in_(link_ids)).execute()
    log.info("%d guest order(s) joined the account of user %s", len(order_ids), user.id)
    return len(order_ids)


def merge_cart(guest, user):
    """Logging in or signing up with a guest's cart: its products join the account's cart."""
    if guest is None or not guest.is_guest or guest.id == user.id or not user.is_customer:
        return 0
    # A pay-what-you-want product keeps the price the guest named for it.
    rows = [{"user": user.id, "product": product_id, "added_at": added_at, "chosen_price": chosen_price}
            for product_id, added_at, chosen_price in CartItem.select(CartItem.product, CartItem.added_at,
                                                                      CartItem.chosen_price)
            .where(CartItem.user == guest.id).tuples()]
    with db.atomic():
        if rows:
            CartItem.insert_many(rows).on_conflict_ignore().execute()
        CartItem.delete().where(CartItem.user == guest.id).execute()
        Session.delete().where(Session.user == guest.id).execute()
    return len(rows)


def prune_guests(now=None):
    """Delete guests who bought nothing and whose sessions are over; returns how many.

    A visitor who filled a cart and left is a guest row with a cart; after
    SESSION_DAYS nobody can reach it any more. A guest with an order stays: the
    order, the books and the receipt's link need it.
    """
    now = now or utcnow()
    since = now - datetime.timedelta(days=config.SESSION_DAYS)
    buyers = Order.select(Order.buyer)
    live = Session.select(Session.user).where(Session.expires_at > now)
    stale = User.select(User.id).where((User.role == GUEST_ROLE) & (User.created_at <= since)
                                       & User.id.not_in(buyers) & User.id.not_in(live))
    ids = [user_id for (user_id,) in stale.tuples()]
    if not ids:
        return 0
    with db.atomic():
        CartItem.delete().where(CartItem.user.in_(ids)).execute()
        Session.delete().where(Session.user.in_(ids)).execute()
        removed = User.delete().where(User.id.in_(ids) & User.id.not_in(Order.select(Order.buyer))).execute()
    return removed
