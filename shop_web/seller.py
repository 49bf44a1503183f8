"""The seller area: my products, a new product, editing one, my own product file, my balance.

Sellers see only their own products: another seller's product answers 404, as
if it did not exist. The work is done by shop/catalog/products.py; these views
turn form posts into its calls and dispatch the thumbnail job in the same
transaction, so the job exists exactly when the product row does. The balance
page reads the seller's entries in the ledger (shop/orders/ledger.py); the
reports page and its CSV files read them through shop/payouts/reports.py.
"""

import logging

from shop import config
from shop.accounts import verification
from shop.catalog import previews, products, storefronts, taxonomy
from shop.catalog import updates as product_updates
from job_runtime.flow import describe_batch, find_batch
from shop.orders import ledger
from shop.payouts import balances as payout_balances
from shop.payouts import chart as sales_chart
from shop.payouts import manual as manual_payouts
from shop.payouts import reports
from shop.payouts import connect as stripe_connect
import tasks
from shop.errors import NotFound, PaymentError, ValidationError
from models import Product, db
from shop_web.product_files import send_product_file
from shop_web.common import (
    RouteTable,
    current_user,
    flash,
    form_data,
    get_object_or_404,
    redirect_to,
    render,
    int_param,
    request,
    require_role,
    response,
    validation_page,
)

log = logging.getLogger(__name__)

routes = RouteTable()

FORM_TEMPLATE = "seller_product_form.tpl"


def _upload(name):
    """The uploaded file of field `name` as products.Upload, or None when none was chosen."""
    upload = request.files.get(name)
    if upload is None or not upload.raw_filename:
        return None
    return products.Upload(upload.raw_filename, upload.file)


def _uploads(name):
    """Every file chosen in the multiple-file field `name`, as products.Upload."""
    return [products.Upload(upload.raw_filename, upload.file) for upload in request.files.getall(name)
            if upload.raw_filename]


def _removed_file_ids():
    return [int(value) for value in request.forms.getall("remove_file") if value.isdigit()]


def _own_product(product_id):
    return get_object_or_404(Product.select().where((Product.id == product_id)
                                                    & (Product.seller == current_user())),
                             "You have no product with this number.")


def _dispatch_thumbnail(product, staged=None):
    if product.thumbnail_state == "processing":
        tasks.process_file_upload.dispatch(product.id, product.thumbnail_original)
    # The first page of a PDF product file, as a preview, made by the same kind of job.
    page = previews.pdf_page_for(product.id, staged)
    if page is not None:
        tasks.process_product_preview.dispatch(page.id, page.source)


def _form_page(product, exc, form):
    return validation_page(FORM_TEMPLATE, exc, form, title="Edit product" if product else "New product",
                           product=product, **_form_context(product))


def _form_context(product=None):
    return {"limits": _limits(), "categories": taxonomy.categories(),
            "product_files": products.files_of(product.id) if product else [],
            "updates": _updates_with_progress(product) if product else [],
            "previews": previews.of_product(product.id) if product else []}


def _updates_with_progress(product):
    """The product's updates, newest first, each with its batch's progress (None: waiting)."""
    found = []
    for update in product_updates.of_product(product.id):
        batch_ = find_batch(update.batch_id) if update.batch_id else None
        found.append((update, describe_batch(batch_) if batch_ else None))
    return found


def _limits():
    return {"file_mb": config.UPLOAD_MAX_MB, "thumbnail_mb": config.THUMBNAIL_MAX_MB,
            "currency": config.CURRENCY}


@routes.get("/seller/products")
@require_role("seller")
def seller_products_index():
    items = list(products.products_of(current_user()))
    return render("seller_products.tpl", title="My products", products=items)


@routes.get("/seller/products/new")
@require_role("seller")
def seller_products_new():
    return render(FORM_TEMPLATE, title="New product", product=None, **_form_context())


@routes.post("/seller/products")
@require_role("seller")
def seller_products_create():
    verification.require_verified(current_user())
    form = form_data(*products.FORM_FIELDS)
    try:
        with products.StagedFiles() as staged, db.atomic():
            product = products.create_product(current_user(), form, _upload("file"), _upload("thumbnail"),
                                              staged, extra_files=_uploads("extra_files"))
            _dispatch_thumbnail(product, staged)
            tasks.submitted_for_review(product)
    except ValidationError as exc:
        return _form_page(None, exc, form)
    flash(f"“{product.title}” is saved and waiting for review. You will be notified of the decision.",
          "success")
    redirect_to("/seller/products")


@routes.get("/seller/profile")
@require_role("seller")
def seller_profile():
    profile = storefronts.profile_of(current_user())
    return render("seller_profile.tpl", title="My storefront", profile=profile, form={"bio": profile.bio},
                  limits=_limits())


@routes.post("/seller/profile")
@require_role("seller")
def seller_profile_save():
    form = form_data("bio")
    try:
        with products.StagedFiles() as staged, db.atomic():
            profile, avatar = storefronts.save_profile(current_user(), form["bio"], _upload("avatar"), staged)
            if avatar:
                tasks.process_avatar_upload.dispatch(profile.id, avatar)
    except ValidationError as exc:
        return validation_page("seller_profile.tpl", exc, form, title="My storefront",
                               profile=storefronts.profile_of(current_user()), limits=_limits())
    flash("Your storefront is saved." + (" The new picture shows once it is processed." if avatar else ""),
          "success")
    redirect_to("/seller/profile")


@routes.post("/seller/products/<product_id:int>/previews")
@require_role("seller")
def seller_product_previews_add(product_id):
    product = _own_product(product_id)
    try:
        with products.StagedFiles() as staged, db.atomic():
            for preview in previews.add_images(product, _uploads("previews"), staged):
                tasks.process_product_preview.dispatch(preview.id, preview.source)
    except ValidationError as exc:
        return validation_page(FORM_TEMPLATE, exc, products.form_values(product), title="Edit product",
                               product=product, **_form_context(product))
    flash("The previews are added; they show on the product page once they are processed.", "success")
    redirect_to(f"/seller/products/{product.id}/edit")


@routes.post("/seller/products/<product_id:int>/previews/<preview_id:int>/delete")
@require_role("seller")
def seller_product_preview_delete(product_id, preview_id):
    product = _own_product(product_id)
    with products.StagedFiles() as staged:
        removed = previews.remove(product, preview_id, staged)
    if removed:
        flash("The preview is removed.", "success")
    else:
        flash("This preview no longer exists.", "warning")
    redirect_to(f"/seller/products/{product.id}/edit")


@routes.post("/seller/products/<product_id:int>/updates")
@require_role("seller")
def seller_product_update_write(product_id):
    verification.require_verified(current_user())
    product = _own_product(product_id)
    form = form_data("message")
    try:
        with db.atomic():
            update = product_updates.write(product, form["message"])
            if product.status == "approved":
                tasks.start_product_update.dispatch(update.id)
    except ValidationError as exc:
        return validation_page(FORM_TEMPLATE, exc, products.form_values(product), title="Edit product",
                               product=product, **_form_context(product))
    if product.status == "approved":
        flash("Your update is on its way to everyone who bought this product.", "success")
    else:
        flash("Your update will be sent to your buyers once the product is approved.", "success")
    redirect_to(f"/seller/products/{product.id}/edit")


@routes.get("/seller/products/<product_id:int>/edit")
@require_role("seller")
def seller_products_edit(product_id):
    product = _own_product(product_id)
    return render(FORM_TEMPLATE, title="Edit product", product=product, form=products.form_values(product),
                  **_form_context(product))


@routes.post("/seller/products/<product_id:int>/edit")
@require_role("seller")
def seller_products_update(product_id):
    verification.require_verified(current_user())
    product = _own_product(product_id)
    form = form_data(*products.FORM_FIELDS)
    was = product.status
    try:
        with products.StagedFiles() as staged, db.atomic():
            product, review_again = products.update_product(product, form, _upload("file"),
                                                            _upload("thumbnail"), staged,
                                                            extra_files=_uploads("extra_files"),
                                                            remove_file_ids=_removed_file_ids())
            _dispatch_thumbnail(product, staged)
            if review_again:
                tasks.submitted_for_review(product)
    except ValidationError as exc:
        return _form_page(product, exc, form)
    if review_again and was == "approved":
        flash("Saved. Because buyers will see new content, the product is hidden from the shop "
              "until it has been reviewed again.", "warning")
    elif review_again:
        flash("Saved and sent for review again. You will be notified of the decision.", "success")
    else:
        flash("Your changes are saved.", "success")
    redirect_to("/seller/products")


@routes.get("/seller/products/<product_id:int>/file")
@require_role("seller")
def seller_products_file(product_id):
    """The seller's own product file, to check what buyers receive."""
    return send_product_file(_own_product(product_id))


# ---------------------------------------------------------------------------
# The seller's balance
# ---------------------------------------------------------------------------


@routes.get("/seller/balance")
@require_role("seller")
def seller_balance():
    seller = current_user()
    entries = ledger.entries(seller, limit=200)
    return render("seller_balance.tpl", title="Balance", balances=payout_balances.balances(seller),
                  summary=ledger.sales_summary(seller), entries=entries,
                  payouts=manual_payouts.payouts(seller, limit=50), methods=manual_payouts.METHOD_LABELS,
                  hold_days=config.PAYOUT_HOLD_DAYS, commission=config.COMMISSION_PERCENT,
                  currency=config.CURRENCY, stripe_enabled=config.STRIPE_ENABLED,
                  connected=stripe_connect.account_of(seller), minimum=config.PAYOUT_MINIMUM)


# ---------------------------------------------------------------------------
# Getting paid through Stripe Connect: the seller's Express account and its onboarding
# ---------------------------------------------------------------------------


def _require_stripe():
    if not config.STRIPE_ENABLED:
        raise NotFound("Stripe is not configured in this shop.")


def _to_onboarding(seller):
    try:
        url = stripe_connect.onboarding_url(seller)
    except PaymentError as exc:
        log.warning("Stripe onboarding for seller %s could not start: %s", seller.id, exc)
        flash("Stripe could not be reached just now. Please try again in a moment.", "error")
        redirect_to("/seller/balance")
    redirect_to(url)


@routes.post("/seller/payouts/connect")
@require_role("seller")
def seller_payouts_connect():
    """Create the seller's Express account (once) and send them to Stripe's onboarding."""
    _require_stripe()
    _to_onboarding(current_user())


@routes.get("/seller/payouts/connect/refresh")
@require_role("seller")
def seller_payouts_connect_refresh():
    """Stripe sends the seller here when their onboarding link has expired: a fresh link."""
    _require_stripe()
    seller = current_user()
    if stripe_connect.account_of(seller) is None:
        redirect_to("/seller/balance")
    _to_onboarding(seller)


@routes.get("/seller/payouts/connect/return")
@require_role("seller")
def seller_payouts_connect_return():
    """Back from Stripe: what Stripe's record of the account says, not that the seller came back."""
    _require_stripe()
    seller = current_user()
    try:
        account = stripe_connect.refresh(seller)
    except PaymentError as exc:
        log.warning("Stripe account of seller %s could not be read: %s", seller.id, exc)
        account = stripe_connect.account_of(seller)
    if stripe_connect.can_be_paid(account):
        flash("Your Stripe account is connected. Your available balance is paid out to it on the payout schedule.",
              "success")
    elif account is not None:
        flash("Stripe still needs some details before it can pay you. Continue the set-up when you are ready.",
              "warning")
    redirect_to("/seller/balance")


# ---------------------------------------------------------------------------
# The seller's reports, and their CSV files for an accountant
# ---------------------------------------------------------------------------


def _period():
    days = int_param(request.query.get("days"), 30, 1)
    return days if days in reports.PERIODS else 30


@routes.get("/seller/reports")
@require_role("seller")
def seller_reports():
    seller, days = current_user(), _period()
    figures = reports.summary(seller, days)
    chart = sales_chart.sales_per_day(reports.daily_sales(seller, days), figures["currency"])
    return render("seller_reports.tpl", title="Reports", days=days, periods=reports.PERIODS, chart=chart,
                  figures=figures)


def _csv_download(text, name):
    response.content_type = "text/csv; charset=utf-8"
    response.set_header("Content-Disposition", f'attachment; filename="{name}"')
    return text


@routes.get("/seller/reports/sales.csv")
@require_role("seller")
def seller_reports_sales_csv():
    days = _period()
    return _csv_download(reports.sales_csv(current_user(), days), f"sales-last-{days}-days.csv")


@routes.get("/seller/reports/payouts.csv")
@require_role("seller")
def seller_reports_payouts_csv():
    days = _period()
    return _csv_download(reports.payouts_csv(current_user(), days), f"payouts-last-{days}-days.csv")
