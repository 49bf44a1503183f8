"""Moderation: an admin approves a pending product, or rejects it with a reason.

Each decision is one ProductReview row, written in the same transaction as
the product's new status and only while the product is still pending, so two
admins deciding at once produce one decision. The caller dispatches the
seller's notification (keyed by the review) in that same transaction.
"""

from peewee import fn

from shop.catalog import search
from shop.errors import ValidationError
from models import Product, ProductReview, User, db, utcnow

MAX_REASON = 1000


class AlreadyDecided(ValidationError):
    """The product is no longer waiting for review (another admin was quicker, or it changed)."""


def queue(status="pending"):
    """Products in `status` with their sellers, the oldest waiting first for pending ones."""
    query = Product.select(Product, User).join(User).where(Product.status == status)
    if status == "pending":
        return query.order_by(Product.updated_at.asc(), Product.id.asc())
    return query.order_by(Product.updated_at.desc(), Product.id.desc())


def counts():
    """{status: number of products} for the moderation tabs."""
    rows = Product.select(Product.status, fn.COUNT(Product.id).alias("n")).group_by(Product.status)
    found = {row.status: row.n for row in rows}
    return {status: found.get(status, 0) for status in ("pending", "approved", "rejected")}


def _decide(product_id, admin, decision, reason, fields):
    with db.atomic():
        changed = (Product.update(status=decision, updated_at=utcnow(), **fields)
                   .where((Product.id == product_id) & (Product.status == "pending"))
                   .execute())
        if not changed:
            raise AlreadyDecided("This product is no longer waiting for review.")
        # On sale: found by search from this commit on; rejected: its row (if any) is gone.
        search.refresh(product_id)
        return ProductReview.create(product=product_id, admin=admin, decision=decision, reason=reason)


def approve(product_id, admin):
    """Put a pending product on sale; returns the ProductReview."""
    return _decide(product_id, admin, "approved", None, {"approved_at": utcnow(), "rejection_reason": None})


def reject(product_id, admin, reason):
    """Refuse a pending product with a reason the seller will read; returns the ProductReview."""
    reason = (reason or "").replace("\r\n", "\n").strip()
    if not reason:
        raise ValidationError(errors={"reason": "Tell the seller why, so they can fix it."})
    if len(reason) > MAX_REASON:
        raise ValidationError(errors={"reason": f"Use at most {MAX_REASON} characters."})
    return _decide(product_id, admin, "rejected", reason, {"rejection_reason": reason, "approved_at": None})
