"""Invoices: a number given once per order, in a series without gaps per year, and a PDF drawn with fpdf2.

The number is allocated in its own transaction (the year's highest + 1, unique per
year, retried on a collision), so numbers have no gaps from failed renders and never
repeat. Everything the invoice shows (the issuer's legal details, the buyer, the
sellers, the items and amounts) is kept with the number as it was then, and the PDF is
drawn from that, whenever it is drawn: an issued invoice never changes (a refund is a
credit note, shop/orders/credit_notes.py).
The PDF is drawn in a child process (killable.call) from plain data gathered
here, so a stuck render cannot outlive the job's timeout, into a temporary
file; only the whole PDF is then stored under invoices/ (on the disk, a partial
file renamed into place; in a bucket, one completed upload), and the row names
it only after that.
"""

import json
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
from models import Invoice, Order, OrderItem, User, db, is_sqlite, utcnow
from shop.money import format_money
from shop.tax import rates as tax_rates

log = logging.getLogger(__name__)

# DejaVu Sans travels with the shop (fonts/, with its licence), so every invoice embeds
# the same Unicode font on any machine: names and currency signs such as ₹ print as
# typed, and no viewer swaps in a font of other widths. {style: path}
font_paths = invoice_pdf.font_paths


class InvoiceNotReady(MarketplaceError):
    """The order has not been paid, so there is nothing to invoice yet."""

    status = 409


def issuer_details(order):
    """Who issues the order's invoice, as the settings say now (kept with the invoice's number).

    The shop itself, with its legal details; where it invoices on the sellers' behalf
    (INVOICE_ISSUER=seller), each seller of the order with theirs as well.
    """
    details = {"model": config.INVOICE_ISSUER, "legal_name": config.SHOP_LEGAL_NAME,
               "address": config.SHOP_LEGAL_ADDRESS,
               "country": tax_rates.table().name_of(config.SHOP_COUNTRY) if config.SHOP_COUNTRY else "",
               "tax_number": config.SHOP_TAX_NUMBER, "registration": config.SHOP_REGISTRATION, "sellers": {}}
    if config.INVOICE_ISSUER == "seller":
        sellers = User.select().where(User.id.in_(OrderItem.select(OrderItem.seller).where(OrderItem.order == order)))
        details["sellers"] = {str(seller.id): {"legal_name": seller.legal_name or seller.name,
                                               "address": seller.legal_address or "",
                                               "tax_number": seller.tax_number or ""} for seller in sellers}
    return details


def next_number(model, year):
    """The next number of `model`'s series of `year`: one after the year's highest."""
    return (model.select(fn.MAX(model.number)).where(model.year == year).scalar() or 0) + 1


def held_order(order):
    """The order as it stands, read inside the transaction that keeps a document naming its
    buyer, with the buyer's row held until that transaction ends. An account deletion
    anonymises the buyer and their orders and documents in one transaction: a document is
    kept either before it (and anonymised by it) or after it (from the anonymised rows).
    SQLite's transactions hold the write lock from their start already."""
    if not is_sqlite():
        User.select(User.id).where(User.id == order.buyer_id).for_update().execute()
    return Order.get_by_id(order.id)


def allocate(order):
    """The order's Invoice, numbered once: the next number of the year's series, with its
    document (what the PDF shows) kept in the same row."""
    for _ in range(10):
        existing = Invoice.get_or_none(Invoice.order == order)
        if existing is not None:
            return existing
        try:
            with db.atomic():
                current = held_order(order)
                issuer = issuer_details(current)
                facts = document_of(current, issuer)
                now = utcnow()
                invoice = Invoice(order=order, year=now.year, number=next_number(Invoice, now.year),
                                  issued_at=now, issuer=json.dumps(issuer, sort_keys=True))
                invoice.document = json.dumps(numbered(facts, invoice), sort_keys=True)
                invoice.save(force_insert=True)
                return invoice
        except IntegrityError:
            continue  # another order took that number, or this order got its invoice meanwhile
    raise RuntimeError(f"could not allocate an invoice number for order {order.id}")


def pdf_key(invoice):
    """The storage key of the invoice's PDF, or None while it is not generated (or was lost)."""
    if not invoice.pdf_path:
        return None
    key = key_for(INVOICES, invoice.pdf_path)
    return key if storage().exists(key) else None


# What an invoice says of the tax, by the order's treatment.
TAX_NOTES = {
    "reverse_charge": "Reverse charge: VAT to be accounted for by the recipient (Article 196, "
                      "Council Directive 2006/112/EC). No VAT is charged on this invoice.",
    "not_taxed": "No VAT or GST is charged: the supply is outside the scope of the tax where the buyer is.",
    "stripe": "Tax as calculated by Stripe Tax at checkout.",
}


def issuer_of(invoice):
    """The issuer kept with the invoice; an invoice of the old series has the settings' of today."""
    return json.loads(invoice.issuer) if invoice.issuer else issuer_details(Order.get_by_id(invoice.order_id))


def buyer_block(order, buyer):
    """The buyer as an invoice names them: their name and address, business, country and tax number."""
    name, email = guests.receipt_contact(order, buyer)
    return {"name": name, "email": email, "business_name": order.buyer_business_name or "",
            "address": order.buyer_address or "",
            "country": tax_rates.table().name_of(order.tax_country) if order.tax_country else "",
            "tax_number": order.buyer_tax_number or ""}


def item_lines(items, rate):
    """The items as an invoice lists them: net, rate, tax and gross of each."""
    return [{"title": item.title, "seller": item.seller.name, "seller_id": item.seller.id, "net": item.net_amount,
             "rate": rate, "tax": item.tax_amount, "price": item.price, "list_price": item.price_before_discount,
             "discount": item.discount or 0} for item in items]


def draw_and_store(data, relative):
    """Draw an invoice or credit note PDF in a killable child and store it whole under
    `relative`; returns its size. Stored only once drawn, so no half-written file is named."""
    with tempfile.TemporaryDirectory(prefix="marketplace-pdf-") as folder:
        rendered = Path(folder) / Path(relative).name
        size = killable.call(invoice_pdf.render_pdf, data, str(rendered))
        storage().put_path(key_for(INVOICES, relative), rendered, content_type="application/pdf")
    return size


def document_of(order, issuer):
    """What an invoice of `order` shows but its number and date, from the order, its buyer and
    its sellers as they are now, as JSON values (amounts in minor units, dates as text)."""
    buyer = User.get_by_id(order.buyer_id)
    Seller = User.alias()
    items = list(OrderItem.select(OrderItem, Seller).join(Seller, on=(OrderItem.seller == Seller.id))
                 .where(OrderItem.order == order).order_by(OrderItem.id))
    sellers = {}
    for item in items:
        entry = sellers.setdefault(item.seller.id, {"name": item.seller.name, "email": item.seller.email,
                                                    "items": 0, "total": 0,
                                                    "legal": issuer["sellers"].get(str(item.seller.id))})
        entry["items"] += 1
        entry["total"] += item.price
    method = methods.LABELS.get(order.gateway, order.gateway)
    rate = f"{order.tax_rate}%" if order.tax_rate is not None else "–"
    return {
        "kind": "invoice",
        "shop": config.APP_NAME,
        "shop_url": config.APP_URL,
        "issuer": issuer,
        "order": order.reference,
        "paid": f"{order.paid_at:%d %B %Y %H:%M} UTC" if order.paid_at else "",
        "method": method,
        "payment_ref": order.payment_ref or order.gateway_ref or "",
        "buyer": buyer_block(order, buyer),
        "items": item_lines(items, rate),
        # Before a discount code, and what it took: the items' amounts are the prices paid.
        "subtotal": sum(item.price_before_discount for item in items),
        "discount": sum(item.discount or 0 for item in items),
        "sellers": list(sellers.values()),
        "net": sum(item.net_amount for item in items),
        "tax": sum(item.tax_amount for item in items),
        "rate": rate,
        "total": order.total,
        "currency": order.currency,
        "tax_note": TAX_NOTES.get(order.tax_treatment or ""),
    }


def numbered(facts, invoice):
    """The document `facts` with the invoice's number and date."""
    return {**facts, "label": invoice.label, "issued": f"{invoice.issued_at:%d %B %Y}"}


def invoice_data(invoice):
    """Everything the PDF shows, as plain picklable values: the document kept with the
    number, and the fonts of this machine."""
    if invoice.document:
        data = json.loads(invoice.document)
    else:
        # Numbered before invoices kept their document: drawn from the order as it is now,
        # as such invoices always were.
        data = numbered(document_of(Order.get_by_id(invoice.order_id), issuer_of(invoice)), invoice)
    data["fonts"] = font_paths()
    return data


def number(order_id):
    """The paid order's Invoice, numbered once (its PDF not drawn here); returns (order, invoice)."""
    order = Order.get_or_none(Order.id == order_id)
    if order is None or order.paid_at is None:
        raise InvoiceNotReady(f"order {order_id} has not been paid; there is nothing to invoice")
    return order, allocate(order)


def generate(order_id):
    """The order's invoice with its PDF stored, made once; returns the Invoice."""
    order, invoice = number(order_id)
    if pdf_key(invoice):
        return invoice
    relative = f"{invoice.issued_at:%Y}/{invoice.label}.pdf"
    size = draw_and_store(invoice_data(invoice), relative)
    Invoice.update(pdf_path=relative, pdf_size=size, generated_at=utcnow()).where(
        Invoice.id == invoice.id).execute()
    log.info("invoice %s for order %s written (%d bytes)", invoice.label, order.reference, size)
    return Invoice.get_by_id(invoice.id)


def send_invoice_email(order_id):
    """Email the invoice to the buyer once: with its PDF attached (drawn first if it is
    missing), or with INVOICE_DELIVERY=link, numbered and with the link to download it, the
    PDF then drawn on the first download."""
    link_only = config.INVOICE_DELIVERY == "link"
    if link_only:
        order, invoice = number(order_id)
    else:
        order = Order.get_by_id(order_id)
        invoice = Invoice.get_or_none(Invoice.order == order)
        if invoice is None or pdf_key(invoice) is None:
            invoice = generate(order_id)
    buyer = User.get_by_id(order.buyer_id)
    name, address = guests.receipt_contact(order, buyer)
    where = (f"from your order's page: {guests.order_link(order)}" if buyer.is_guest
             else f"from your purchases page: {config.APP_URL}/purchases")
    amount = format_money(order.total, order.currency)
    if link_only:
        lines = [f"Your invoice {invoice.label} for your order {order.reference} ({amount}) is issued.", "",
                 f"Download it {where}"]
        attachments = []
    else:
        lines = [f"Attached is invoice {invoice.label} for your order {order.reference} ({amount}).", "",
                 f"You can also download it {where}"]
        attachments = [(f"{invoice.label}.pdf", storage().read_bytes(pdf_key(invoice)), "application/pdf")]
    text = "\n".join([f"Hello {name}," if name else "Hello,", "", *lines, "", config.APP_NAME])
    return mail.send(f"invoice:{order.id}", address, f"Invoice {invoice.label} for order {order.reference}",
                     text, attachments=attachments)
