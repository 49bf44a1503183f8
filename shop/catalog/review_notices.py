"""The admins hear of each product submitted for review: in the app and by email.

One notice per submission: the key is the product and the time it was submitted
(the job's arguments), so a retry after a mail server refused the email adds no
second row and sends no second message to any admin.
"""

import logging

from shop import config
from shop.accounts import notifications
from models import Product, User

log = logging.getLogger(__name__)

PRODUCT_SUBMITTED = "product_submitted"


def notify(product_id, submitted_at):
    """Tell every admin that the product waits for review; returns how many were told."""
    product = Product.get_or_none(Product.id == product_id)
    if product is None or product.status != "pending":
        log.info("product %s is no longer pending review; no notice", product_id)
        return 0
    seller = User.get_by_id(product.seller_id)
    url = f"{config.APP_URL}/admin/products"
    data = {"product_id": product.id, "title": product.title, "seller": seller.name, "url": url,
            "message": f"“{product.title}” by {seller.name} waits for review."}
    subject = f"[{config.APP_NAME}] For review: “{product.title}”"
    text = (f"{seller.name} submitted “{product.title}” for review.\n\n"
            f"Review it here: {url}\n\n— {config.APP_NAME}\n")
    told = 0
    for admin in User.select().where(User.role == "admin").order_by(User.id):
        notifications.deliver(admin, PRODUCT_SUBMITTED, f"product-submitted:{product.id}:{submitted_at}:{admin.id}",
                              data, subject, text)
        told += 1
    return told
