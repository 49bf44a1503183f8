"""Sellers paid through Stripe Connect: onboarding, the payout schedule's transfers, Stripe's
events about them, and the faults (Stripe answering 500, the same event twice, a bank refusing).

The real `stripe` library talks to tests/stripe_connect_server.py, which checks each
request; the events coming back are signed with stripe's own signing function and posted to
/webhooks/stripe, as Stripe delivers them.
"""

import copy
import csv
import datetime
import io
import json
import uuid

import pytest

import tasks
from job_runtime import pending
from job_runtime.models import JobRecord
from shop import config
from shop.errors import ConfigError
from shop.orders import fulfilment
from shop.payouts import balances, connect
from models import ConnectAccount, LedgerEntry, Notification, Payout, utcnow
from tests.conftest import login
from tests.shop_fixtures import FIXTURES, STRIPE_KEY, STRIPE_WEBHOOK_SECRET, make_product, post_stripe_event
from tests.stripe_connect_server import StripeConnectAPI
from tests.test_ledger import paid_order


@pytest.fixture
def connect_api(app_env):
    """Stripe configured, its Connect API served by the checking server."""
    api = StripeConnectAPI(STRIPE_KEY)
    app_env.reload(STRIPE_SECRET_KEY=STRIPE_KEY, STRIPE_WEBHOOK_SECRET=STRIPE_WEBHOOK_SECRET, STRIPE_API_BASE=api.url)
    yield api
    api.stop()


def connect_event(event_type, obj, account=None):
    """A Stripe event of `event_type` about `obj`, in the envelope of the stored fixtures."""
    event = copy.deepcopy(json.loads((FIXTURES / "checkout_session_completed.json").read_text()))
    event.update(id=f"evt_{uuid.uuid4().hex[:24]}", type=event_type, data={"object": obj})
    if account:
        event["account"] = account  # events of a connected account name it
    return event


def connected_seller(make_user, connect_api, available=1800):
    """A seller whose Express account has finished onboarding, with `available` to be paid."""
    seller, customer = make_user("seller"), make_user("customer")
    account = connect.ensure_account(seller)
    connect.record_state(connect_api.complete_onboarding(account.account_id))
    if available:
        price = available * 10 // 9  # the seller's share after the 10% commission
        order = paid_order(customer, [make_product(seller, f"Presets {uuid.uuid4().hex[:6]}", price)])
        # Done already in immediate mode; with a real consumer, its queued job then finds it done.
        fulfilment.process_purchase(order.id)
        LedgerEntry.update(created_at=utcnow() - datetime.timedelta(days=10)).where(
            LedgerEntry.order == order).execute()
        assert balances.balance_of(seller).available == available
    return seller


def pay_sellers():
    return tasks.pay_connected_sellers.run_now()


def test_a_seller_connects_through_stripe_onboarding(client, make_user, connect_api):
    seller = make_user("seller")
    login(client, seller)
    page = client.get("/seller/balance")
    assert "Connect a Stripe account" in page.text
    form = next(f for f in page.forms.values() if f.action == "/seller/payouts/connect")
    response = form.submit()
    account = ConnectAccount.get(ConnectAccount.seller == seller)
    [link] = connect_api.links
    assert response.status_int == 303 and response.headers["Location"] == link["url"]
    assert link["account"] == account.account_id
    assert link["return_url"] == "http://127.0.0.1:8080/seller/payouts/connect/return"
    assert link["refresh_url"] == "http://127.0.0.1:8080/seller/payouts/connect/refresh"
    created = connect_api.accounts[account.account_id]
    assert created["type"] == "express" and created["email"] == seller.email
    assert created["settings"]["payouts"]["schedule"] == {"interval": "manual"}

    # Back before finishing: Stripe's record says so, whatever the return says.
    page = client.get("/seller/payouts/connect/return").follow()
    assert "Stripe still needs some details" in page.text and "Continue the set-up" in page.text
    # An expired link brings the seller to refresh: a new link for the same account.
    assert client.get("/seller/payouts/connect/refresh").headers["Location"] == connect_api.links[1]["url"]
    form = next(f for f in client.get("/seller/balance").forms.values() if f.action == "/seller/payouts/connect")
    form.submit()
    assert len(connect_api.posts("/v1/accounts")) == 1 and len(connect_api.accounts) == 1
    assert {link["account"] for link in connect_api.links} == {account.account_id}

    # Onboarding finished: account.updated records it, read back from Stripe's API.
    event = connect_event("account.updated", connect_api.complete_onboarding(account.account_id),
                          account=account.account_id)
    assert post_stripe_event(client, event).json == {"received": True, "duplicate": False, "ignored": False}
    account = ConnectAccount.get_by_id(account.id)
    assert account.details_submitted and account.payouts_enabled and account.charges_enabled
    page = client.get("/seller/payouts/connect/return").follow()
    assert "Your Stripe account is connected" in page.text
    assert connect_api.problems == []


def test_connected_accounts_events_may_come_signed_by_the_connect_endpoint(client, make_user, connect_api, app_env):
    seller = connected_seller(make_user, connect_api, available=0)
    account_id = connect.account_of(seller).account_id
    connect_api.accounts[account_id]["payouts_enabled"] = False
    event = connect_event("account.updated", dict(connect_api.accounts[account_id]), account=account_id)
    assert post_stripe_event(client, event, secret="whsec_connect_endpoint").status_int == 400
    app_env.reload(STRIPE_CONNECT_WEBHOOK_SECRET="whsec_connect_endpoint")
    assert post_stripe_event(client, event, secret="whsec_connect_endpoint").status_int == 200
    assert post_stripe_event(client, connect_event("account.updated", {"id": account_id}),
                             secret="whsec_forged").status_int == 400
    assert not connect.can_be_paid(connect.account_of(seller))


def test_connecting_needs_the_form_and_stripe(client, make_user, app_env):
    login(client, make_user("seller"))
    assert client.post("/seller/payouts/connect", expect_errors=True).status_int == 403  # no CSRF token
    page = client.get("/seller/balance")
    assert "Connect with Stripe" not in page.text  # Stripe is not configured in this shop
    assert client.get("/seller/payouts/connect/return", expect_errors=True).status_int == 404
    assert ConnectAccount.select().count() == 0


def test_the_payout_schedule_books_then_transfers_each_balance_once(make_user, connect_api):
    seller = connected_seller(make_user, connect_api, available=1800)
    small = connected_seller(make_user, connect_api, available=900)  # under PAYOUT_MINIMUM (1000)
    manual = make_user("seller")  # never connected: paid by the owner
    assert pay_sellers() == 1
    payout = Payout.get()
    [transfer] = connect_api.transfers.values()
    assert (payout.seller_id, payout.method, payout.amount, payout.status) == (seller.id, "stripe", 1800, "transferred")
    assert payout.transfer_id == payout.reference == transfer["id"]
    assert transfer["destination"] == connect.account_of(seller).account_id == payout.account_id
    assert transfer["amount"] == 1800 and transfer["currency"] == "usd"
    assert transfer["metadata"] == {"payout_id": str(payout.id)}
    [post] = connect_api.posts("/v1/transfers")
    assert post["idempotency_key"] == f"payout-{payout.id}-transfer"
    [bank] = connect_api.posts("/v1/payouts")
    assert bank["account"] == payout.account_id and bank["idempotency_key"] == f"payout-{payout.id}-bank"
    assert connect_api.payouts[payout.stripe_payout_id]["metadata"] == {"payout_id": str(payout.id)}
    [debit] = LedgerEntry.select().where(LedgerEntry.kind == "payout")
    assert debit.payout_id == payout.id and debit.amount == -1800
    assert balances.balance_of(seller) == balances.Balance("USD", available=0, paid_out=1800)
    assert balances.balance_of(small).available == 900 and not Payout.select().where(Payout.seller == manual).exists()

    # The schedule again, and the transfer job again: nothing more is booked or sent.
    assert pay_sellers() == 0
    assert tasks.send_stripe_payout.run_now(payout.id) == "transferred"
    assert len(connect_api.posts("/v1/transfers")) == 1 and len(connect_api.posts("/v1/payouts")) == 1
    assert Payout.select().count() == 1 and connect_api.problems == []


def test_stripe_answering_500_is_retried_by_the_job_with_the_same_key(make_user, connect_api):
    seller = connected_seller(make_user, connect_api)
    # Twice: the stripe library retries once by itself, so the job's first attempt fails.
    connect_api.fail_next("/v1/transfers", times=2)
    pay_sellers()
    payout = Payout.get()
    record = JobRecord.get(JobRecord.name == "send_stripe_payout")
    assert record.state == "pending" and "could not transfer the payout just now (500)" in record.last_error
    # The debit is written before Stripe was asked: the balance cannot be paid twice meanwhile.
    assert payout.status == "sending" and balances.balance_of(seller).available == 0
    assert pay_sellers() == 0

    assert pending.run_now(record.uuid)  # the retry, due now
    payout = Payout.get_by_id(payout.id)
    assert payout.status == "transferred" and len(connect_api.transfers) == 1
    keys = [r["idempotency_key"] for r in connect_api.posts("/v1/transfers")]
    assert keys == [f"payout-{payout.id}-transfer"] * 3
    assert LedgerEntry.select().where(LedgerEntry.kind == "payout").count() == 1 and connect_api.problems == []


def test_a_payout_whose_job_gave_up_is_sent_again_by_the_hourly_resend_and_the_admins_told(
        make_user, connect_api, app_env):
    seller = connected_seller(make_user, connect_api)
    admin = make_user("admin")
    # Stripe down for longer than the job's tries: each of its six attempts meets a 500.
    connect_api.fail_next("/v1/transfers", times=100)
    pay_sellers()
    record = JobRecord.get(JobRecord.name == "send_stripe_payout")
    while JobRecord.get_by_id(record.id).state == "pending":
        pending.run_now(record.uuid)
    payout = Payout.get()
    assert JobRecord.get_by_id(record.id).state == "failed" and payout.status == "sending"
    assert any(m["To"] == admin.email and "is stuck" in m["Subject"] for m in app_env.mails)
    assert balances.balance_of(seller).available == 0  # still debited, never paid twice
    # Within the hour nothing is asked again; after it, the resend completes the payout once.
    assert tasks.resend_stuck_stripe_payouts.run_now() == 0
    Payout.update(created_at=utcnow() - datetime.timedelta(hours=2)).execute()
    connect_api.fail_next("/v1/transfers", times=0)
    assert tasks.resend_stuck_stripe_payouts.run_now() == 1
    resent = JobRecord.select().where(JobRecord.name == "send_stripe_payout").order_by(JobRecord.id.desc()).get()
    pending.run_now(resent.uuid)
    payout = Payout.get_by_id(payout.id)
    assert payout.status == "transferred" and payout.stripe_payout_id and len(connect_api.transfers) == 1
    assert {r["idempotency_key"] for r in connect_api.posts("/v1/transfers")} == {f"payout-{payout.id}-transfer"}
    assert tasks.resend_stuck_stripe_payouts.run_now() == 0


def test_a_transfer_stripe_refuses_returns_the_money_at_once(make_user, connect_api):
    seller = connected_seller(make_user, connect_api)
    # The seller's account lost its payouts at Stripe before our event said so.
    connect_api.accounts[connect.account_of(seller).account_id]["payouts_enabled"] = False
    pay_sellers()
    payout = Payout.get()
    assert payout.status == "returned" and payout.transfer_id is None
    assert balances.balance_of(seller) == balances.Balance("USD", available=1800, paid_out=0)
    assert Notification.get(Notification.user == seller).type == "payout_returned"


def paid_out_seller(make_user, connect_api):
    seller = connected_seller(make_user, connect_api)
    pay_sellers()
    return seller, Payout.get()


def test_the_same_payout_event_delivered_twice_tells_the_seller_once(client, make_user, connect_api, app_env):
    seller, payout = paid_out_seller(make_user, connect_api)
    paid = connect_api.settle_payout(payout.stripe_payout_id, "paid")
    event = connect_event("payout.paid", paid, account=payout.account_id)
    assert post_stripe_event(client, event).json["duplicate"] is False
    assert post_stripe_event(client, event).json["duplicate"] is True
    # Stripe may also send another event about the same payout.
    post_stripe_event(client, connect_event("payout.paid", paid, account=payout.account_id))
    assert Payout.get_by_id(payout.id).status == "paid"
    assert Notification.select().where(Notification.type == "payout_sent").count() == 1
    assert [m["Subject"] for m in app_env.mails if m["To"] == seller.email] == ["You were paid $18.00"]
    assert LedgerEntry.select().where(LedgerEntry.payout == payout).count() == 1


def test_a_failed_bank_payout_returns_its_money_to_the_balance_once(client, make_user, connect_api, app_env):
    seller, payout = paid_out_seller(make_user, connect_api)
    failed = connect_api.settle_payout(payout.stripe_payout_id, "failed", "account_closed")
    event = connect_event("payout.failed", failed, account=payout.account_id)
    post_stripe_event(client, event)
    assert post_stripe_event(client, event).json["duplicate"] is True
    # Another event about the same failure asks Stripe again, with the same key.
    post_stripe_event(client, connect_event("payout.failed", failed, account=payout.account_id))
    # The shop took the money back from the seller's account before crediting it, once.
    transfer = connect_api.transfers[payout.transfer_id]
    assert transfer["amount_reversed"] == 1800 and transfer["reversed"]
    reversals = connect_api.posts(f"/v1/transfers/{payout.transfer_id}/reversals")
    assert [r["idempotency_key"] for r in reversals] == [f"payout-{payout.id}-reversal"] * 2
    # Stripe's transfer.reversed follows: the credit is not written again.
    response = post_stripe_event(client, connect_event("transfer.reversed", dict(transfer)))
    assert response.status_int == 200
    [credit] = LedgerEntry.select().where(LedgerEntry.kind == "payout_returned")
    assert credit.payout_id == payout.id and credit.amount == 1800
    assert Payout.get_by_id(payout.id).status == "returned"
    assert balances.balance_of(seller) == balances.Balance("USD", available=1800, paid_out=0)
    assert [m["Subject"] for m in app_env.mails if m["To"] == seller.email] == \
        ["Your payout of $18.00 did not go through"]
    page = login(client, seller) and client.get("/seller/balance")
    assert "back in your balance" in page.text and "payout returned" in page.text

    # The next payout pays it again, with a transfer of its own.
    assert pay_sellers() == 1
    assert len(connect_api.transfers) == 2 and balances.balance_of(seller).paid_out == 1800
    assert connect_api.problems == []


def test_a_transfer_event_that_is_not_ours_changes_nothing(client, make_user, connect_api):
    seller, payout = paid_out_seller(make_user, connect_api)
    stranger = dict(connect_api.transfers[payout.transfer_id], id="tr_not_ours")
    connect_api.transfers["tr_not_ours"] = dict(stranger, amount=1, reversed=True, amount_reversed=1)
    post_stripe_event(client, connect_event("transfer.reversed", stranger))
    assert LedgerEntry.select().where(LedgerEntry.kind == "payout_returned").count() == 0
    assert Payout.get_by_id(payout.id).status == "transferred"


def test_the_owner_downloads_every_sellers_payouts(client, make_user, connect_api, login_as):
    first, _ = paid_out_seller(make_user, connect_api)
    second = connected_seller(make_user, connect_api, available=2700)
    pay_sellers()
    manual = make_user("seller")
    paid_order(make_user("customer"), [make_product(manual, "Loops", 2000)])
    login_as("admin")
    page = client.get("/admin/payouts")
    assert "/admin/payouts.csv" in page.text
    assert "paid on the schedule (0 6 * * 5 UTC)" in page.html.select_one(f"#seller-{first.id}").text
    assert "paid on the schedule" not in page.html.select_one(f"#seller-{manual.id}").text
    response = client.get("/admin/payouts.csv")
    assert response.content_type == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["seller_email"], r["method"], r["status"], r["amount"]) for r in rows] == [
        (first.email, "stripe", "transferred", "18.00"), (second.email, "stripe", "transferred", "27.00")]
    assert rows[0]["reference"] == Payout.get(Payout.seller == first).transfer_id
    client.reset()
    login(client, first)
    assert client.get("/admin/payouts.csv", expect_errors=True).status_int == 403


def test_the_payout_schedule_is_a_cron_line(app_env):
    assert config.PAYOUT_SCHEDULE == "0 6 * * 5"
    friday_six = datetime.datetime(2026, 12, 4, 6, 0)
    assert tasks.payout_schedule(friday_six) and not tasks.payout_schedule(friday_six + datetime.timedelta(days=1))
    app_env.reload(PAYOUT_SCHEDULE="30 2 1 * *")
    assert tasks.payout_schedule(datetime.datetime(2027, 1, 1, 2, 30))
    assert not tasks.payout_schedule(friday_six)
    with pytest.raises(ConfigError, match="PAYOUT_SCHEDULE"):
        config.load_settings(dict(app_env.environ, PAYOUT_SCHEDULE="every friday"), dotenv=False)
