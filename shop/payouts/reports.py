"""The seller's reports, read from the ledger: sales per day, per product, refunds, fees and payouts,
and the CSV files an accountant asks for (one row per item, amounts in major units).

A period is the last 30, 90 or 365 days up to now (UTC). Sales are counted on the
day they were booked and refunds on the day they were refunded, as the ledger has them.
"""

import csv
import datetime
import io

from peewee import JOIN

from shop import config
from shop.money import decimal_amount
from shop.payouts.balances import PAYOUT_KINDS
from models import LedgerEntry, Order, OrderItem, Payout, User, utcnow

PERIODS = (30, 90, 365)


def period_start(days, now=None):
    """Midnight UTC of the first day of the last `days` days."""
    today = (now or utcnow()).date()
    return datetime.datetime.combine(today - datetime.timedelta(days=days - 1), datetime.time())


def _entries(seller, since, now=None):
    seller_id = getattr(seller, "id", seller)
    return (LedgerEntry.select(LedgerEntry, Order, OrderItem)
            .join(Order, JOIN.LEFT_OUTER, on=(LedgerEntry.order == Order.id))
            .switch(LedgerEntry).join(OrderItem, JOIN.LEFT_OUTER, on=(LedgerEntry.order_item == OrderItem.id))
            .where((LedgerEntry.seller == seller_id) & (LedgerEntry.created_at >= since)
                   & (LedgerEntry.created_at <= (now or utcnow())))
            .order_by(LedgerEntry.created_at, LedgerEntry.id))


def daily_sales(seller, days=30, currency=None, now=None):
    """[(date, gross, items sold)] for each of the last `days` days, zero on a day without sales."""
    currency = currency or config.CURRENCY
    start = period_start(days, now)
    totals = {start.date() + datetime.timedelta(days=n): [0, 0] for n in range(days)}
    for entry in _entries(seller, start, now).where((LedgerEntry.kind == "sale") & (LedgerEntry.currency == currency)):
        day = totals.get(entry.created_at.date())
        if day is not None:
            day[0] += entry.gross
            day[1] += 1
    return [(day, gross, items) for day, (gross, items) in sorted(totals.items())]


def summary(seller, days=30, currency=None, now=None):
    """The period's figures: per product (sold, gross, refunded, fees, net) and the totals with payouts."""
    currency = currency or config.CURRENCY
    products, totals = {}, {"sold": 0, "gross": 0, "refunded": 0, "refunds": 0, "fees": 0, "net": 0, "payouts": 0}
    for entry in _entries(seller, period_start(days, now), now).where(LedgerEntry.currency == currency):
        if entry.kind in PAYOUT_KINDS:
            totals["payouts"] += -entry.amount
            continue
        title = entry.order_item.title
        row = products.setdefault(entry.order_item.product_id, {"title": title, "sold": 0, "gross": 0,
                                                                "refunded": 0, "refunds": 0, "fees": 0, "net": 0})
        for figures in (row, totals):
            if entry.kind == "sale":
                figures["sold"] += 1
                figures["gross"] += entry.gross
            else:
                figures["refunded"] += 1
                figures["refunds"] += -entry.gross
            figures["fees"] += entry.fee
            figures["net"] += entry.amount
    ordered = sorted(products.values(), key=lambda row: (-row["gross"], row["title"].lower()))
    return {"currency": currency, "products": ordered, "totals": totals}


SALES_COLUMNS = ("date", "time_utc", "order", "item", "product", "type", "currency", "gross", "commission",
                 "net")
PAYOUT_COLUMNS = ("date", "time_utc", "payout", "method", "reference", "status", "currency", "amount")
# The owner's file of every seller's payouts: the same columns, with whom each paid.
ALL_PAYOUT_COLUMNS = PAYOUT_COLUMNS[:3] + ("seller", "seller_email") + PAYOUT_COLUMNS[3:]


def _csv(header, rows):
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def _safe(text):
    """A cell a spreadsheet will not run as a formula (a product title may start with = + - @)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def sales_csv(seller, days=365, now=None):
    """One row per sold or refunded item: its order, product, gross, commission and the seller's net."""
    rows = []
    for entry in _entries(seller, period_start(days, now), now).where(LedgerEntry.kind.not_in(PAYOUT_KINDS)):
        rows.append((entry.created_at.strftime("%Y-%m-%d"), entry.created_at.strftime("%H:%M:%S"),
                     entry.order.reference, entry.order_item_id, _safe(entry.order_item.title), entry.kind,
                     entry.currency, decimal_amount(entry.gross, entry.currency), decimal_amount(entry.fee, entry.currency),
                     decimal_amount(entry.amount, entry.currency)))
    return _csv(SALES_COLUMNS, rows)


def payouts_csv(seller, days=365, now=None):
    """One row per payout: when, how, its reference and the amount paid."""
    seller_id = getattr(seller, "id", seller)
    query = (Payout.select().where((Payout.seller == seller_id) & (Payout.created_at >= period_start(days, now)))
             .order_by(Payout.created_at, Payout.id))
    rows = [(p.created_at.strftime("%Y-%m-%d"), p.created_at.strftime("%H:%M:%S"), p.id, p.method,
             _safe(p.reference), p.status, p.currency, decimal_amount(p.amount, p.currency)) for p in query]
    return _csv(PAYOUT_COLUMNS, rows)


def all_payouts_csv(days=365, now=None):
    """The owner's file: one row per payout of every seller, oldest first.

    A Stripe payout that came back ("returned") stays listed with its status; its
    credit is in the seller's ledger, so the amounts of the other rows are what was paid.
    """
    query = (Payout.select(Payout, User).join(User, on=(Payout.seller == User.id))
             .where(Payout.created_at >= period_start(days, now)).order_by(Payout.created_at, Payout.id))
    rows = [(p.created_at.strftime("%Y-%m-%d"), p.created_at.strftime("%H:%M:%S"), p.id, _safe(p.seller.name),
             _safe(p.seller.email), p.method, _safe(p.reference), p.status, p.currency,
             decimal_amount(p.amount, p.currency)) for p in query]
    return _csv(ALL_PAYOUT_COLUMNS, rows)
