"""Notifications to users, on two channels: the database (the notifications page) and email.

Each notification is keyed by what caused it (for a moderation decision:
"product-approved:<review id>"). The database row is inserted under a unique
key and the email goes through mail.send with the same key, so a job that runs
again after a mail server refused it adds no second row and sends no second
message; it only delivers what is still missing.
"""

import logging

from peewee import IntegrityError

from shop import config
from shop import mail
from models import Notification, ProductReview, User, db, utcnow
from shop.money import format_money

log = logging.getLogger(__name__)

PRODUCT_APPROVED = "product_approved"
PRODUCT_REJECTED = "product_rejected"


# ---------------------------------------------------------------------------
# The two channels
# ---------------------------------------------------------------------------


def store(user_id, type_, key, data):
    """The database channel: insert once per key. Returns the row (new or earlier)."""
    try:
        with db.atomic():
            return Notification.create(user=user_id, type=type_, key=key, data=data)
    except IntegrityError:
        return Notification.get(Notification.key == key)


def deliver(user, type_, key, data, subject, text, email=True):
    """Both channels, database first: a refused email never loses or repeats the row.

    Raises MailError when the mail server fails; the calling job retries and
    the next run finds the row already there. `email=False` stores the row only
    (the demo loader's history, which must not mail anyone).
    """
    notification = store(user.id, type_, key, data)
    if email:
        mail.send(key, user.email, subject, text)
    return notification


# ---------------------------------------------------------------------------
# Moderation decisions
# ---------------------------------------------------------------------------


def _review(review_id, decision):
    """(review, product, seller) of a moderation decision, or None when the review is gone."""
    review = (ProductReview.select(ProductReview).where(ProductReview.id == review_id).first())
    if review is None:
        log.warning("review %s no longer exists; no notification sent", review_id)
        return None
    if review.decision != decision:
        raise ValueError(f"review {review_id} is a {review.decision} decision, not {decision}")
    return review, review.product, User.get_by_id(review.product.seller_id)


def product_approved(review_id, email=True):
    """Tell the seller their product is on sale (ProductApproved)."""
    found = _review(review_id, "approved")
    if found is None:
        return None
    review, product, seller = found
    url = f"{config.APP_URL}/products/{product.slug}"
    data = {"product_id": product.id, "title": product.title, "review_id": review.id, "url": url}
    subject = f"Approved: “{product.title}” is now on sale"
    text = (
        f"Hello {seller.name},\n\n"
        f"Good news: your product “{product.title}” has been approved and is now on sale "
        f"at {format_money(product.price, product.currency)}.\n\n"
        f"See it in the shop: {url}\n"
        f"Your products: {config.APP_URL}/seller/products\n\n"
        f"— {config.APP_NAME}\n"
    )
    return deliver(seller, PRODUCT_APPROVED, f"product-approved:{review.id}", data, subject, text, email)


def product_rejected(review_id, email=True):
    """Tell the seller why their product was not accepted (ProductRejected)."""
    found = _review(review_id, "rejected")
    if found is None:
        return None
    review, product, seller = found
    url = f"{config.APP_URL}/seller/products/{product.id}/edit"
    data = {"product_id": product.id, "title": product.title, "review_id": review.id,
            "reason": review.reason or "", "url": url}
    subject = f"Changes needed: “{product.title}” was not approved"
    text = (
        f"Hello {seller.name},\n\n"
        f"Your product “{product.title}” was reviewed and was not approved for sale.\n\n"
        f"Reason given by the moderator:\n\n    {review.reason}\n\n"
        f"You can change the product and send it for review again: {url}\n\n"
        f"— {config.APP_NAME}\n"
    )
    return deliver(seller, PRODUCT_REJECTED, f"product-rejected:{review.id}", data, subject, text, email)


# ---------------------------------------------------------------------------
# Reading them
# ---------------------------------------------------------------------------


def describe(notification):
    """(headline, detail, link path) of one notification, for the notifications page."""
    data = notification.data or {}
    title = data.get("title", "your product")
    if notification.type == PRODUCT_APPROVED:
        return (f"“{title}” was approved and is now on sale.", None,
                _path(data.get("url")) or "/seller/products")
    if notification.type == PRODUCT_REJECTED:
        return (f"“{title}” was not approved.", data.get("reason") or None,
                f"/seller/products/{data['product_id']}/edit" if data.get("product_id") else "/seller/products")
    return (data.get("message") or notification.type.replace("_", " ").capitalize(), data.get("detail"),
            _path(data.get("url")))


def _path(url):
    """The path of a link to this shop, so the page links stay on whichever host serves it."""
    if url and url.startswith(config.APP_URL):
        return url[len(config.APP_URL):] or "/"
    return url if url and url.startswith("/") else None


def for_user(user):
    return (Notification.select().where(Notification.user == user)
            .order_by(Notification.created_at.desc(), Notification.id.desc()))


def mark_all_read(user):
    """Mark every unread notification of `user` read; returns how many were unread."""
    return (Notification.update(read_at=utcnow())
            .where((Notification.user == user) & Notification.read_at.is_null())
            .execute())
