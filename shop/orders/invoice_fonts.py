"""Imported by the fork server of the PDF children (shop/runtime.py preloads it): the
invoice fonts are parsed and cut down there once, about 0.3 s, and every child forked
from it starts with them, instead of each new child paying for it on its first document."""

from shop.orders import invoice_pdf

try:
    invoice_pdf.parse_fonts(invoice_pdf.font_paths())
except Exception:  # noqa: BLE001  (an error here would stop the fork server; the first document reports it)
    pass
