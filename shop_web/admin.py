"""The admin's moderation area: products waiting for review, approve, reject with a reason.

Each decision is a ProductReview (moderation.py) and the seller's notification
job is dispatched in the same transaction, so the job exists exactly when the
decision does and is sent after it is committed.
"""

from shop.catalog import moderation
import tasks
from shop.errors import ValidationError
from models import Product, User, db
from shop_web.seller import send_product_file
from shop_web.common import (
    RouteTable,
    current_user,
    flash,
    get_object_or_404,
    redirect_to,
    render,
    request,
    require_role,
)

routes = RouteTable()

TABS = ("pending", "approved", "rejected")


def _moderation_page(status="pending", errors=None, failed_id=None, reason="", http_status=200):
    items = list(moderation.queue(status).limit(200))
    return render("admin_products.tpl", status=http_status, title="Moderation", tab=status, tabs=TABS,
                  counts=moderation.counts(), products=items, errors=errors or {}, failed_id=failed_id,
                  reason=reason)


@routes.get("/admin/products")
@require_role("admin")
def admin_products_index():
    status = request.query.get("status")
    return _moderation_page(status if status in TABS else "pending")


@routes.post("/admin/products/<product_id:int>/approve")
@require_role("admin")
def admin_products_approve(product_id):
    product = get_object_or_404(Product.select().where(Product.id == product_id), "No such product.")
    try:
        with db.atomic():
            review = moderation.approve(product.id, current_user())
            tasks.notify_product_approved.dispatch(review.id)
    except moderation.AlreadyDecided as exc:
        flash(str(exc), "warning")
        redirect_to("/admin/products")
    flash(f"“{product.title}” is approved and on sale. The seller is being notified.", "success")
    redirect_to("/admin/products")


@routes.post("/admin/products/<product_id:int>/reject")
@require_role("admin")
def admin_products_reject(product_id):
    product = get_object_or_404(Product.select().where(Product.id == product_id), "No such product.")
    reason = request.forms.getunicode("reason") or ""
    try:
        with db.atomic():
            review = moderation.reject(product.id, current_user(), reason)
            tasks.notify_product_rejected.dispatch(review.id)
    except moderation.AlreadyDecided as exc:
        flash(str(exc), "warning")
        redirect_to("/admin/products")
    except ValidationError as exc:
        return _moderation_page(errors=exc.errors, failed_id=product.id, reason=reason, http_status=400)
    flash(f"“{product.title}” is rejected. The seller is being notified with your reason.", "success")
    redirect_to("/admin/products")


@routes.get("/admin/products/<product_id:int>/file")
@require_role("admin")
def admin_products_file(product_id):
    """The product file, so a moderator can check what buyers would get."""
    product = get_object_or_404(Product.select(Product, User).join(User).where(Product.id == product_id),
                                "No such product.")
    return send_product_file(product)
