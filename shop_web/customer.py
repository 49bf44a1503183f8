"""The customer's pages after the sale: purchases, invoices and downloads.

Invoices are for the order's buyer and for admins (orders.for_viewer decides);
files go out from the shop's storage through shop_web/product_files.py;
the PDF is made by the generate_invoice job, asked for by the invoice's page when the
file is missing, so the page waits until it is there. A download link is claimed in
shop/orders/downloads.py, which decides who may have the file and counts the download;
this module only sends it.
Cart, checkout and the order status page are shop_web/checkout.py.
"""

import tempfile
from urllib.parse import quote, urlencode

from bottle import HTTPResponse

from shop import config
from shop.accounts import guests
from shop.orders import downloads
from shop.orders import credit_notes
from shop.orders import invoices
from shop.catalog import updates as product_updates
from shop.orders import orders
from shop.selling import licenses
from shop.orders import renewals
from shop.payments import methods
import tasks
from shop.errors import NotFound, ValidationError
from models import Invoice, User
from shop.storage import storage
from shop_web.product_files import attachment_headers, send_stored
from shop_web.common import (
    RouteTable,
    current_shopper,
    current_user,
    flash,
    json_response,
    redirect_to,
    render,
    request,
    response,
    require_login_or_guest,
    require_role,
)

routes = RouteTable()


# ---------------------------------------------------------------------------
# Purchases
# ---------------------------------------------------------------------------


def _purchase_rows(user):
    rows = []
    bought = orders.of_buyer(user)
    news = product_updates.sent_for_products(
        {item.product_id for order in bought for item in orders.items_of(order)}) if bought else {}
    for order in bought:
        links = {link.order_item_id: link for link in downloads.links_for_order(order)}
        invoice = Invoice.get_or_none(Invoice.order == order)
        rows.append({"order": order, "items": orders.items_of(order), "links": links, "invoice": invoice,
                     "keys": licenses.keys_for_order(order),
                     "invoice_ready": bool(invoice and invoices.pdf_key(invoice)),
                     "credit_notes": _ready_credit_notes(order), "updates": news})
    return rows


@routes.get("/purchases")
@require_role("customer")
def purchases_index():
    return render("purchases.tpl", title="Your purchases", rows=_purchase_rows(current_user()),
                  link_state=downloads.state, link_url=downloads.url_for, remaining=downloads.remaining,
                  renewable=renewals.renewable, labels=methods.LABELS, key_state=licenses.state,
                  product_files=downloads.files_of_product)


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
    order = orders.for_viewer(order_id, current_user() or current_shopper())
    return _paid(order)


def _paid(order):
    if order.paid_at is None:
        raise ValidationError(f"Order {order.reference} has not been paid, so it has no invoice.")
    return order


def _request_invoice(order, base):
    """The "Download invoice" button: to the invoice's page, which asks for a missing PDF."""
    redirect_to(base)


def _invoice_key(order):
    """(invoice, storage key of its PDF); a missing PDF is asked of generate_invoice, so every
    way to the invoice (the button, the email's link with INVOICE_DELIVERY=link, the admin's
    order page) draws it on first request. The job draws once, however often it is asked."""
    invoice = Invoice.get_or_none(Invoice.order == order)
    key = invoices.pdf_key(invoice) if invoice else None
    if key is None:
        tasks.generate_invoice.dispatch(order.id)
        invoice = Invoice.get_or_none(Invoice.order == order)  # drawn already where jobs run at once
        key = invoices.pdf_key(invoice) if invoice else None
    return invoice, key


def _show_invoice(order, base, back):
    """The PDF when it is ready, as a download (or shown in the browser with ?view=1);
    until then a page that waits for it."""
    invoice, key = _invoice_key(order)
    if key is None:
        return render("invoice_wait.tpl", title="Preparing your invoice", order=order, invoice_url=base,
                      back=back, scripts=["/static/order_status.js"])
    # "Download invoice" saves the file; the browser's viewer is one click away for those
    # who only want to read it.
    disposition = "inline" if request.query.get("view") == "1" else "attachment"
    return send_stored(key, f"{invoice.label}.pdf", "application/pdf", disposition)


def _invoice_status(order, base):
    invoice = Invoice.get_or_none(Invoice.order == order)
    return json_response({"ready": bool(invoice and invoices.pdf_key(invoice)), "url": base,
                          "view_url": f"{base}?view=1"})


def _ready_credit_notes(order):
    """The order's credit notes whose PDF is drawn (the refund's job draws and emails each)."""
    return [note for note in credit_notes.of_order(order) if credit_notes.pdf_key(note)]


def _show_credit_note(order, note_id):
    note = next((note for note in _ready_credit_notes(order) if note.id == note_id), None)
    if note is None:
        raise NotFound("This order has no such credit note, or it is still being prepared.")
    disposition = "inline" if request.query.get("view") == "1" else "attachment"
    return send_stored(credit_notes.pdf_key(note), f"{note.label}.pdf", "application/pdf", disposition)


@routes.get("/orders/<order_id:int>/credit-notes/<note_id:int>")
@require_login_or_guest
def credit_note_show(order_id, note_id):
    return _show_credit_note(_invoice_order(order_id), note_id)


@routes.get("/orders/<reference>/guest/<key>/credit-notes/<note_id:int>")
def guest_credit_note_show(reference, key, note_id):
    return _show_credit_note(_paid(_guest_order(reference, key)), note_id)


@routes.post("/orders/<order_id:int>/invoice")
@require_login_or_guest
def invoice_request(order_id):
    order = _invoice_order(order_id)
    _request_invoice(order, f"/orders/{order.id}/invoice")


@routes.get("/orders/<order_id:int>/invoice")
@require_login_or_guest
def invoice_show(order_id):
    order = _invoice_order(order_id)
    back = "/purchases" if current_user() else f"/orders/{order.id}/success"
    return _show_invoice(order, f"/orders/{order.id}/invoice", back)


@routes.get("/orders/<order_id:int>/invoice.json")
@require_login_or_guest
def invoice_status(order_id):
    order = _invoice_order(order_id)
    return _invoice_status(order, f"/orders/{order.id}/invoice")


# ---------------------------------------------------------------------------
# A guest's order, from the signed link of its receipt
# ---------------------------------------------------------------------------


def _guest_order(reference, key):
    """The order a receipt's link names. Once the order has joined an account, the
    link sends its reader to log in to that account's library instead."""
    # The key in the address opens the order and its downloads: no cache keeps the page,
    # and no page it links to is told the address.
    request.environ["app.private_page"] = True
    response.set_header("Referrer-Policy", "no-referrer")
    order = guests.order_for_link(reference, key)
    if order is None:
        raise NotFound("This order link is not valid. Check that the whole link from your email was opened.")
    if not User.get_by_id(order.buyer_id).is_guest:
        flash(f"Order {order.reference} is in the library of the account for its address now: "
              "log in to find it under Purchases.")
        redirect_to("/login?" + urlencode({"next": "/purchases"}))
    return order


@routes.get("/orders/<reference>/guest/<key>")
def guest_order_show(reference, key):
    """A guest's library for one order: its downloads (renewed here when used up or
    expired), its invoice, and what was bought."""
    order = _guest_order(reference, key)
    base = f"/orders/{order.reference}/guest/{key}"
    links = downloads.links_for_order(order) if order.status in ("paid", "refunded") else []
    return render("guest_order.tpl", title=f"Order {order.reference}", order=order, base=base,
                  items=orders.items_of(order), links=links, link_state=downloads.state,
                  link_url=downloads.url_for, remaining=downloads.remaining, renewable=renewals.renewable,
                  invoice_ready=order.paid_at is not None, labels=methods.LABELS,
                  keys=licenses.keys_for_order(order), key_state=licenses.state,
                  credit_notes=_ready_credit_notes(order) if order.paid_at else [],
                  product_files=downloads.files_of_product)


@routes.post("/orders/<reference>/guest/<key>/links/<link_id:int>/renew")
def guest_renew_link(reference, key, link_id):
    order = _guest_order(reference, key)
    try:
        link = renewals.renew(link_id, User.get_by_id(order.buyer_id), order_id=order.id)
    except renewals.RenewalRefused as exc:
        return render("download_refused.tpl", status=exc.status, title="Link not renewed",
                      heading="Link not renewed", message=str(exc))
    flash(f"A new download link for {link.order_item.title} is ready below.", "success")
    redirect_to(f"/orders/{order.reference}/guest/{key}")


@routes.post("/orders/<reference>/guest/<key>/invoice")
def guest_invoice_request(reference, key):
    order = _paid(_guest_order(reference, key))
    _request_invoice(order, f"/orders/{order.reference}/guest/{key}/invoice")


@routes.get("/orders/<reference>/guest/<key>/invoice")
def guest_invoice_show(reference, key):
    order = _paid(_guest_order(reference, key))
    return _show_invoice(order, f"/orders/{order.reference}/guest/{key}/invoice",
                         f"/orders/{order.reference}/guest/{key}")


@routes.get("/orders/<reference>/guest/<key>/invoice.json")
def guest_invoice_status(reference, key):
    order = _paid(_guest_order(reference, key))
    return _invoice_status(order, f"/orders/{order.reference}/guest/{key}/invoice")


# ---------------------------------------------------------------------------
# Downloads
# ---------------------------------------------------------------------------


def _claimed(claim, *args):
    """downloads.claim* for the visitor; a stamped copy not made yet is asked of its job, and
    the claim tried again (the job may have run already; if not, the page says to reload)."""
    user = current_user() or current_shopper()
    count = request.method != "HEAD"
    try:
        return claim(*args[:1], user, *args[1:], count=count)
    except downloads.BeingStamped as exc:
        for order_item_id, product_file_id in exc.missing:
            tasks.stamp_purchased_pdf.dispatch(order_item_id, product_file_id)
    return claim(*args[:1], user, *args[1:], count=count)


def _refused(exc):
    if isinstance(exc, downloads.BeingStamped):
        response.set_header("Retry-After", "30")
    if exc.status == 401:
        redirect_to("/login?" + urlencode({"next": request.path}))
    return render("download_refused.tpl", status=exc.status, title=exc.title, heading=exc.title,
                  message=str(exc))


@routes.get("/download/<token>")
def download(token):
    try:
        # A HEAD request (a browser or download manager probing) does not use up a download.
        link, key = _claimed(downloads.claim, token)
    except downloads.DownloadRefused as exc:
        return _refused(exc)
    return _send_download(key, link.product.file_name or key.rsplit("/", 1)[-1])


@routes.get("/download/<token>/files/<file_id:int>")
def download_one_file(token, file_id):
    try:
        _, product_file, key = _claimed(downloads.claim_file, token, file_id)
    except downloads.DownloadRefused as exc:
        return _refused(exc)
    return _send_download(key, product_file.name)


@routes.get("/download/<token>/all.zip")
def download_all_files(token):
    try:
        link, files = _claimed(downloads.claim_all, token)
    except downloads.DownloadRefused as exc:
        return _refused(exc)
    # Made for this request in a temporary file, which is gone once the response is sent.
    archive = downloads.write_zip(files, tempfile.TemporaryFile())
    size = archive.seek(0, 2)
    archive.seek(0)
    headers = attachment_headers(f"{link.order_item.title}.zip")
    return HTTPResponse(body=archive, status=200, headers={**headers, "Content-Length": str(size)})


def _send_download(key, filename):
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
