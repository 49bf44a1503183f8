"""Manual payouts: the owner paid a seller outside the shop and records it here.

A payout is one Payout row and one ledger debit of its amount, written in one
transaction. The form that records it carries a one-time request key, unique in
the payout table, so the admin's double-click (or a resent form) records one
payout and the second request finds the first. The amount may not exceed the
seller's available balance at that moment: pending sales can still be refunded,
and a negative balance (a refund after an earlier payout) is a debt the next
payout makes up for, never money to pay.
"""

import secrets

from peewee import IntegrityError

from shop.errors import ValidationError
from shop.payouts import balances
from models import LedgerEntry, Payout, User, db, is_sqlite

METHODS = {"bank": "Bank transfer", "paypal": "PayPal", "other": "Other"}
# Every way a payout is made: the owner's (METHODS) and the payout schedule's through Stripe Connect.
METHOD_LABELS = {**METHODS, "stripe": "Stripe"}


def new_request_key():
    """The key a payout form carries, so that sending it twice records one payout."""
    return secrets.token_urlsafe(18)


def lock_seller(seller_id):
    """Serialise payouts of one seller: two admins at once must not both pay the same balance.

    SQLite takes its write lock for the whole transaction already.
    """
    if not is_sqlite():
        User.select(User.id).where(User.id == seller_id).for_update().execute()


def _check(amount, currency, method, reference, request_key, available):
    errors = {}
    if method not in METHODS:
        errors["method"] = "Choose how the payout was made."
    if not reference.strip():
        errors["reference"] = "Enter the bank or PayPal reference of the payment."
    elif len(reference) > 200:
        errors["reference"] = "The reference is too long (200 characters at most)."
    if not request_key:
        errors["request_key"] = "The form has expired; open it again."
    if amount <= 0:
        errors["amount"] = "The amount must be more than zero."
    elif amount > available:
        errors["amount"] = "The amount is more than the seller's available balance."
    if errors:
        raise ValidationError(errors=errors)


def record_payout(seller, amount, currency, method, reference, request_key, recorded_by, hold_days=None,
                  now=None):
    """Record a payout paid outside the shop; returns (payout, created).

    The available balance is read as of `now` (the present by default).

    created is False when this request key already recorded one: the earlier
    payout is returned and nothing is written. Raises ValidationError for an
    amount above the available balance, an unknown method or an empty reference.
    """
    seller_id = getattr(seller, "id", seller)
    earlier = Payout.get_or_none(Payout.request_key == request_key) if request_key else None
    if earlier is not None:
        return earlier, False
    try:
        with db.atomic():
            lock_seller(seller_id)
            # Again under the seller's lock: the same form sent twice at once waits here
            # for the first, and must then find its payout rather than a spent balance.
            earlier = Payout.get_or_none(Payout.request_key == request_key) if request_key else None
            if earlier is not None:
                return earlier, False
            available = balances.balance_of(seller_id, currency, now=now, hold_days=hold_days).available
            _check(amount, currency, method, reference, request_key, available)
            stamp = {"created_at": now} if now else {}
            payout = Payout.create(seller=seller_id, amount=amount, currency=currency, method=method,
                                   reference=reference.strip(), request_key=request_key,
                                   recorded_by=getattr(recorded_by, "id", recorded_by),
                                   **stamp)
            LedgerEntry.create(seller=seller_id, payout=payout, kind="payout", gross=0, fee=0,
                               amount=-amount, currency=currency, **stamp)
            return payout, True
    except IntegrityError:
        # The same form sent at the same moment: the other request wrote it.
        return Payout.get(Payout.request_key == request_key), False


def payouts(seller=None, limit=200):
    """The latest payouts, of one seller or of all."""
    query = Payout.select(Payout, User).join(User, on=(Payout.seller == User.id))
    if seller is not None:
        query = query.where(Payout.seller == getattr(seller, "id", seller))
    return list(query.order_by(Payout.created_at.desc(), Payout.id.desc()).limit(limit))
