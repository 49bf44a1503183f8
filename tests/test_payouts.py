"""Sellers get paid: pending, available and paid-out balances from the ledger, and manual payouts."""

import datetime

import pytest

from shop.errors import ValidationError
from shop.orders import fulfilment
from shop.payouts import balances
from shop.payouts import manual
from shop.payouts import notices
from models import LedgerEntry, Notification, Order, Payout, utcnow
from tests.catalog_helpers import form_for
from tests.conftest import login
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


# ---------------------------------------------------------------------------
# The pages
# ---------------------------------------------------------------------------


def test_the_admin_sees_each_sellers_figures_and_records_a_payout_once(client, login_as, make_user, app_env):
    sam, priya, customer = make_user("seller", name="Sam"), make_user("seller", name="Priya"), make_user("customer")
    age(paid_order(customer, [make_product(sam, "Presets", 2000)]), 10)
    paid_order(customer, [make_product(priya, "Book", 1000)])  # pending: nothing to pay Priya yet
    admin = login_as("admin")
    page = client.get("/admin/payouts")
    row = page.html.select_one(f"tr#seller-{sam.id}").get_text(" ", strip=True)
    assert "$0.00" in row and "$18.00" in row and "due" in row
    assert "$9.00" in page.html.select_one(f"tr#seller-{priya.id}").get_text() and "$300.00" not in page.text
    assert "Commission earned" in page.text and "$3.00" in page.text
    assert all(f.action != f"/admin/payouts/{priya.id}" for f in page.forms.values())

    form = form_for(page, f"/admin/payouts/{sam.id}")
    form["reference"] = "BANK-2026-12"
    form["method"] = "paypal"
    assert "recorded. The seller is being notified" in form.submit().follow().text
    # The double-click: the same form again records nothing more and tells the seller nothing more.
    assert "already recorded" in form.submit().follow().text
    payout = Payout.get()
    assert (payout.seller_id, payout.amount, payout.method, payout.reference, payout.recorded_by_id) == \
        (sam.id, 1800, "paypal", "BANK-2026-12", admin.id)
    assert balances.balance_of(sam).available == 0
    assert [m["Subject"] for m in app_env.mails if m["To"] == sam.email] == ["You were paid $18.00"]
    assert Notification.get(Notification.user == sam).type == notices.PAYOUT_SENT


def test_a_payout_form_with_a_bad_amount_is_shown_again_with_its_error(client, login_as, make_user):
    sam, customer = make_user("seller"), make_user("customer")
    age(paid_order(customer, [make_product(sam, "Presets", 2000)]), 10)
    login_as("admin")
    form = form_for(client.get("/admin/payouts"), f"/admin/payouts/{sam.id}")
    form["amount"] = "18.01"
    form["reference"] = "BANK-1"
    page = form.submit(expect_errors=True)
    assert page.status_int == 400 and "available balance" in page.html.select_one(".field-error").get_text()
    assert Payout.select().count() == 0


def test_only_an_admin_records_payouts_and_only_with_the_csrf_token(client, login_as, make_user):
    sam, customer = make_user("seller"), make_user("customer")
    age(paid_order(customer, [make_product(sam, "Presets", 2000)]), 10)
    login_as("seller")
    assert client.get("/admin/payouts", expect_errors=True).status_int == 403
    assert client.post(f"/admin/payouts/{sam.id}", {"amount": "1", "reference": "x", "method": "bank",
                                                    "request_key": "k"}, expect_errors=True).status_int in (400, 403)
    client.reset()
    login_as("admin")
    assert client.post(f"/admin/payouts/{sam.id}", {"amount": "1", "reference": "x", "method": "bank",
                                                    "request_key": "k"}, expect_errors=True).status_int in (400, 403)
    assert Payout.select().count() == 0


def test_the_seller_sees_pending_available_paid_out_and_each_payout(client, make_user):
    sam, customer = make_user("seller"), make_user("customer")
    age(paid_order(customer, [make_product(sam, "Presets", 2000)]), 10)
    paid_order(customer, [make_product(sam, "Loops", 1000)])
    pay(sam, 1000, "key-1", reference="PP-42")
    login(client, sam)
    page = client.get("/seller/balance")
    stat = {s.select_one(".stat-label").get_text(): s.select_one(".stat-value").get_text()
            for s in page.html.select(".stat")}
    assert stat["Balance"] == "$17.00" and stat["Pending"] == "$9.00"
    assert stat["Available to pay out"] == "$8.00" and stat["Paid out"] == "$10.00"
    assert "PP-42" in page.html.select_one("table.payouts").get_text()
    assert ">payout<" in page.text and "Presets" in page.text
