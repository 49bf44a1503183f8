"""Invoices: a sequential number given once per order, and a PDF drawn with fpdf2.

The number is allocated in its own transaction (highest + 1, unique, retried on
a collision), so numbers have no gaps from failed renders and never repeat.
The PDF is drawn in a child process (killable.call) from plain data gathered
here, so a stuck render cannot outlive the job's timeout, and written under
INVOICES_DIR atomically (a partial file is renamed into place).
"""

import logging
import os
import unicodedata
from pathlib import Path

from peewee import IntegrityError, fn

import config
import killable
import mail
import payments
from errors import MarketplaceError
from models import Invoice, Order, OrderItem, User, db, utcnow
from money import exponent, format_money

log = logging.getLogger(__name__)

# Debian's fonts-dejavu-core: a Unicode font, so names and currency signs
# such as ₹ print as typed. Without it the PDF falls back to a core font.
FONT_DIRS = ("/usr/share/fonts/truetype/dejavu",)
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}


class InvoiceNotReady(MarketplaceError):
    """The order has not been paid, so there is nothing to invoice yet."""

    status = 409


def font_paths():
    """{style: path} of the Unicode font, or None when it is not installed."""
    for folder in FONT_DIRS:
        paths = {style: os.path.join(folder, name) for style, name in FONT_FILES.items()}
        if all(os.path.isfile(path) for path in paths.values()):
            return paths
    return None


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


def pdf_file(invoice):
    """The invoice's PDF on disk, or None while it is not generated."""
    if not invoice.pdf_path:
        return None
    path = config.INVOICES_DIR / invoice.pdf_path
    return path if path.is_file() else None


def _amount_text(minor, currency, unicode_font):
    if unicode_font:
        return format_money(minor, currency)
    # The core fonts have no ₹ and friends: amounts are written with the code.
    return f"{minor / 10 ** exponent(currency):,.{exponent(currency)}f} {currency}"


_LATIN1_STANDINS = {"\u2014": "-", "\u2013": "-", "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
                    "\u2026": "..."}


def latin1(value):
    """`value` in the core fonts' Latin-1: accents kept where they exist, others dropped, else "?"."""
    out = []
    for char in value:
        char = _LATIN1_STANDINS.get(char, char)
        try:
            char.encode("latin-1")
            out.append(char)
        except UnicodeEncodeError:
            base = unicodedata.normalize("NFKD", char).encode("latin-1", "ignore").decode("latin-1")
            out.append("".join(c for c in base if not unicodedata.combining(c)) or "?")
    return "".join(out)


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
    method = payments.LABELS.get(order.gateway, order.gateway)
    return {
        "shop": config.APP_NAME,
        "shop_url": config.APP_URL,
        "label": invoice.label,
        "issued": f"{invoice.issued_at:%d %B %Y}",
        "order": order.reference,
        "paid": f"{order.paid_at:%d %B %Y %H:%M} UTC" if order.paid_at else "",
        "method": method,
        "payment_ref": order.payment_ref or order.gateway_ref or "",
        "buyer": {"name": buyer.name, "email": buyer.email},
        "items": [{"title": item.title, "seller": item.seller.name, "price": item.price} for item in items],
        "sellers": list(sellers.values()),
        "total": order.total,
        "currency": order.currency,
        "refunded": f"{order.refunded_at:%d %B %Y}" if order.status == "refunded" and order.refunded_at else None,
        "fonts": font_paths(),
    }


def render_pdf(data, path):
    """Draw the invoice described by `data` into `path`. Runs in a child process."""
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos
    from fpdf.fonts import FontFace

    fonts = data["fonts"]
    unicode_font = bool(fonts)

    def text(value):
        value = str(value)
        return value if unicode_font else latin1(value)

    def amount(minor):
        return _amount_text(minor, data["currency"], unicode_font)

    class InvoicePDF(FPDF):
        def footer(self):
            self.set_y(-15)
            self.set_font(family, "", 8)
            self.set_text_color(120, 120, 130)
            self.cell(0, 5, text(f"{data['shop']} · {data['shop_url']} · {data['label']} · page "
                                 f"{self.page_no()}/{{nb}}"), align="C")

    pdf = InvoicePDF(format="A4")
    pdf.set_margins(18, 18, 18)
    pdf.set_auto_page_break(True, margin=22)
    if unicode_font:
        for style, font in fonts.items():
            pdf.add_font("DejaVu", style, font)
        family = "DejaVu"
    else:
        family = "Helvetica"
    pdf.set_title(text(f"Invoice {data['label']}"))
    pdf.set_author(text(data["shop"]))
    pdf.set_creator(text(data["shop"]))
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin
    ink, muted, brand = (31, 36, 48), (93, 100, 117), (79, 70, 229)

    # Heading: the shop on the left, INVOICE and its number on the right.
    top = pdf.get_y()
    pdf.set_font(family, "B", 18)
    pdf.set_text_color(*brand)
    pdf.cell(width / 2, 9, text(data["shop"]), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(family, "", 9)
    pdf.set_text_color(*muted)
    pdf.cell(width / 2, 5, text(data["shop_url"]), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.cell(width / 2, 5, text("Digital goods marketplace"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_xy(pdf.l_margin + width / 2, top)
    pdf.set_font(family, "B", 22)
    pdf.set_text_color(*ink)
    pdf.cell(width / 2, 10, "INVOICE", align="R", new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_font(family, "", 10)
    pdf.cell(width / 2, 6, text(data["label"]), align="R", new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_y(top + 28)
    pdf.set_draw_color(227, 230, 238)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + width, pdf.get_y())
    pdf.ln(6)

    # Who and when: billed-to on the left, the invoice's facts on the right.
    block_top = pdf.get_y()
    pdf.set_font(family, "B", 9)
    pdf.set_text_color(*muted)
    pdf.cell(width / 2, 5, "BILLED TO", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(*ink)
    pdf.set_font(family, "B", 11)
    pdf.cell(width / 2, 6, text(data["buyer"]["name"]), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(family, "", 10)
    pdf.cell(width / 2, 5, text(data["buyer"]["email"]), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    left_bottom = pdf.get_y()
    facts = [("Invoice number", data["label"]), ("Invoice date", data["issued"]), ("Order", data["order"]),
             ("Paid", data["paid"]), ("Payment method", data["method"])]
    if data["payment_ref"]:
        facts.append(("Payment reference", data["payment_ref"]))
    pdf.set_y(block_top)
    for label, value in facts:
        pdf.set_x(pdf.l_margin + width * 0.45)
        pdf.set_font(family, "", 9)
        pdf.set_text_color(*muted)
        pdf.cell(width * 0.22, 5.5, text(label))
        pdf.set_font(family, "", 9.5)
        pdf.set_text_color(*ink)
        pdf.cell(width * 0.33, 5.5, text(value), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_y(max(left_bottom, pdf.get_y()) + 8)

    # The items.
    pdf.set_font(family, "", 10)
    heading = FontFace(emphasis="BOLD", color=(255, 255, 255), fill_color=brand)
    with pdf.table(col_widths=(58, 28, 14), text_align=("LEFT", "LEFT", "RIGHT"), headings_style=heading,
                   borders_layout="HORIZONTAL_LINES", line_height=7, padding=(1.5, 2),
                   cell_fill_color=(246, 247, 251), cell_fill_mode="ROWS") as table:
        row = table.row()
        for title in ("Item", "Sold by", "Amount"):
            row.cell(title)
        for item in data["items"]:
            row = table.row()
            row.cell(text(item["title"]))
            row.cell(text(item["seller"]))
            row.cell(amount(item["price"]))
    pdf.ln(3)
    for label, value, bold in (("Subtotal", amount(data["total"]), False),
                               ("Total paid", amount(data["total"]), True)):
        pdf.set_x(pdf.l_margin + width * 0.55)
        pdf.set_font(family, "B" if bold else "", 11 if bold else 10)
        pdf.cell(width * 0.25, 7, text(label))
        pdf.cell(width * 0.20, 7, value, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if data["refunded"]:
        pdf.ln(2)
        pdf.set_x(pdf.l_margin + width * 0.55)
        pdf.set_font(family, "B", 10)
        pdf.set_text_color(180, 35, 24)
        pdf.cell(width * 0.45, 7, text(f"Refunded in full on {data['refunded']}"), align="R",
                 new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_text_color(*ink)
    pdf.ln(8)

    # The sellers: who sold what, since the shop sells on their behalf.
    pdf.set_font(family, "B", 9)
    pdf.set_text_color(*muted)
    pdf.cell(width, 5, "SELLERS", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(*ink)
    for seller in data["sellers"]:
        pdf.set_font(family, "B", 10)
        pdf.cell(width * 0.5, 6, text(seller["name"]))
        pdf.set_font(family, "", 9.5)
        count = f"{seller['items']} item{'s' if seller['items'] != 1 else ''}"
        pdf.cell(width * 0.3, 6, text(f"{seller['email']} · {count}"))
        pdf.cell(width * 0.2, 6, amount(seller["total"]), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(6)
    pdf.set_font(family, "", 8.5)
    pdf.set_text_color(*muted)
    pdf.multi_cell(width, 4.5, text(
        f"{data['shop']} sells these digital products on behalf of the sellers named above and collects "
        "payment for them. The products are delivered as downloads; no goods are shipped. "
        "Thank you for your purchase."), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.output(path)
    return os.path.getsize(path)


def generate(order_id):
    """The order's invoice with its PDF on disk, made once; returns the Invoice."""
    order = Order.get_or_none(Order.id == order_id)
    if order is None or order.paid_at is None:
        raise InvoiceNotReady(f"order {order_id} has not been paid; there is nothing to invoice")
    invoice = allocate(order)
    if pdf_file(invoice):
        return invoice
    relative = Path(f"{invoice.issued_at:%Y}") / f"{invoice.label}.pdf"
    target = config.INVOICES_DIR / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    size = killable.call(render_pdf, invoice_data(invoice), str(partial))
    os.replace(partial, target)
    Invoice.update(pdf_path=str(relative), pdf_size=size, generated_at=utcnow()).where(
        Invoice.id == invoice.id).execute()
    log.info("invoice %s for order %s written (%d bytes)", invoice.label, order.reference, size)
    return Invoice.get_by_id(invoice.id)


def send_invoice_email(order_id):
    """Email the invoice PDF to the buyer once (generating it first if it is missing)."""
    order = Order.get_by_id(order_id)
    invoice = Invoice.get_or_none(Invoice.order == order)
    if invoice is None or pdf_file(invoice) is None:
        invoice = generate(order_id)
    buyer = User.get_by_id(order.buyer_id)
    text = "\n".join([
        f"Hello {buyer.name},", "",
        f"Attached is invoice {invoice.label} for your order {order.reference} "
        f"({format_money(order.total, order.currency)}).", "",
        f"You can also download it from your purchases page: {config.APP_URL}/purchases", "",
        config.APP_NAME])
    return mail.send(f"invoice:{order.id}", buyer.email, f"Invoice {invoice.label} for order {order.reference}",
                     text, attachments=[(f"{invoice.label}.pdf", pdf_file(invoice).read_bytes(), "application/pdf")])
