"""Invoices: a sequential number given once per order, and a PDF drawn with fpdf2.

The number is allocated in its own transaction (highest + 1, unique, retried on
a collision), so numbers have no gaps from failed renders and never repeat.
The PDF is drawn in a child process (killable.call) from plain data gathered
here, so a stuck render cannot outlive the job's timeout, into a temporary
file; only the whole PDF is then stored under invoices/ (on the disk, a partial
file renamed into place; in a bucket, one completed upload), and the row names
it only after that.
"""

import logging
import tempfile
from pathlib import Path

from peewee import IntegrityError, fn

from shop import config
from shop.accounts import guests
from shop.orders import invoice_pdf
from job_runtime import killable
from shop import mail
from shop.payments import methods
from shop.errors import MarketplaceError
from shop.storage import INVOICES, key_for, storage
from models import Invoice, Order, OrderItem, User, db, utcnow
from shop.money import format_money

log = logging.getLogger(__name__)

# DejaVu Sans travels with the shop (fonts/, with its licence), so every invoice embeds
# the same Unicode font on any machine: names and currency signs such as ₹ print as
# typed, and no viewer swaps in a font of other widths.
FONT_DIR = Path(__file__).resolve().parent / "fonts"
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}


class InvoiceNotReady(MarketplaceError):
    """The order has not been paid, so there is nothing to invoice yet."""

    status = 409


def font_paths():
    """{style: path} of the font every invoice embeds."""
    return {style: str(FONT_DIR / name) for style, name in FONT_FILES.items()}


def allocate(order):
    """The order's Invoice, numbered once: the next number after the highest."""
    for _ in range(10):
        existing = Invoice.get_or_none(Invoice.order == order)
        if existing is not None:
            return existing
        try:
            with db.atomic():
                number = (Invoice.select(fn.MAX(Invoice.number)).scalar() or 0) + 1
                return Invoice.create(order=order, number=number)
        except IntegrityError:
            continue  # another order took that number, or this order got its invoice meanwhile
    raise RuntimeError(f"could not allocate an invoice number for order {order.id}")


def pdf_key(invoice):
    """The storage key of the invoice's PDF, or None while it is not generated (or was lost)."""
    if not invoice.pdf_path:
        return None
    key = key_for(INVOICES, invoice.pdf_path)
    return key if storage().exists(key) else None


def invoice_data(invoice):
    """Everything the PDF shows, as plain picklable values."""
    order = Order.get_by_id(invoice.order_id)
    buyer = User.get_by_id(order.buyer_id)
    Seller = User.alias()
    items = list(OrderItem.select(OrderItem, Seller).join(Seller, on=(OrderItem.seller == Seller.id))
                 .where(OrderItem.order == order).order_by(OrderItem.id))
    sellers = {}
    for item in items:
        entry = sellers.setdefault(item.seller.id, {"name": item.seller.name, "email": item.seller.email,
                                                    "items": 0, "total": 0})
        entry["items"] += 1
        entry["total"] += item.price
    method = methods.LABELS.get(order.gateway, order.gateway)
    data = {
        "shop": config.APP_NAME,
        "shop_url": config.APP_URL,
        "label": invoice.label,
        "issued": f"{invoice.issued_at:%d %B %Y}",
        "order": order.reference,
        "paid": f"{order.paid_at:%d %B %Y %H:%M} UTC" if order.paid_at else "",
        "method": method,
        "payment_ref": order.payment_ref or order.gateway_ref or "",
        "buyer": dict(zip(("name", "email"), guests.receipt_contact(order, buyer))),
        "items": [{"title": item.title, "seller": item.seller.name, "price": item.price} for item in items],
        "sellers": list(sellers.values()),
        "total": order.total,
        "currency": order.currency,
        "refunded": f"{order.refunded_at:%d %B %Y}" if order.status == "refunded" and order.refunded_at else None,
    }
    data["fonts"] = font_paths()
    return data


def generate(order_id):
    """The order's invoice with its PDF stored, made once; returns the Invoice."""
    order = Order.get_or_none(Order.id == order_id)
    if order is None or order.paid_at is None:
        raise InvoiceNotReady(f"order {order_id} has not been paid; there is nothing to invoice")
    invoice = allocate(order)
    if pdf_key(invoice):
        return invoice
    relative = f"{invoice.issued_at:%Y}/{invoice.label}.pdf"
    with tempfile.TemporaryDirectory(prefix="marketplace-invoice-") as folder:
        rendered = Path(folder) / f"{invoice.label}.pdf"
        size = killable.call(invoice_pdf.render_pdf, invoice_data(invoice), str(rendered))
        storage().put_path(key_for(INVOICES, relative), rendered, content_type="application/pdf")
    Invoice.update(pdf_path=relative, pdf_size=size, generated_at=utcnow()).where(
        Invoice.id == invoice.id).execute()
    log.info("invoice %s for order %s written (%d bytes)", invoice.label, order.reference, size)
    return Invoice.get_by_id(invoice.id)


def send_invoice_email(order_id):
    """Email the invoice PDF to the buyer once (generating it first if it is missing)."""
    order = Order.get_by_id(order_id)
    invoice = Invoice.get_or_none(Invoice.order == order)
    if invoice is None or pdf_key(invoice) is None:
        invoice = generate(order_id)
    buyer = User.get_by_id(order.buyer_id)
    name, address = guests.receipt_contact(order, buyer)
    where = (f"from your order's page: {guests.order_link(order)}" if buyer.is_guest
             else f"from your purchases page: {config.APP_URL}/purchases")
    text = "\n".join([
        f"Hello {name}," if name else "Hello,", "",
        f"Attached is invoice {invoice.label} for your order {order.reference} "
        f"({format_money(order.total, order.currency)}).", "",
        f"You can also download it {where}", "",
        config.APP_NAME])
    return mail.send(f"invoice:{order.id}", address, f"Invoice {invoice.label} for order {order.reference}",
                     text, attachments=[(f"{invoice.label}.pdf", storage().read_bytes(pdf_key(invoice)),
                                         "application/pdf")])
