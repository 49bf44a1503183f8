"""After the sale: the customer's purchases, invoices and downloads; the seller's balance;
the admin's orders and refunds."""

import logging
from urllib.parse import quote, urlencode

from bottle import HTTPResponse, static_file

from shop import config
from shop.orders import downloads
from shop.payments import gateways
from shop.orders import invoices
from shop.orders import ledger
from shop.orders import orders
from shop.payments import methods
import tasks
from shop.errors import ValidationError
from models import Invoice, Order, OrderItem, Refund, User, WebhookEvent, db
from shop_web.common import (
    Page,
    RouteTable,
    current_user,
    flash,
    int_param,
    json_response,
    redirect_to,
    render,
    request,
    require_login,
    require_role,
)

log = logging.getLogger(__name__)
routes = RouteTable()


# ---------------------------------------------------------------------------
# Purchases
# ---------------------------------------------------------------------------


def _purchase_rows(user):
    rows = []
    for order in orders.of_buyer(user):
        links = {link.order_item_id: link for link in downloads.links_for_order(order)}
        invoice = Invoice.get_or_none(Invoice.order == order)
        rows.append({"order": order, "items": orders.items_of(order), "links": links, "invoice": invoice,
                     "invoice_ready": bool(invoice and invoices.pdf_file(invoice))})
    return rows


@routes.get("/purchases")
@require_role("customer")
def purchases_index():
    return render("purchases.tpl", title="Your purchases", rows=_purchase_rows(current_user()),
                  link_state=downloads.state, link_url=downloads.url_for, remaining=downloads.remaining,
                  labels=methods.LABELS)


# ---------------------------------------------------------------------------
# Invoices: only the buyer and admins
# ---------------------------------------------------------------------------


def _invoice_order(order_id):
    order = orders.for_viewer(order_id, current_user())
    if order.paid_at is None:
        raise ValidationError(f"Order {order.reference} has not been paid, so it has no invoice.")
    return order


@routes.post("/orders/<order_id:int>/invoice")
@require_login
def invoice_request(order_id):
    """The "Download invoice" button: dispatch generate_invoice unless the PDF is there."""
    order = _invoice_order(order_id)
    invoice = Invoice.get_or_none(Invoice.order == order)
    if not (invoice and invoices.pdf_file(invoice)):
        tasks.generate_invoice.dispatch(order.id)
    redirect_to(f"/orders/{order.id}/invoice")


@routes.get("/orders/<order_id:int>/invoice")
@require_login
def invoice_show(order_id):
    """The PDF when it is ready; until then a page that waits for it."""
    order = _invoice_order(order_id)
    invoice = Invoice.get_or_none(Invoice.order == order)
    path = invoices.pdf_file(invoice) if invoice else None
    if path is None:
        return render("invoice_wait.tpl", title="Preparing your invoice", order=order,
                      scripts=["/static/order_status.js"])
    reply = static_file(path.name, root=str(path.parent), mimetype="application/pdf")
    reply.set_header("Content-Disposition", f'inline; filename="{invoice.label}.pdf"')
    reply.set_header("Cache-Control", "private, no-store")
    return reply


@routes.get("/orders/<order_id:int>/invoice.json")
@require_login
def invoice_status(order_id):
    order = _invoice_order(order_id)
    invoice = Invoice.get_or_none(Invoice.order == order)
    return json_response({"ready": bool(invoice and invoices.pdf_file(invoice)),
                          "url": f"/orders/{order.id}/invoice"})


# ---------------------------------------------------------------------------
# Downloads
# ---------------------------------------------------------------------------


def content_disposition(filename):
    """attachment with an ASCII fallback name and the exact name in RFC 5987 form."""
    name = downloads.safe_filename(filename)
    ascii_name = name.encode("ascii", "ignore").decode("ascii").strip() or "download"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


@routes.get("/download/<token>")
def download(token):
    user = current_user()
    if user is None:
        redirect_to("/login?" + urlencode({"next": f"/download/{token}"}))
    try:
        # A HEAD request (a browser or download manager probing) does not use up a download.
        link, path = downloads.claim(token, user, count=request.method != "HEAD")
    except downloads.DownloadRefused as exc:
        return render("download_refused.tpl", status=exc.status, title=exc.title, heading=exc.title,
                      message=str(exc))
    filename = link.product.file_name or path.name
    headers = {"Content-Disposition": content_disposition(filename), "Cache-Control": "private, no-store",
               "X-Content-Type-Options": "nosniff"}
    if config.DOWNLOAD_ACCEL_PREFIX:
        # nginx streams the file from its internal location; the app only decided who may have it.
        relative = path.relative_to(config.UPLOADS_DIR.resolve()).as_posix()
        headers["X-Accel-Redirect"] = config.DOWNLOAD_ACCEL_PREFIX.rstrip("/") + "/" + quote(relative)
        return HTTPResponse(status=200, body="", headers={"Content-Type": "application/octet-stream", **headers})
    # One request is one counted download: the whole file, never a byte range of it.
    request.environ.pop("HTTP_RANGE", None)
    reply = static_file(path.name, root=str(path.parent), mimetype="application/octet-stream")
    for name, value in headers.items():
        reply.set_header(name, value)
    return reply


# ---------------------------------------------------------------------------
# The seller's balance
# ---------------------------------------------------------------------------


@routes.get("/seller/balance")
@require_role("seller")
def seller_balance():
    seller = current_user()
    entries = ledger.entries(seller, limit=200)
    return render("seller_balance.tpl", title="Balance", balances=ledger.balances(seller),
                  summary=ledger.sales_summary(seller), entries=entries,
                  commission=config.COMMISSION_PERCENT, currency=config.CURRENCY)


# ---------------------------------------------------------------------------
# Admin: orders and refunds
# ---------------------------------------------------------------------------

STATUS_FILTERS = ("all", "pending", "paid", "failed", "expired", "refunded")


@routes.get("/admin/orders")
@require_role("admin")
def admin_orders():
    chosen = request.query.get("status") if request.query.get("status") in STATUS_FILTERS else "all"
    query = Order.select(Order, User).join(User, on=(Order.buyer == User.id))
    if chosen != "all":
        query = query.where(Order.status == chosen)
    page = Page(query.order_by(Order.created_at.desc(), Order.id.desc()),
                int_param(request.query.get("page"), 1, 1), 25)
    ids = [order.id for order in page.items]
    counts = {}
    for item in OrderItem.select(OrderItem.order).where(OrderItem.order.in_(ids)):
        counts[item.order_id] = counts.get(item.order_id, 0) + 1
    refunds = {refund.order_id: refund for refund in Refund.select().where(Refund.order.in_(ids))}
    return render("admin_orders.tpl", title="Orders", page=page, chosen=chosen, filters=STATUS_FILTERS,
                  counts=counts, refunds=refunds, labels=methods.LABELS,
                  base_query=urlencode({"status": chosen}) + "&")


@routes.get("/admin/orders/<order_id:int>")
@require_role("admin")
def admin_order_show(order_id):
    order = orders.get(order_id)
    return render("admin_order.tpl", title=f"Order {order.reference}", order=order,
                  buyer=User.get_by_id(order.buyer_id), items=orders.items_of(order),
                  links={link.order_item_id: link for link in downloads.links_for_order(order)},
                  events=list(WebhookEvent.select().where(WebhookEvent.order == order).order_by(WebhookEvent.id)),
                  refund=Refund.get_or_none(Refund.order == order),
                  invoice=Invoice.get_or_none(Invoice.order == order), labels=methods.LABELS,
                  link_state=downloads.state)


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
