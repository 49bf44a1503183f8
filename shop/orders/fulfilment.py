"""What happens once an order is paid (process_purchase) or refunded, and the emails about it.

process_purchase, the listener of PurchaseCompleted (fired in the transaction
that marks the order paid): transaction items, the sellers' ledger credits, download links, product download counts,
the cart cleared, the confirmation email. Each row is unique per order item,
so a second run finds everything done and changes nothing.

Both start by locking the order row with a conditional UPDATE that only
matches in the right status, so a refund and a fulfilment of the same order
never interleave: whichever comes second sees what the first did.
"""

import logging

from shop.accounts import guests
from shop.orders import cart
from shop import config
from shop.orders import downloads
from shop.orders import ledger
from shop import mail
from shop.orders import orders
from shop.payments import methods
from shop.selling import licenses
from shop.events import OrderRefunded
from models import Order, OrderItem, Product, Refund, TransactionItem, User, db, utcnow
from shop.money import format_money, split_sale

log = logging.getLogger(__name__)


def _lock_in_status(order_id, status):
    """Take the order's row lock if it is in `status`; False if it is not."""
    return Order.update(updated_at=Order.updated_at).where(
        (Order.id == order_id) & (Order.status == status)).execute() == 1


def _record_sale(order, item):
    """The item's TransactionItem, created once (and the product's count raised with it)."""
    existing = TransactionItem.get_or_none(TransactionItem.order_item == item)
    if existing is not None:
        return existing
    # Commission is taken on the net: the tax in the price is the tax authority's, not a sale.
    fee, share = split_sale(item.net_amount, config.COMMISSION_PERCENT)
    sale = TransactionItem.create(order=order, order_item=item, product=item.product_id, seller=item.seller_id,
                                  buyer=order.buyer_id, amount=item.price, platform_fee=fee,
                                  seller_amount=share, currency=item.currency)
    Product.update(download_count=Product.download_count + 1).where(Product.id == item.product_id).execute()
    return sale


def process_purchase(order_id):
    """Fulfil a paid order; returns a short description of what was done (for the job log)."""
    with db.atomic():
        if not _lock_in_status(order_id, "paid"):
            order = Order.get_or_none(Order.id == order_id)
            return f"order {order_id} is {order.status if order else 'missing'}: nothing to fulfil"
        order = Order.get_by_id(order_id)
        items = list(OrderItem.select().where(OrderItem.order == order).order_by(OrderItem.id))
        created_links = 0
        # Each sale raises its product's count, which locks the product row until the
        # commit. Taken in product-id order, two purchases of the same products wait
        # for each other instead of deadlocking (PostgreSQL aborts one of a cycle).
        for item in sorted(items, key=lambda item: item.product_id):
            sale = _record_sale(order, item)
            ledger.credit_sale(sale)
            _, created = downloads.create_link(item, order.buyer_id)
            created_links += created
            licenses.issue_for_item(item, order)
        # The order took its products out of the cart when it was made; a payment that
        # lands after the order expired or failed (its products given back) takes them out again.
        cart.clear(order.buyer_id, [item.product_id for item in items])
    send_purchase_confirmation(order_id)
    return f"order {order.reference}: {len(items)} item(s), {created_links} new link(s)"


def refund_order(order_id, reason="Refunded"):
    """Mark the order refunded, reverse its ledger entries and revoke its links, once.

    Returns True if this call made the refund. The customer's email is sent by
    the OrderRefunded listener after the commit.
    """
    now = utcnow()
    with db.atomic():
        if not orders.transition(order_id, "refunded", refunded_at=now, status_reason=reason[:500]):
            return False
        order = Order.get_by_id(order_id)
        reversed_entries = ledger.reverse_order(order)
        revoked = downloads.revoke_for_order(order)
        licenses.disable_for_order(order)
        updated = Refund.update(status="succeeded", completed_at=now, error=None).where(
            Refund.order == order).execute()
        if not updated:
            # Refunded from the gateway's own dashboard: record it all the same.
            Refund.create(order=order, gateway=order.gateway, status="succeeded", amount=order.total,
                          currency=order.currency, completed_at=now)
        OrderRefunded.fire(order_id)
    log.info("order %s refunded: %d ledger reversal(s), %d link(s) revoked",
             order.reference, len(reversed_entries), revoked)
    return True


# ---------------------------------------------------------------------------
# Emails
# ---------------------------------------------------------------------------


def _items_text(order):
    def line(item):
        text = f"  - {item.title}: {format_money(item.price, item.currency)}"
        if item.discount:
            text += (f" (list price {format_money(item.list_price, item.currency)}, "
                     f"less {format_money(item.discount, item.currency)})")
        return text

    return "\n".join(line(item) for item in OrderItem.select().where(OrderItem.order == order).order_by(OrderItem.id))


def _paid_text(order):
    if order.total == 0:
        return "It was free: there was nothing to pay."
    return f"Your payment of {format_money(order.total, order.currency)} is confirmed."


def send_purchase_confirmation(order_id):
    order = Order.get_by_id(order_id)
    if order.status != "paid":
        return False
    buyer = User.get_by_id(order.buyer_id)
    name, address = guests.receipt_contact(order, buyer)
    lines = [f"Hello {name}," if name else "Hello,", "", f"Thank you for your order {order.reference}. "
             f"{_paid_text(order)}", "", "Your downloads:"]
    for link in downloads.links_for_order(order):
        lines.append(f"  - {link.order_item.title}: {config.APP_URL}{downloads.url_for(link)}")
    keys = licenses.keys_for_order(order)
    if keys:
        titles = {item.id: item.title for item in OrderItem.select().where(OrderItem.order == order)}
        lines += ["", "Your license keys:"]
        lines += [f"  - {titles[item_id]}: {key.key}" for item_id, key in keys.items()]
    limits = f"Each link works {config.DOWNLOAD_LIMIT} times within {config.DOWNLOAD_LINK_TTL_HOURS} hours"
    if buyer.is_guest:
        lines += ["", f"{limits}. Your order's page shows them again, with your invoice, and gives you a new "
                  "link when one has expired or been used up:", guests.order_link(order), "",
                  f"To keep all your purchases in one library, create an account with {address} and confirm "
                  "the address: this order joins it.", f"{config.APP_URL}/register"]
    else:
        lines += ["", f"{limits}; you need to be logged in as {address}. Your library keeps everything you "
                  "bought, and gives you a new link when one has expired or been used up:",
                  f"{config.APP_URL}/purchases"]
    lines += ["", "Your invoice follows in a separate email.", "", f"{config.APP_NAME}"]
    return mail.send(f"purchase-confirmation:{order.id}", address,
                     f"Your order {order.reference} is ready to download", "\n".join(lines))


def send_refund_email(order_id):
    order = Order.get_by_id(order_id)
    if order.status != "refunded":
        return False
    name, address = guests.receipt_contact(order)
    text = "\n".join([
        f"Hello {name}," if name else "Hello,", "",
        f"Your order {order.reference} has been refunded: {format_money(order.total, order.currency)} "
        f"goes back through {methods.LABELS.get(order.gateway, order.gateway)}.", "",
        "Refunded items:", _items_text(order), "",
        "Their download links no longer work.", "", config.APP_NAME])
    return mail.send(f"order-refunded:{order.id}", address, f"Your order {order.reference} was refunded", text)
