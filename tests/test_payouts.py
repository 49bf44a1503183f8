"""Sellers get paid: pending, available and paid-out balances from the ledger, and manual payouts."""

import datetime

import pytest

from shop.errors import ValidationError
from shop.orders import fulfilment
from shop.payouts import balances
from shop.payouts import manual
from shop.payouts import notices
from models import LedgerEntry, Notification, Order, Payout, utcnow
from tests.shop_fixtures import make_product
from tests.test_ledger import paid_order


def age(order, days):
    """Move the order's ledger entries `days` into the past (the hold is counted from the sale)."""
    moved = utcnow() - datetime.timedelta(days=days)
    LedgerEntry.update(created_at=moved).where(LedgerEntry.order == order).execute()


def pay(seller, amount, key, admin=None, reference="BANK-1"):
    return manual.record_payout(seller, amount, "USD", "bank", reference, key, admin)


def test_a_new_sale_is_pending_and_becomes_available_after_the_hold(make_user):
    sam, customer = make_user("seller"), make_user("customer")
    order = paid_order(customer, [make_product(sam, "Presets", 2000)])
    assert balances.balance_of(sam) == balances.Balance("USD", pending=1800, available=0, paid_out=0)
    age(order, 6)
    assert balances.balance_of(sam).pending == 1800
    age(order, 8)
    assert balances.balance_of(sam) == balances.Balance("USD", pending=0, available=1800, paid_out=0)


def test_the_hold_is_a_setting(make_user, app_env):
    app_env.reload(PAYOUT_HOLD_DAYS="0")
    sam, customer = make_user("seller"), make_user("customer")
    paid_order(customer, [make_product(sam, "Presets", 2000)])
    assert balances.balance_of(sam).available == 1800


def test_a_refund_inside_the_hold_takes_the_sale_out_of_pending(make_user):
    sam, customer = make_user("seller"), make_user("customer")
    order = paid_order(customer, [make_product(sam, "Presets", 2000)])
    assert fulfilment.refund_order(order.id)
    assert balances.balance_of(sam) == balances.Balance("USD")


def test_a_payout_debits_the_available_balance_once(make_user):
    sam, customer, admin = make_user("seller"), make_user("customer"), make_user("admin")
    age(paid_order(customer, [make_product(sam, "Presets", 2000)]), 10)
    paid_order(customer, [make_product(sam, "Loops", 1000)])  # still pending
    payout, created = pay(sam, 1800, "key-1", admin)
    again, created_again = pay(sam, 1800, "key-1", admin)
    assert created and not created_again and again.id == payout.id
    assert Payout.select().count() == 1 and LedgerEntry.select().where(LedgerEntry.kind == "payout").count() == 1
    debit = LedgerEntry.get(LedgerEntry.payout == payout)
    assert (debit.amount, debit.gross, debit.fee, debit.order_id) == (-1800, 0, 0, None)
    assert balances.balance_of(sam) == balances.Balance("USD", pending=900, available=0, paid_out=1800)


def test_a_payout_above_the_available_balance_is_refused(make_user):
    sam, customer = make_user("seller"), make_user("customer")
    paid_order(customer, [make_product(sam, "Presets", 2000)])
    with pytest.raises(ValidationError) as refused:
        pay(sam, 1, "key-1")
    assert "amount" in refused.value.errors
    with pytest.raises(ValidationError) as refused:
        manual.record_payout(sam, 0, "USD", "cheque", " ", "key-2", None)
    assert set(refused.value.errors) == {"amount", "method", "reference"}
    assert Payout.select().count() == 0


def test_a_refund_after_a_payout_is_carried_into_the_next_payout(make_user):
    sam, customer = make_user("seller"), make_user("customer")
    first = paid_order(customer, [make_product(sam, "Presets", 2000)])
    age(first, 10)
    pay(sam, 1800, "key-1")
    # The customer is refunded after the seller was paid: the seller owes the shop.
    assert fulfilment.refund_order(first.id)
    assert balances.balance_of(sam) == balances.Balance("USD", pending=0, available=-1800, paid_out=1800)
    with pytest.raises(ValidationError):
        pay(sam, 1, "key-2")
    # The next sales pay the debt back before anything is paid out again.
    second = paid_order(customer, [make_product(sam, "Loops", 3000)])
    age(second, 10)
    assert balances.balance_of(sam).available == 2700 - 1800
    pay(sam, 900, "key-3")
    assert balances.balance_of(sam) == balances.Balance("USD", pending=0, available=0, paid_out=2700)
    assert sum(e.amount for e in LedgerEntry.select()) == 0


def test_the_admin_figures_cover_every_seller_with_the_payouts_due(make_user, app_env):
    app_env.reload(PAYOUT_MINIMUM="1000")
    sam, priya, customer = make_user("seller", name="Sam"), make_user("seller", name="Priya"), make_user("customer")
    age(paid_order(customer, [make_product(sam, "Presets", 2000), make_product(priya, "Book", 500)]), 10)
    figures = {seller.id: balance for seller, balance in balances.every_seller()}
    assert figures == {sam.id: balances.Balance("USD", available=1800), priya.id: balances.Balance("USD", available=450)}
    assert [(seller.id, balance.available) for seller, balance in balances.payouts_due()] == [(sam.id, 1800)]
    assert balances.commission_earned() == {"USD": 200 + 50}


def test_the_seller_is_told_once_of_a_payout(make_user, app_env):
    sam, customer = make_user("seller"), make_user("customer")
    age(paid_order(customer, [make_product(sam, "Presets", 2000)]), 10)
    payout, _ = pay(sam, 1800, "key-1", reference="PP-77")
    notices.payout_sent(payout.id)
    notices.payout_sent(payout.id)
    notice = Notification.get(Notification.user == sam)
    assert Notification.select().count() == 1 and notice.type == notices.PAYOUT_SENT
    assert "PP-77" in notice.data["detail"]
    mails = [m for m in app_env.mails if m["To"] == sam.email]
    assert len(mails) == 1 and mails[0]["Subject"] == "You were paid $18.00"
    assert Order.select().count() == 1
