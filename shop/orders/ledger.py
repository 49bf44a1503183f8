"""Sellers' money as a ledger: entries are only ever added, a balance is their sum.

A sale credits the seller with the item's net (its price less the tax in it)
minus the platform's COMMISSION_PERCENT, split by money.split_sale in integer
minor units (the fee is the exact percentage rounded half up; the seller gets the
rest, so the two always add up to the net). The entry keeps gross, tax, fee and
the seller's amount apart: gross = tax + fee + amount. A refund adds a reversing entry with the same
figures negated. Entries are unique per order item and kind, so a job that
runs twice books nothing twice.
"""

from peewee import JOIN, IntegrityError

from models import LedgerEntry, Order, OrderItem, db
from shop.orders import ledger_totals


def _create_once(**fields):
    """Insert the entry unless it exists; returns it either way."""
    try:
        with db.atomic():
            return LedgerEntry.create(**fields), True
    except IntegrityError:
        return LedgerEntry.get((LedgerEntry.order_item == fields["order_item"])
                               & (LedgerEntry.kind == fields["kind"])), False


def credit_sale(transaction_item):
    """Credit the seller's share of one sale; returns (entry, created)."""
    return _create_once(
        seller=transaction_item.seller_id, order=transaction_item.order_id,
        order_item=transaction_item.order_item_id, kind="sale", gross=transaction_item.amount,
        fee=transaction_item.platform_fee, amount=transaction_item.seller_amount,
        tax=transaction_item.amount - transaction_item.platform_fee - transaction_item.seller_amount,
        currency=transaction_item.currency)


def reverse_order(order):
    """Add a reversing entry for every sale of the order not yet reversed; returns them."""
    reversed_entries = []
    sales = LedgerEntry.select().where((LedgerEntry.order == order) & (LedgerEntry.kind == "sale"))
    for sale in sales:
        entry, created = _create_once(
            seller=sale.seller_id, order=sale.order_id, order_item=sale.order_item_id, kind="refund",
            gross=-sale.gross, fee=-sale.fee, amount=-sale.amount,
            tax=None if sale.tax is None else -sale.tax, currency=sale.currency)
        if created:
            reversed_entries.append(entry)
    return reversed_entries


def balances(seller):
    """{currency: available balance} of a seller, from the sum of their entries."""
    found = {}
    for _, currency, _, _, _, _, amount in ledger_totals.sums(getattr(seller, "id", seller)):
        found[currency] = found.get(currency, 0) + amount
    return found


def sales_summary(seller):
    """Per currency: items sold, gross sales, commission and refunds (for the balance page).

    net is every entry's sum, payouts included: what the ledger still owes the seller.
    """
    summary = {}
    for _, currency, kind, entries, gross, fee, amount in ledger_totals.sums(getattr(seller, "id", seller)):
        figures = summary.setdefault(currency, {"sold": 0, "refunded": 0, "gross": 0, "fee": 0,
                                                "refunds": 0, "net": 0})
        if kind == "sale":
            figures["sold"] += entries
            figures["gross"] += gross
            figures["fee"] += fee
        elif kind == "refund":
            figures["refunded"] += entries
            figures["refunds"] += gross
            figures["fee"] += fee
        figures["net"] += amount
    return summary


def entries(seller, limit=100):
    """The seller's latest entries with their order and item (a payout has neither)."""
    return list(LedgerEntry.select(LedgerEntry, Order, OrderItem)
                .join(Order, JOIN.LEFT_OUTER, on=(LedgerEntry.order == Order.id))
                .switch(LedgerEntry).join(OrderItem, JOIN.LEFT_OUTER, on=(LedgerEntry.order_item == OrderItem.id))
                .where(LedgerEntry.seller == seller)
                .order_by(LedgerEntry.created_at.desc(), LedgerEntry.id.desc()).limit(limit))
