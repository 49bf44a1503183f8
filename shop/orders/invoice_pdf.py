"""Drawing an invoice PDF with fpdf2, from plain data (see invoices.invoice_data).

This module runs in a child process (killable.call), so it imports only what
drawing needs: no database, no settings.
"""

import os

from shop.money import format_money


def render_pdf(data, path):
    """Draw the invoice described by `data` into `path`. Runs in a child process."""
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos
    from fpdf.fonts import FontFace

    def text(value):
        return str(value)

    def amount(minor):
        return format_money(minor, data["currency"])

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
    # Always an embedded font: a PDF viewer that substitutes its own for a core font
    # (chromium's does) draws wider text than fpdf2 measured, past the margins.
    for style, font in data["fonts"].items():
        pdf.add_font("DejaVu", style, font)
    family = "DejaVu"
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
    if data["buyer"]["name"]:  # a guest gave only an address
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
            discounted = (f" (list price {amount(item['list_price'])}, less {amount(item['discount'])})"
                          if item.get("discount") else "")
            row.cell(text(item["title"] + discounted))
            row.cell(text(item["seller"]))
            row.cell(amount(item["price"]))
    pdf.ln(3)
    lines = [("Subtotal", amount(data.get("subtotal", data["total"])), False)]
    if data.get("discount"):
        lines.append(("Discount", amount(-data["discount"]), False))
    for label, value, bold in lines + [("Total paid", amount(data["total"]), True)]:
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
