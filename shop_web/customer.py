"""The customer's pages after the sale: purchases, invoices and downloads.

Invoices are for the order's buyer and for admins (orders.for_viewer decides);
files go out from the shop's storage through shop_web/product_files.py;
the PDF is made by the generate_invoice job, so its page waits until the file is
there. A download link is claimed in shop/orders/downloads.py, which decides
who may have the file and counts the download; this module only sends it.
Cart, checkout and the order status page are shop_web/checkout.py.
"""

from urllib.parse import quote, urlencode

from bottle import HTTPResponse

from shop import config
from shop.orders import downloads
from shop.orders import invoices
from shop.orders import orders
from shop.orders import renewals
from shop.payments import methods
import tasks
from shop.errors import ValidationError
from models import Invoice
from shop.storage import storage
from shop_web.product_files import attachment_headers, send_stored
from shop_web.common import (
    RouteTable,
    current_user,
    flash,
    json_response,
    redirect_to,
    render,
    request,
    require_login,
    require_role,
)

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
                     "invoice_ready": bool(invoice and invoices.pdf_key(invoice))})
    return rows


@routes.get("/purchases")
@require_role("customer")
def purchases_index():
    return render("purchases.tpl", title="Your purchases", rows=_purchase_rows(current_user()),
                  link_state=downloads.state, link_url=downloads.url_for, remaining=downloads.remaining,
                  renewable=renewals.renewable, labels=methods.LABELS)


@routes.post("/purchases/links/<link_id:int>/renew")
@require_role("customer")
def renew_link(link_id):
    """"Get a new link" on the Purchases page: an expired or used-up link made fresh."""
    try:
        link = renewals.renew(link_id, current_user())
    except renewals.RenewalRefused as exc:
        return render("download_refused.tpl", status=exc.status, title="Link not renewed",
                      heading="Link not renewed", message=str(exc))
    flash(f"A new download link for {link.order_item.title} is ready below.", "success")
    redirect_to(f"/purchases#{link.order_item.order.reference}")


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
    if not (invoice and invoices.pdf_key(invoice)):
        tasks.generate_invoice.dispatch(order.id)
    redirect_to(f"/orders/{order.id}/invoice")


@routes.get("/orders/<order_id:int>/invoice")
@require_login
def invoice_show(order_id):
    """The PDF when it is ready, as a download (or shown in the browser with ?view=1);
    until then a page that waits for it."""
    order = _invoice_order(order_id)
    invoice = Invoice.get_or_none(Invoice.order == order)
    key = invoices.pdf_key(invoice) if invoice else None
    if key is None:
        return render("invoice_wait.tpl", title="Preparing your invoice", order=order,
                      scripts=["/static/order_status.js"])
    # "Download invoice" saves the file; the browser's viewer is one click away for those
    # who only want to read it.
    disposition = "inline" if request.query.get("view") == "1" else "attachment"
    return send_stored(key, f"{invoice.label}.pdf", "application/pdf", disposition)


@routes.get("/orders/<order_id:int>/invoice.json")
@require_login
def invoice_status(order_id):
    order = _invoice_order(order_id)
    invoice = Invoice.get_or_none(Invoice.order == order)
    return json_response({"ready": bool(invoice and invoices.pdf_key(invoice)),
                          "url": f"/orders/{order.id}/invoice",
                          "view_url": f"/orders/{order.id}/invoice?view=1"})


# ---------------------------------------------------------------------------
# Downloads
# ---------------------------------------------------------------------------


@routes.get("/download/<token>")
def download(token):
    user = current_user()
    if user is None:
        redirect_to("/login?" + urlencode({"next": f"/download/{token}"}))
    try:
        # A HEAD request (a browser or download manager probing) does not use up a download.
        link, key = downloads.claim(token, user, count=request.method != "HEAD")
    except downloads.DownloadRefused as exc:
        return render("download_refused.tpl", status=exc.status, title=exc.title, heading=exc.title,
                      message=str(exc))
    filename = link.product.file_name or key.rsplit("/", 1)[-1]
    if config.DOWNLOAD_ACCEL_PREFIX:
        # Only with the local disk (the settings refuse it with STORAGE=s3).
        path = storage().local_path(key)
        # nginx streams the file from its internal location; the app only decided who may have it.
        relative = path.relative_to(config.UPLOADS_DIR.resolve()).as_posix()
        accel = config.DOWNLOAD_ACCEL_PREFIX.rstrip("/") + "/" + quote(relative)
        return HTTPResponse(status=200, body="", headers={**attachment_headers(filename), "X-Accel-Redirect": accel})
    # One request is one counted download: the whole file, never a byte range of it.
    request.environ.pop("HTTP_RANGE", None)
    return send_stored(key, filename)
