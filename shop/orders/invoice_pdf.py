"""Drawing an invoice or a credit note PDF with fpdf2, from plain data (see
invoices.invoice_data and credit_notes.credit_note_data).

This module runs in a child process (killable.call), so it imports only what
drawing needs: no database, no settings.
"""

import logging
from io import BytesIO
from pathlib import Path

from shop.money import format_money

TITLES = {"invoice": "INVOICE", "credit_note": "CREDIT NOTE"}

# The font every invoice embeds, shipped with the shop.
FONT_DIR = Path(__file__).resolve().parent / "fonts"
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}

# Tables no embedded subset carries: those fpdf2 drops (its subsetter still reads the
# layout ones first, GPOS alone is 40 kB of DejaVu), and the old kerning table, which
# fontTools drops where GPOS was and fpdf2 does not read.
UNEMBEDDED_TABLES = ("FFTM", "GDEF", "GPOS", "GSUB", "MATH", "hdmx", "meta", "kern")

# What nearly every document is written in: Latin with its accents, punctuation, currency
# signs (₹, €), letterlike symbols (№, ™). A document is first drawn with DejaVu cut down to
# these, 781 of its 5,900 glyphs, because the cost of subsetting a font for a document
# grows with the font, not the document; one that needs a glyph outside them is drawn with
# the whole font.
COMMON = [*range(0x20, 0x250), *range(0x2000, 0x2070), *range(0x20A0, 0x20D0), *range(0x2100, 0x2150)]

COMMON_SET = frozenset(map(chr, COMMON))

# {(path, style, coverage): (the font as parsed, its file)}, parsed once by the warm child
# that draws one document after another.
_parsed_fonts = {}


def _font_file(path, coverage):
    """The bytes of the font at `path`, without UNEMBEDDED_TABLES; cut to COMMON if asked."""
    from fontTools import subset, ttLib

    font = ttLib.TTFont(path, recalcTimestamp=False, lazy=True)
    for tag in UNEMBEDDED_TABLES:
        if tag in font:
            del font[tag]
    if coverage == "common":
        # Glyph names kept, as fpdf2 picks glyphs by name; the rest as fpdf2 subsets.
        options = subset.Options(notdef_outline=True, recommended_glyphs=True, glyph_names=True)
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=COMMON)
        subsetter.subset(font)
    stream = BytesIO()
    font.save(stream)
    font.close()
    return stream.getvalue()


def font_paths():
    """{style: path} of the font every invoice embeds."""
    return {style: str(FONT_DIR / name) for style, name in FONT_FILES.items()}


def parse_fonts(paths):
    """Parse the fonts at {style: path} now, for documents drawn later in this process
    or in a process forked from it."""
    from fpdf import FPDF

    pdf = FPDF()
    for coverage in ("common", "full"):
        for style, path in paths.items():
            add_font(pdf, "DejaVu", style, path, coverage)
        pdf.fonts.clear()


def add_font(pdf, family, style, path, coverage="full"):
    """pdf.add_font(family, style, path), with the font parsed once per process.

    Parsing DejaVu (its character map and the widths of its glyphs) was most of an
    invoice's drawing time. The parsed tables are only read while a document is drawn;
    what a document changes (the glyphs it used, for its own subset, and the font file
    subsetted in place on output) is made new for each.
    """
    from fontTools import ttLib
    from fpdf.fonts import SubsetMap, TTFFont

    style = "".join(sorted(style.upper()))
    fontkey = f"{family.lower()}{style}"
    key = (path, style, coverage)
    if key not in _parsed_fonts:
        data = _font_file(path, coverage)
        parsed = TTFFont(pdf, BytesIO(data), fontkey, style)
        parsed.ttfont.close()
        _parsed_fonts[key] = (parsed, data)
    parsed, data = _parsed_fonts[key]
    font = TTFFont.__new__(TTFFont)
    for slot in TTFFont.__slots__:
        if hasattr(parsed, slot):
            setattr(font, slot, getattr(parsed, slot))
    font.i = len(pdf.fonts) + 1
    font.fontkey = fontkey
    font.ttffile = path
    # Subsetted in place on output. Its glyphs keep their bounding boxes: recomputing them
    # meant decoding and encoding every glyph again.
    font.ttfont = ttLib.TTFont(BytesIO(data), recalcTimestamp=False, recalcBBoxes=False, lazy=True)
    font.missing_glyphs = []
    font.biggest_size_pt = 0
    font.subset = SubsetMap(font)
    font.color_font = None  # DejaVu has no colour glyphs
    pdf.fonts[fontkey] = font


def _characters(value):
    """Every character of the strings in `value`, a document's data."""
    if isinstance(value, str):
        yield from value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _characters(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _characters(item)


def _lines(text):
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def render_pdf(data, path):
    """Draw the document described by `data` into `path`. Runs in a child process."""
    fpdf_log = logging.getLogger("fpdf.output")
    # A name in Cyrillic goes straight to the whole font; the check after drawing catches
    # what the data does not show (a currency sign, say).
    common = all(char in COMMON_SET or char < " " for char in _characters(data))
    for coverage in ("common", "full") if common else ("full",):
        pdf = _draw(data, coverage)
        # Its warning of glyphs missing from the cut-down font is no news: the whole font follows.
        fpdf_log.disabled = coverage == "common"
        try:
            document = pdf.output()
        finally:
            fpdf_log.disabled = False
        if not any(font.missing_glyphs for font in pdf.fonts.values()):
            break
    with open(path, "wb") as out:
        out.write(document)
    return len(document)


def _draw(data, coverage):
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos
    from fpdf.fonts import FontFace

    def text(value):
        return str(value)

    def amount(minor):
        return format_money(minor, data["currency"])

    kind = data.get("kind", "invoice")
    title = TITLES[kind]
    issuer = data["issuer"]

    class InvoicePDF(FPDF):
        def footer(self):
            self.set_y(-15)
            self.set_font(family, "", 8)
            self.set_text_color(120, 120, 130)
            self.cell(0, 5, text(f"{issuer['legal_name']} · {data['shop_url']} · {data['label']} · page "
                                 f"{self.page_no()}/{{nb}}"), align="C")

    pdf = InvoicePDF(format="A4")
    pdf.set_margins(18, 18, 18)
    pdf.set_auto_page_break(True, margin=22)
    # Always an embedded font: a PDF viewer that substitutes its own for a core font
    # (chromium's does) draws wider text than fpdf2 measured, past the margins.
    for style, font in data["fonts"].items():
        add_font(pdf, "DejaVu", style, font, coverage)
    family = "DejaVu"
    pdf.set_title(text(f"{title.title()} {data['label']}"))
    pdf.set_author(text(issuer["legal_name"]))
    pdf.set_creator(text(data["shop"]))
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin
    ink, muted, brand = (31, 36, 48), (93, 100, 117), (79, 70, 229)

    # Heading: the issuer with its legal details on the left, the title and number on the right.
    top = pdf.get_y()
    pdf.set_font(family, "B", 16)
    pdf.set_text_color(*brand)
    pdf.cell(width * 0.6, 8, text(issuer["legal_name"]), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(family, "", 9)
    pdf.set_text_color(*muted)
    details = _lines(issuer.get("address"))
    if issuer.get("country"):
        details.append(issuer["country"])
    if issuer.get("tax_number"):
        details.append(f"VAT/tax number: {issuer['tax_number']}")
    if issuer.get("registration"):
        details.append(f"Registration: {issuer['registration']}")
    details.append(data["shop_url"])
    for line in details:
        pdf.cell(width * 0.6, 4.6, text(line), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    left_bottom = pdf.get_y()
    pdf.set_xy(pdf.l_margin + width * 0.5, top)
    pdf.set_font(family, "B", 20)
    pdf.set_text_color(*ink)
    pdf.cell(width * 0.5, 10, title, align="R", new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_font(family, "", 10)
    pdf.cell(width * 0.5, 6, text(data["label"]), align="R", new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_y(max(left_bottom, top + 20) + 4)
    pdf.set_draw_color(227, 230, 238)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + width, pdf.get_y())
    pdf.ln(6)

    # Who and when: billed-to on the left, the document's facts on the right.
    block_top = pdf.get_y()
    buyer = data["buyer"]
    pdf.set_font(family, "B", 9)
    pdf.set_text_color(*muted)
    pdf.cell(width * 0.45, 5, "BILLED TO", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(*ink)
    for value, bold in ((buyer.get("business_name"), True), (buyer["name"], not buyer.get("business_name"))):
        if value:  # a guest gave only an address
            pdf.set_font(family, "B" if bold else "", 11 if bold else 10)
            pdf.cell(width * 0.45, 6, text(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(family, "", 10)
    buyer_lines = _lines(buyer.get("address"))
    if buyer.get("country"):
        buyer_lines.append(buyer["country"])
    if buyer.get("tax_number"):
        buyer_lines.append(f"VAT/tax number: {buyer['tax_number']}")
    buyer_lines.append(buyer["email"])
    for line in buyer_lines:
        pdf.cell(width * 0.45, 5, text(line), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    left_bottom = pdf.get_y()
    facts = [(f"{title.capitalize()} number", data["label"]), (f"{title.capitalize()} date", data["issued"])]
    if kind == "credit_note":
        facts.append(("Credits invoice", data["invoice_label"]))
    facts += [("Order", data["order"]), ("Paid", data["paid"]), ("Payment method", data["method"])]
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

    # The items: each with its net, rate, tax and gross.
    pdf.set_font(family, "", 9)
    heading = FontFace(emphasis="BOLD", color=(255, 255, 255), fill_color=brand)
    with pdf.table(col_widths=(36, 20, 12, 8, 11, 13), text_align=("LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"),
                   headings_style=heading, borders_layout="HORIZONTAL_LINES", line_height=6.5, padding=(1.5, 2),
                   cell_fill_color=(246, 247, 251), cell_fill_mode="ROWS") as table:
        row = table.row()
        for heading_text in ("Item", "Sold by", "Net", "Rate", "Tax", "Amount"):
            row.cell(heading_text)
        for item in data["items"]:
            row = table.row()
            # On a line of its own, so the narrow column does not break it mid-figure.
            discounted = (f"\n(list price {amount(item['list_price'])}, less {amount(item['discount'])})"
                          if item.get("discount") else "")
            row.cell(text(item["title"] + discounted))
            row.cell(text(item["seller"]))
            row.cell(amount(item["net"]))
            row.cell(text(item["rate"]))
            row.cell(amount(item["tax"]))
            row.cell(amount(item["price"]))
    pdf.ln(3)
    total_label = "Total credited" if kind == "credit_note" else "Total paid"
    lines = []
    if data.get("discount"):
        lines += [("Subtotal", amount(data["subtotal"]), False), ("Discount", amount(-data["discount"]), False)]
    lines += [("Net total", amount(data["net"]), False), (f"Tax ({data['rate']})", amount(data["tax"]), False),
              (total_label, amount(data["total"]), True)]
    for label, value, bold in lines:
        pdf.set_x(pdf.l_margin + width * 0.5)
        pdf.set_font(family, "B" if bold else "", 11 if bold else 10)
        pdf.cell(width * 0.3, 7, text(label))
        pdf.cell(width * 0.20, 7, value, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    notes = []
    if data.get("tax_note"):
        notes.append(data["tax_note"])
    if kind == "credit_note":
        notes.append(f"This credit note cancels invoice {data['invoice_label']} "
                     f"{'in full' if data['in_full'] else 'in part'}: {amount(data['total'])} is refunded"
                     f"{' (' + data['reason'] + ')' if data.get('reason') else ''}.")
    if notes:
        pdf.ln(2)
        pdf.set_font(family, "B", 9)
        for note in notes:
            pdf.multi_cell(width, 4.8, text(note), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(6)

    # The sellers: who sold what, with their legal details when the shop invoices on their behalf.
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
        legal = seller.get("legal")
        if legal:
            pdf.set_font(family, "", 8.5)
            parts = [legal["legal_name"], *_lines(legal.get("address"))]
            if legal.get("tax_number"):
                parts.append(f"VAT/tax number: {legal['tax_number']}")
            pdf.multi_cell(width, 4.5, text(" · ".join(parts)), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(6)
    pdf.set_font(family, "", 8.5)
    pdf.set_text_color(*muted)
    if issuer["model"] == "seller":
        model = (f"{issuer['legal_name']} issues this {title.lower()} in the name and on behalf of the sellers "
                 "named above, who make the supply, and collects payment for them.")
    else:
        model = (f"{issuer['legal_name']} sells these digital products in its own name as the seller of record, "
                 "for the sellers named above, and accounts for the tax on them.")
    pdf.multi_cell(width, 4.5, text(f"{model} The products are delivered as downloads; no goods are shipped."),
                   new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.cell(width, 4.5, "Thank you for your purchase.", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return pdf
