"""A seller's balance, read from the sum of their ledger entries (never a counter).

- pending: the seller's share of sales younger than PAYOUT_HOLD_DAYS, less the
  refunds of those sales. A refund can still come back, so it is not paid yet.
- available: everything else in the ledger, payouts included. A refund of a sale
  already paid out makes it negative; the debt stays here and the next payout
  is smaller by it, so nothing is lost.
- paid_out: the sum of the payout debits, as a positive figure, less the Stripe
  payouts that failed and were credited back (payout_returned).

pending + available is always the sum of every entry: no figure is kept anywhere
that could disagree with the ledger. The sums come from shop/orders/ledger_totals.py,
which reads the entries closed so far from their totals and the rest one by one.
"""

import datetime
from dataclasses import dataclass

from peewee import fn

from shop import config
from shop.orders import ledger_totals
from models import LedgerEntry, User, utcnow


# The entries of payouts: the debits, and the credits of the Stripe payouts that came back.
PAYOUT_KINDS = ("payout", "payout_returned")


@dataclass(frozen=True)
class Balance:
    currency: str
    pending: int = 0
    available: int = 0
    paid_out: int = 0

    @property
    def total(self):
        """What the ledger owes the seller in all: pending plus available."""
        return self.pending + self.available


def hold_cutoff(now=None, hold_days=None):
    """Sales booked at or after this moment are still pending."""
    days = config.PAYOUT_HOLD_DAYS if hold_days is None else hold_days
    return (now or utcnow()) - datetime.timedelta(days=days)


def _young_items(cutoff):
    """The order items whose sale is still inside the hold."""
    return (LedgerEntry.select(LedgerEntry.order_item)
            .where((LedgerEntry.kind == "sale") & (LedgerEntry.created_at >= cutoff)))


def _figures(seller_id, cutoff):
    """{(seller id, currency): Balance} of one seller's entries, or everyone's."""
    totals = {}
    for sid, currency, kind, _, _, _, amount in ledger_totals.sums(seller_id):
        figures = totals.setdefault((sid, currency), {"all": 0, "paid": 0, "pending": 0})
        figures["all"] += amount
        if kind in PAYOUT_KINDS:
            figures["paid"] -= amount
    young = LedgerEntry.order_item.in_(_young_items(cutoff))
    pending = (LedgerEntry.select(LedgerEntry.seller, LedgerEntry.currency, fn.SUM(LedgerEntry.amount))
               .where(young if seller_id is None else young & (LedgerEntry.seller == seller_id))
               .group_by(LedgerEntry.seller, LedgerEntry.currency).tuples())
    for sid, currency, total in pending:
        totals[(sid, currency)]["pending"] = int(total or 0)
    return {key: Balance(key[1], pending=f["pending"], available=f["all"] - f["pending"], paid_out=f["paid"])
            for key, f in totals.items()}


def balances(seller, now=None, hold_days=None):
    """{currency: Balance} of one seller, in currency order."""
    seller_id = getattr(seller, "id", seller)
    found = _figures(seller_id, hold_cutoff(now, hold_days))
    return {currency: found[(sid, currency)] for (sid, currency) in sorted(found)}


def balance_of(seller, currency=None, now=None, hold_days=None):
    """The seller's Balance in one currency (the shop's by default); zero when they have no entries."""
    currency = currency or config.CURRENCY
    return balances(seller, now, hold_days).get(currency, Balance(currency))


def every_seller(now=None, hold_days=None):
    """[(seller, Balance)] of every seller with ledger entries, by name then currency."""
    found = _figures(None, hold_cutoff(now, hold_days))
    sellers = {user.id: user for user in User.select().where(User.id.in_({sid for sid, _ in found}))}
    return sorted(((sellers[sid], balance) for (sid, _), balance in found.items()),
                  key=lambda pair: (pair[0].name.lower(), pair[0].id, pair[1].currency))


def payouts_due(minimum=None, now=None, hold_days=None, of=None):
    """[(seller, Balance)] whose available balance reaches PAYOUT_MINIMUM.

    PAYOUT_MINIMUM is in minor units of the shop's CURRENCY; a balance in another
    currency (from before the shop changed its currency) is due as soon as it is positive.
    of: every_seller()'s list when the caller has it already (each reads the whole ledger).
    """
    minimum = config.PAYOUT_MINIMUM if minimum is None else minimum
    return [(seller, balance) for seller, balance in (every_seller(now, hold_days) if of is None else of)
            if balance.available > 0 and (balance.currency != config.CURRENCY or balance.available >= minimum)]


def commission_earned():
    """{currency: the platform's commission}, sales less refunded commission."""
    earned = {}
    for _, currency, _, _, _, fee, _ in ledger_totals.sums():
        earned[currency] = earned.get(currency, 0) + fee
    return dict(sorted(earned.items()))
