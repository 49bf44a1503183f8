"""The admin's area: moderation of products, and the shop's orders and refunds.

Each moderation decision is a ProductReview (shop/catalog/moderation.py) and
the seller's notification job is dispatched in the same transaction, so the job
exists exactly when the decision does and is sent after it is committed. A
refund is recorded and its request_refund job dispatched the same way; the
order changes only when the gateway confirms the refund.

The payouts page shows every seller's pending, available and paid-out
balance (shop/payouts/balances.py) and records a payout made outside the shop
(shop/payouts/manual.py); the seller's notice is dispatched in the same
transaction as the payout's ledger debit.

The queue dashboard, also for admins, is shop_web/queue_admin.py.
"""

import datetime
from urllib.parse import urlencode

from shop.accounts import guests
from shop.catalog import moderation, taxonomy
from shop.catalog import updates as product_updates
from shop.orders import downloads
from shop.orders import orders
from shop.payments import gateways
from shop.payments import methods
from shop.payouts import balances as payout_balances
from shop.payouts import manual as manual_payouts
from shop.payouts import reports
from shop.payouts import connect as stripe_connect
from shop.tax import checkout as checkout_tax
from shop.tax import report as tax_report
from shop.orders import credit_notes
from shop import config
from shop.money import format_money, parse_money
import tasks
from shop.errors import ValidationError
from models import Invoice, Order, OrderItem, Product, Refund, User, WebhookEvent, db
from shop_web.product_files import send_product_file
from shop_web.common import (
    Page,
    RouteTable,
    current_user,
    flash,
    form_data,
    get_object_or_404,
    int_param,
    redirect_to,
    render,
    request,
    require_role,
    response,
)

routes = RouteTable()


# ---------------------------------------------------------------------------
# Moderation
# ---------------------------------------------------------------------------

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
            # The seller's updates that waited for this approval go to the buyers now.
            for update in product_updates.waiting_for(product.id):
                tasks.start_product_update.dispatch(update.id)
            tasks.publish_after_commit("product.approved", review.id)
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
            tasks.publish_after_commit("product.rejected", review.id)
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


# ---------------------------------------------------------------------------
# Orders and refunds
# ---------------------------------------------------------------------------

STATUS_FILTERS = ("all", "pending", "paid", "failed", "expired", "refunded")


# ---------------------------------------------------------------------------
# Categories (the catalog's shelves)
# ---------------------------------------------------------------------------


def _categories_page(errors=None, form=None, failed_id=None, http_status=200):
    return render("admin_categories.tpl", status=http_status, title="Categories",
                  categories=taxonomy.categories(), errors=errors or {}, form=form or {}, failed_id=failed_id)


@routes.get("/admin/categories")
@require_role("admin")
def admin_categories():
    return _categories_page()


@routes.post("/admin/categories")
@require_role("admin")
def admin_category_create():
    name = request.forms.getunicode("name") or ""
    try:
        category = taxonomy.create_category(name)
    except ValidationError as exc:
        return _categories_page(errors=exc.errors, form={"name": name}, http_status=400)
    flash(f"The category “{category.name}” is added; sellers can choose it now.", "success")
    redirect_to("/admin/categories")


@routes.post("/admin/categories/<category_id:int>/rename")
@require_role("admin")
def admin_category_rename(category_id):
    name = request.forms.getunicode("name") or ""
    try:
        taxonomy.rename_category(category_id, name)
    except ValidationError as exc:
        return _categories_page(errors=exc.errors or {"name": str(exc)}, failed_id=category_id, http_status=400)
    flash("The category is renamed; its web address stays the same.", "success")
    redirect_to("/admin/categories")


@routes.post("/admin/categories/<category_id:int>/delete")
@require_role("admin")
def admin_category_delete(category_id):
    if not taxonomy.delete_category(category_id):
        flash("This category no longer exists.", "warning")
    else:
        flash("The category is removed; its products stay on sale without a category.", "success")
    redirect_to("/admin/categories")


@routes.get("/admin/orders")
@require_role("admin")
def admin_orders():
    chosen = request.query.get("status") if request.query.get("status") in STATUS_FILTERS else "all"
    query = Order.select(Order, User).join(User, on=(Order.buyer == User.id))
    counted = Order.select()  # every order has its buyer: the count needs no join (126 ms to 8 at 100,000)
    if chosen != "all":
        query = query.where(Order.status == chosen)
        counted = counted.where(Order.status == chosen)
    page = Page(query.order_by(Order.created_at.desc(), Order.id.desc()),
                int_param(request.query.get("page"), 1, 1), 25, count_query=counted)
    ids = [order.id for order in page.items]
    counts = {}
    for item in OrderItem.select(OrderItem.order).where(OrderItem.order.in_(ids)):
        counts[item.order_id] = counts.get(item.order_id, 0) + 1
    refunds = {refund.order_id: refund for refund in Refund.select().where(Refund.order.in_(ids))}
    return render("admin_orders.tpl", title="Orders", page=page, chosen=chosen, filters=STATUS_FILTERS,
                  counts=counts, refunds=refunds, labels=methods.LABELS, contact=guests.receipt_contact,
                  base_query=urlencode({"status": chosen}) + "&")


@routes.get("/admin/orders/<order_id:int>")
@require_role("admin")
def admin_order_show(order_id):
    order = orders.get(order_id)
    return render("admin_order.tpl", title=f"Order {order.reference}", order=order,
                  buyer=User.get_by_id(order.buyer_id), items=orders.items_of(order), contact=guests.receipt_contact,
                  links={link.order_item_id: link for link in downloads.links_for_order(order)},
                  events=list(WebhookEvent.select().where(WebhookEvent.order == order).order_by(WebhookEvent.id)),
                  refund=Refund.get_or_none(Refund.order == order),
                  invoice=Invoice.get_or_none(Invoice.order == order), labels=methods.LABELS,
                  link_state=downloads.state, credit_notes=credit_notes.of_order(order),
                  credited=credit_notes.credited_item_ids(order),
                  tax_evidence=checkout_tax.evidence(order), evidence_conflicts=checkout_tax.evidence_conflicts(order))


@routes.post("/admin/orders/<order_id:int>/refund")
@require_role("admin")
def admin_order_refund(order_id):
    order = orders.get(order_id)
    try:
        with db.atomic():
            refund = gateways.create_refund(order, current_user())
            tasks.request_refund.dispatch(refund.id)
    except ValidationError as exc:
        flash(str(exc), "error")
        redirect_to(f"/admin/orders/{order.id}")
    flash(f"Refund of order {order.reference} requested from "
          f"{methods.LABELS.get(order.gateway, order.gateway)}. The order changes once the gateway confirms it.",
          "success")
    redirect_to(f"/admin/orders/{order.id}")


@routes.post("/admin/orders/<order_id:int>/credit-note")
@require_role("admin")
def admin_order_credit_note(order_id):
    """A credit note for some items of a paid order: the document of a partial refund made in the
    gateway's own dashboard (the shop's refund button refunds the whole order, with its note)."""
    order = orders.get(order_id)
    item_ids = [item_id for item_id in map(int_param, request.forms.getall("item_id")) if item_id is not None]
    try:
        if order.status != "paid":
            raise ValidationError(f"Order {order.reference} is {order.status}: only a paid order's items are credited "
                                  "here; a refund of the whole order issues its own credit note.")
        with db.atomic():
            note, created = credit_notes.issue(order.id, item_ids, reason=form_data("reason")["reason"])
            if created:
                tasks.send_credit_note.dispatch(note.id)
    except ValidationError as exc:
        flash(str(exc), "error")
        redirect_to(f"/admin/orders/{order.id}")
    flash(f"Credit note {note.label} issued for {format_money(note.gross, note.currency)}; "
          "the buyer receives it by email." if created else f"Credit note {note.label} was already issued.", "success")
    redirect_to(f"/admin/orders/{order.id}")


# ---------------------------------------------------------------------------
# Payouts
# ---------------------------------------------------------------------------


def _payouts_page(errors=None, failed_id=None, form=None, http_status=200):
    # Every seller's balance sums the whole ledger: once for the page, not again for those due.
    sellers = payout_balances.every_seller()
    due = {seller.id for seller, _ in payout_balances.payouts_due(of=sellers)}
    # Sellers whose Stripe account is paid by the payout schedule: the owner need not pay them by hand.
    on_stripe = {account.seller_id for _, account in stripe_connect.connected_sellers()}
    return render("admin_payouts.tpl", status=http_status, title="Payouts",
                  sellers=sellers, due=due, on_stripe=on_stripe,
                  schedule=config.PAYOUT_SCHEDULE,
                  commission=payout_balances.commission_earned(), payouts=manual_payouts.payouts(limit=50),
                  methods=manual_payouts.METHODS, labels=manual_payouts.METHOD_LABELS, request_key=manual_payouts.new_request_key(),
                  hold_days=config.PAYOUT_HOLD_DAYS, minimum=config.PAYOUT_MINIMUM, currency=config.CURRENCY,
                  errors=errors or {}, failed_id=failed_id, form=form or {})


@routes.get("/admin/payouts")
@require_role("admin")
def admin_payouts():
    return _payouts_page()


@routes.get("/admin/payouts.csv")
@require_role("admin")
def admin_payouts_csv():
    """Every seller's payouts of the last year, for the owner's accountant."""
    response.content_type = "text/csv; charset=utf-8"
    response.set_header("Content-Disposition", 'attachment; filename="payouts-all-sellers-last-365-days.csv"')
    return reports.all_payouts_csv()


@routes.get("/admin/tax.csv")
@require_role("admin")
def admin_tax_csv():
    """Net and tax per country and rate for a period (?from=YYYY-MM-DD&to=YYYY-MM-DD; the quarter so far
    by default), for the owner's tax returns."""
    start, end = tax_report.period(request.query.get("from"), request.query.get("to"))
    response.content_type = "text/csv; charset=utf-8"
    last = (end - datetime.timedelta(days=1)).date()
    response.set_header("Content-Disposition", f'attachment; filename="tax-{start.date()}-to-{last}.csv"')
    return tax_report.tax_csv(start, end)


@routes.post("/admin/payouts/<seller_id:int>")
@require_role("admin")
def admin_payout_record(seller_id):
    """Record a payout made by bank or PayPal; the form's request key makes a double-click record one."""
    seller = get_object_or_404(User.select().where((User.id == seller_id) & (User.role == "seller")),
                               "No such seller.")
    form = {name: request.forms.getunicode(name) or "" for name in ("amount", "currency", "method", "reference",
                                                                      "request_key")}
    currency = form["currency"] if form["currency"] in payout_balances.balances(seller) else config.CURRENCY
    try:
        amount = parse_money(form["amount"], currency, field="amount")
        with db.atomic():
            payout, created = manual_payouts.record_payout(seller, amount, currency, form["method"],
                                                           form["reference"], form["request_key"], current_user())
            if created:
                tasks.notify_payout_sent.dispatch(payout.id)
                tasks.publish_after_commit("payout.paid", payout.id)
    except ValidationError as exc:
        return _payouts_page(errors=exc.errors, failed_id=seller.id, form=form, http_status=400)
    if created:
        flash(f"Payout of {format_money(payout.amount, payout.currency)} to {seller.name} recorded. The seller is being notified.", "success")
    else:
        flash(f"This payout to {seller.name} was already recorded.", "warning")
    redirect_to("/admin/payouts")
