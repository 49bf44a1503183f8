"""Product updates: a seller's news of a product, mailed to everyone who bought it.

A seller writes an update (typically with a new version of the files, which the buyers'
links serve from then on). Once the product is on sale, at once or when moderation
approves the edit that came with it, the job start_product_update makes a batch of
deliver_product_update jobs, one per past buyer, whose progress the seller sees. Each
buyer's copy is an UpdateDelivery row, unique per update and buyer, and its email is
keyed by the same pair (shop/mail.py sends a key once), so a batch retried or a consumer
killed halfway mails every buyer exactly once. The jobs share a rate limit
(PRODUCT_UPDATE_MAILS per PRODUCT_UPDATE_MAIL_WINDOW_SECONDS).
"""

import logging

from shop import config, mail
from shop.accounts import notifications
from shop.errors import ValidationError
from models import Order, OrderItem, Product, ProductUpdate, UpdateDelivery, User, db, utcnow

log = logging.getLogger(__name__)

MAX_MESSAGE = 5000
TYPE = "product_update"


def write(product, message):
    """A new update of the seller's product; returns it. The caller dispatches start_product_update."""
    message = (message or "").replace("\r\n", "\n").strip()
    if not message:
        raise ValidationError(errors={"message": "Write what is new for your buyers."})
    if len(message) > MAX_MESSAGE:
        raise ValidationError(errors={"message": f"Use at most {MAX_MESSAGE} characters."})
    return ProductUpdate.create(product=product, message=message)


def waiting_for(product_id):
    """Updates of the product not started yet (they wait for the product to be on sale)."""
    return list(ProductUpdate.select().where((ProductUpdate.product == product_id)
                                             & ProductUpdate.batch_id.is_null()).order_by(ProductUpdate.id))


def sent_for_products(product_ids, per_product=3):
    """{product id: [its newest sent updates]}: what a buyer's library shows beside each item.
    Only updates whose batch has started: one still waiting for moderation is not news yet."""
    found = {}
    query = (ProductUpdate.select().where(ProductUpdate.product.in_(list(product_ids))
                                          & ProductUpdate.batch_id.is_null(False))
             .order_by(ProductUpdate.created_at.desc(), ProductUpdate.id.desc()))
    for update in query:
        shown = found.setdefault(update.product_id, [])
        if len(shown) < per_product:
            shown.append(update)
    return found


def of_product(product_id):
    return list(ProductUpdate.select().where(ProductUpdate.product == product_id)
                .order_by(ProductUpdate.id.desc()))


def past_buyers(product_id):
    """Everyone who paid for the product and was not refunded, each once, in id order."""
    return [buyer_id for (buyer_id,) in (
        Order.select(Order.buyer).distinct().join(OrderItem)
        .where((OrderItem.product == product_id) & (Order.status == "paid"))
        .order_by(Order.buyer).tuples())]


def claim_start(update_id, batch_id, recipients):
    """Record the batch of the update once; False when another run started it already, or the
    product is not on sale (its approval starts it)."""
    update = ProductUpdate.get_or_none(ProductUpdate.id == update_id)
    if update is None or update.batch_id is not None or update.product.status != "approved":
        return False
    return (ProductUpdate.update(batch_id=batch_id, recipients=recipients)
            .where((ProductUpdate.id == update_id) & ProductUpdate.batch_id.is_null()).execute()) > 0


def deliver(update_id, buyer_id):
    """Tell one buyer of the update, in the app and by email, once."""
    update = ProductUpdate.get_or_none(ProductUpdate.id == update_id)
    if update is None:
        return "gone"
    with db.atomic():
        UpdateDelivery.insert(product_update=update_id, buyer=buyer_id).on_conflict_ignore().execute()
    delivery = UpdateDelivery.get((UpdateDelivery.product_update == update_id) & (UpdateDelivery.buyer == buyer_id))
    if delivery.delivered_at is not None:
        return "already delivered"
    buyer = User.get_by_id(buyer_id)
    product = Product.get_by_id(update.product_id)
    address = buyer.email
    if buyer.is_guest:
        address = (Order.select(Order.guest_email).join(OrderItem)
                   .where((Order.buyer == buyer_id) & (OrderItem.product == product.id)).scalar()) or address
    text = (f"Hello,\n\n{product.seller.name} has news about “{product.title}”, which you bought:\n\n"
            f"{update.message}\n\nDownload the latest version from your purchases: "
            f"{config.APP_URL}/purchases\n")
    notification = notifications.store(buyer_id, TYPE, f"product-update:{update_id}:{buyer_id}",
                                       {"product_id": product.id, "title": product.title, "update_id": update_id,
                                        "message": f"News about “{product.title}”", "detail": update.message[:300],
                                        "url": "/purchases"})
    mail.send(notification.key, address, f"Update to “{product.title}”", text)
    UpdateDelivery.update(delivered_at=utcnow()).where(UpdateDelivery.id == delivery.id).execute()
    return "delivered"
