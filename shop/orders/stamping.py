"""Stamped PDFs: a buyer's own copy of a product's PDFs with their name and email on every
page, as Gumroad makes them, for products whose seller asks for it (Product.stamp_pdfs).

A copy is made once per purchased item and file, by the job stamp_purchased_pdf, the
first time the buyer's link asks for it; the PDF is read and written in a killable
child process (a hostile PDF can keep a parser busy in a loop), stored beside the
product files and recorded as a StampedFile, unique per item and file, so a job that
runs twice keeps one copy. The same download links then serve it (downloads.py).
"""

import io
import logging
import secrets
import tempfile
from pathlib import Path

from shop.storage import PRODUCTS, key_for, storage
from models import OrderItem, ProductFile, StampedFile, db

log = logging.getLogger(__name__)

STAMPED_FOLDER = "stamped"
FONTS = Path(__file__).resolve().parent / "fonts"


def wants_stamp(product, product_file):
    return bool(product.stamp_pdfs) and product_file is not None and product_file.name.lower().endswith(".pdf")


def stamp_text(order_item):
    order = order_item.order
    email = order.guest_email or order.buyer.email
    name = order.buyer.name if not order.buyer.is_guest else email
    return f"Licensed to {name} <{email}> · order {order.reference}"


def render_stamped(source, destination, text):
    """Write `source` with `text` along the foot of every page to `destination` (runs in a child)."""
    from fpdf import FPDF
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=source)
    overlays = {}
    for page in writer.pages:
        box = page.mediabox
        size = (float(box.width), float(box.height))
        if size not in overlays:
            overlay = FPDF(unit="pt", format=size)
            overlay.set_auto_page_break(False)
            overlay.add_font("DejaVu", "", str(FONTS / "DejaVuSans.ttf"))
            overlay.add_page()
            overlay.set_font("DejaVu", size=7)
            overlay.set_text_color(110, 110, 110)
            overlay.set_xy(12, size[1] - 16)
            overlay.cell(text=text)
            overlays[size] = PdfReader(io.BytesIO(bytes(overlay.output()))).pages[0]
        page.merge_translated_page(overlays[size], float(box.left), float(box.bottom))
    with open(destination, "wb") as out:
        writer.write(out)


def stamp(order_item_id, product_file_id, timeout=None):
    """Make the item's stamped copy of the file if there is none; returns the StampedFile."""
    existing = StampedFile.get_or_none((StampedFile.order_item == order_item_id)
                                       & (StampedFile.product_file == product_file_id))
    if existing is not None:
        return existing
    item = OrderItem.get_by_id(order_item_id)
    product_file = ProductFile.get_by_id(product_file_id)
    from job_runtime import killable

    relative = f"{STAMPED_FOLDER}/{secrets.token_hex(16)}.pdf"
    store = storage()
    with store.local_copy(key_for(PRODUCTS, product_file.path), suffix=".pdf") as source, \
            tempfile.TemporaryDirectory(prefix="marketplace-stamp-") as folder:
        destination = Path(folder) / "stamped.pdf"
        killable.call(render_stamped, str(source), str(destination), stamp_text(item), timeout=timeout)
        store.put_path(key_for(PRODUCTS, relative), destination, content_type="application/pdf")
    with db.atomic():
        inserted = (StampedFile.insert(order_item=order_item_id, product_file=product_file_id, path=relative)
                    .on_conflict_ignore().execute())
    stamped = StampedFile.get((StampedFile.order_item == order_item_id)
                              & (StampedFile.product_file == product_file_id))
    if stamped.path != relative:
        # Another run of the job recorded its copy first: ours is not needed.
        store.delete(key_for(PRODUCTS, relative))
    elif inserted:
        log.info("stamped copy of file %s for order item %s made", product_file_id, order_item_id)
    return stamped
