"""Ledger properties (hypothesis): for any sequence of sales, refunds and payouts (manual, or
booked for Stripe and perhaps returned by a failed bank payout), the balances
neither lose nor create money, and a seller paid for a sale later refunded owes it to their next payout.

Each example runs in a transaction rolled back at its end, on a clock of its own that moves
forward from forty days ago, so sales cross the hold while the example runs. The shop's own
code books every entry (ledger.credit_sale, ledger.reverse_order, manual.record_payout,
stripe_payouts.book_payout and return_to_balance) and closes the ledger's totals between them; the
test keeps a model of the same history in plain numbers and compares.
"""

import datetime
from dataclasses import dataclass
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shop.errors import ValidationError
from shop.money import split_sale
from shop.orders import ledger
from shop.orders import ledger_totals
from shop.orders import orders
from shop.payouts import balances
from shop.payouts import manual
from shop.payouts import stripe_payouts
from models import ConnectAccount, LedgerEntry, Order, OrderItem, Payout, db, utcnow
from tests.shop_fixtures import make_product

HOLD_DAYS = 7
SOME = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

sale = st.tuples(st.just("sale"), st.integers(0, 1), st.integers(1, 50_000))
refund = st.tuples(st.just("refund"), st.integers(0, 30))
payout = st.tuples(st.just("payout"), st.integers(0, 1), st.sampled_from(["all", "part", "too_much", "again"]))
stripe_payout = st.tuples(st.just("stripe"), st.integers(0, 1))
returned = st.tuples(st.just("returned"), st.integers(0, 5))
# The periodic closing of the ledger's totals, a few entries at a time.
close = st.tuples(st.just("close"), st.integers(1, 4))
steps = st.lists(st.tuples(st.integers(0, 3), st.one_of(sale, refund, payout, stripe_payout, returned, close)),
                 min_size=1, max_size=14)


@dataclass
class Sold:
    seller: int
    share: int
    price: int
    at: datetime.datetime
    order: Order
    refunded: bool = False


class Model:
    """The same history as plain numbers: what each seller must be owed and paid."""

    def __init__(self):
        self.sales, self.paid = [], {0: 0, 1: 0}

    def owed(self, seller):
        return sum(s.share for s in self.sales if s.seller == seller and not s.refunded) - self.paid[seller]

    def pending(self, seller, now):
        cutoff = now - datetime.timedelta(days=HOLD_DAYS)
        return sum(s.share for s in self.sales if s.seller == seller and not s.refunded and s.at >= cutoff)


def book_sale(product, customer, price, at):
    order = Order.create(reference=orders.new_reference(), buyer=customer, gateway="test", total=price,
                         currency="USD", status="paid", created_at=at)
    item = OrderItem.create(order=order, product=product, seller=product.seller_id, title=product.title,
                            price=price, currency="USD")
    fee, share = split_sale(price, 10.0)
    ledger.credit_sale(SimpleNamespace(seller_id=product.seller_id, order_id=order.id, order_item_id=item.id,
                                       amount=price, platform_fee=fee, seller_amount=share, currency="USD"))
    LedgerEntry.update(created_at=at).where(LedgerEntry.order_item == item).execute()
    return order, share


def check(sellers, model, now):
    for index, seller in enumerate(sellers):
        balance = balances.balance_of(seller, now=now, hold_days=HOLD_DAYS)
        assert balance.paid_out == model.paid[index]
        assert balance.total == model.owed(index)
        assert balance.pending == model.pending(index, now)
        assert balance.pending >= 0
    # Money is neither lost nor created: every sale's price is the platform's fee plus the
    # seller's share, and the sellers' entries (payouts included) add up to what is still owed.
    sales_and_refunds = LedgerEntry.select().where(LedgerEntry.kind.not_in(balances.PAYOUT_KINDS))
    gross, fee, share = (sum(getattr(e, name) for e in sales_and_refunds) for name in ("gross", "fee", "amount"))
    assert gross == fee + share == sum(s.price for s in model.sales if not s.refunded)
    assert sum(e.amount for e in LedgerEntry.select()) == model.owed(0) + model.owed(1)


@pytest.fixture
def people(make_user):
    sellers = [make_user("seller"), make_user("seller")]
    products = [make_product(seller, f"Product of {seller.name}", 1000) for seller in sellers]
    for seller in sellers:
        ConnectAccount.create(seller=seller, account_id=f"acct_{seller.id}", details_submitted=True,
                              payouts_enabled=True)
    return sellers, products, make_user("customer"), make_user("admin")


@SOME
@given(history=steps)
def test_balances_never_lose_or_create_money_and_a_refund_after_a_payout_is_owed(people, history):
    sellers, products, customer, admin = people
    with db.atomic() as transaction:
        model, now, keys = Model(), utcnow() - datetime.timedelta(days=40), []
        for advance, step in history:
            now += datetime.timedelta(days=advance)
            if step[0] == "sale":
                _, index, price = step
                order, share = book_sale(products[index], customer, price, now)
                model.sales.append(Sold(index, share, price, now, order))
            elif step[0] == "refund" and model.sales:
                sold = model.sales[step[1] % len(model.sales)]
                booked = ledger.reverse_order(sold.order)
                assert bool(booked) is not sold.refunded  # a second refund books nothing
                LedgerEntry.update(created_at=now).where(LedgerEntry.id.in_([e.id for e in booked])).execute()
                sold.refunded = True
            elif step[0] == "payout":
                _, index, how = step
                available = model.owed(index) - model.pending(index, now)
                if how == "again" and keys:
                    # The form sent twice: the earlier payout, nothing booked.
                    earlier_index, key = keys[-1]
                    assert manual.record_payout(sellers[earlier_index], 1, "USD", "bank", "ref", key, admin,
                                                HOLD_DAYS, now)[1] is False
                    continue
                amount = {"all": available, "part": available // 2, "too_much": available + 1}.get(how, available)
                key = f"key-{len(keys)}"
                if amount <= 0 or how == "too_much":
                    with pytest.raises(ValidationError):
                        manual.record_payout(sellers[index], amount, "USD", "bank", "ref", key, admin, HOLD_DAYS, now)
                else:
                    assert manual.record_payout(sellers[index], amount, "USD", "bank", "ref", key, admin,
                                                HOLD_DAYS, now)[1]
                    model.paid[index] += amount
                    keys.append((index, key))
            elif step[0] == "stripe":
                # The payout schedule: the whole available balance, at least a cent of it.
                available = model.owed(step[1]) - model.pending(step[1], now)
                booked = stripe_payouts.book_payout(sellers[step[1]].id, "USD", minimum=1, now=now)
                assert (booked is not None) is (available > 0)
                if booked:
                    assert booked[1] and booked[0].amount == available
                    model.paid[step[1]] += available
                    # The schedule again on the same ledger finds the payout it booked.
                    assert stripe_payouts.book_payout(sellers[step[1]].id, "USD", minimum=1, now=now) in (
                        None, (booked[0], False))
            elif step[0] == "close":
                ledger_totals.close(chunk=step[1])
            elif step[0] == "returned":
                # A bank payout failed: its money comes back once, however often Stripe says so.
                sent = list(Payout.select().where(Payout.method == "stripe").order_by(Payout.id))
                if sent:
                    payout = sent[step[1] % len(sent)]
                    first = payout.status != "returned"
                    assert stripe_payouts.return_to_balance(payout, payout.amount) is first
                    if first:
                        model.paid[sellers.index(payout.seller)] -= payout.amount
            check(sellers, model, now)

        # Settle up a month later: every sale is past the hold and each positive balance is paid.
        later = utcnow() + datetime.timedelta(days=30)
        for index, seller in enumerate(sellers):
            available = balances.balance_of(seller, now=later, hold_days=HOLD_DAYS).available
            if available > 0:
                manual.record_payout(seller, available, "USD", "bank", "settle", f"settle-{index}", admin,
                                     HOLD_DAYS, later)
                model.paid[index] += available
            balance = balances.balance_of(seller, now=later, hold_days=HOLD_DAYS)
            kept = sum(s.share for s in model.sales if s.seller == index and not s.refunded)
            # Paid for exactly the sales that stood, plus what the seller still owes for sales
            # refunded after they were paid: that debt is in the ledger, never written off.
            assert balance.pending == 0 and balance.available <= 0
            assert balance.paid_out == kept - balance.available
        check(sellers, model, later)
        transaction.rollback()
