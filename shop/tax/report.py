"""The owner's tax report: per country and rate, the net and tax of a period, as CSV.

A sale counts on the day it was paid (the tax point of a digital sale paid at once),
a credit note on the day it was issued, with its amounts negative, so a period's
figures are what the shop owes for it. Orders made before tax was charged have no
country and are left out; they bore no tax.
"""

import csv
import datetime
import io
import json
from decimal import Decimal

from shop.errors import ValidationError
from shop.money import decimal_amount
from shop.tax import rates
from models import CreditNote, Order, OrderItem

COLUMNS = ("country", "country_name", "rate", "treatment", "currency", "sales", "net", "tax", "gross",
           "credit_notes", "credited_net", "credited_tax", "net_after_credits", "tax_after_credits")


def period(start_text, end_text, today=None):
    """(start, end) datetimes of the days from `start_text` to `end_text` inclusive; the current
    calendar quarter when neither is given. ValidationError for a day that is not YYYY-MM-DD."""
    today = today or datetime.date.today()
    try:
        if start_text or end_text:
            start = datetime.date.fromisoformat(start_text or end_text)
            end = datetime.date.fromisoformat(end_text or start_text)
        else:
            first_month = 3 * ((today.month - 1) // 3) + 1
            start = datetime.date(today.year, first_month, 1)
            end = today
    except ValueError:
        raise ValidationError("Give the days as YYYY-MM-DD.", errors={"from": "Give the days as YYYY-MM-DD."}) from None
    if end < start:
        raise ValidationError("The period ends before it starts.", errors={"to": "The period ends before it starts."})
    return datetime.datetime.combine(start, datetime.time()), datetime.datetime.combine(end + datetime.timedelta(days=1),
                                                                                        datetime.time())


def figures(start, end):
    """{(country, rate, treatment, currency): figures} of the sales and credit notes in [start, end)."""
    rows = {}

    def row(order):
        key = (order.tax_country, order.tax_rate or "0", order.tax_treatment or "", order.currency)
        return rows.setdefault(key, {"sales": 0, "net": 0, "tax": 0, "gross": 0, "credit_notes": 0,
                                     "credited_net": 0, "credited_tax": 0})

    sales = (OrderItem.select(OrderItem, Order).join(Order)
             .where(Order.paid_at.is_null(False) & (Order.paid_at >= start) & (Order.paid_at < end)
                    & Order.tax_country.is_null(False)))
    for item in sales:
        found = row(item.order)
        found["sales"] += 1
        found["net"] += item.net_amount
        found["tax"] += item.tax_amount
        found["gross"] += item.price
    notes = (CreditNote.select(CreditNote, Order).join(Order)
             .where((CreditNote.issued_at >= start) & (CreditNote.issued_at < end) & Order.tax_country.is_null(False)))
    for note in notes:
        found = row(note.order)
        found["credit_notes"] += len(json.loads(note.lines))
        found["credited_net"] += note.net
        found["credited_tax"] += note.tax
    return rows


def tax_csv(start, end):
    """The report as CSV text, one row per country, rate, treatment and currency; amounts in major units."""
    table = rates.table()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for (country, rate, treatment, currency), f in sorted(figures(start, end).items(),
                                                           key=lambda kv: (kv[0][0], Decimal(kv[0][1]), kv[0][2:])):
        def money(minor):
            return decimal_amount(minor, currency)
        writer.writerow((country, table.name_of(country), rate, treatment, currency, f["sales"], money(f["net"]),
                         money(f["tax"]), money(f["gross"]), f["credit_notes"], money(-f["credited_net"]),
                         money(-f["credited_tax"]), money(f["net"] - f["credited_net"]),
                         money(f["tax"] - f["credited_tax"])))
    return out.getvalue()
