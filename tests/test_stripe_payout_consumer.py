"""A Stripe payout with a real consumer SIGKILLed between the transfer and the database write.

The checking Stripe makes the transfer, then holds its answer; the consumer is
killed while it waits, so the transfer exists at Stripe and the shop has not
written its id. The restarted consumer runs the job again: Stripe answers the
same idempotency key with the same transfer, and the ledger holds one debit.
"""

import pytest

import tasks
from models import LedgerEntry, Payout
from tests.conftest import wait_for
from tests.test_stripe_connect import connect_api, connected_seller  # noqa: F401 (connect_api is a fixture)

pytestmark = [pytest.mark.consumer, pytest.mark.slow]


def test_a_consumer_killed_mid_transfer_pays_once_and_keeps_the_debit(consumer, make_user, connect_api):
    seller = connected_seller(make_user, connect_api, available=1800)
    arrived, release = connect_api.hold("/v1/transfers")
    process = consumer(workers=2)
    tasks.pay_connected_sellers.dispatch()
    assert arrived.wait(60), process.output()
    payout = Payout.get()
    assert payout.status == "sending" and len(connect_api.transfers) == 1  # made at Stripe, not yet written here
    process.kill()
    release.set()

    restarted = consumer(workers=2)
    wait_for(lambda: Payout.get_by_id(payout.id).stripe_payout_id is not None, timeout=90,
             message="the payout to be sent by the restarted consumer")
    payout = Payout.get_by_id(payout.id)
    [transfer] = connect_api.transfers.values()
    assert payout.status == "transferred" and payout.transfer_id == transfer["id"]
    keys = [r["idempotency_key"] for r in connect_api.posts("/v1/transfers")]
    assert len(keys) >= 2 and set(keys) == {f"payout-{payout.id}-transfer"}, restarted.output()
    assert len(connect_api.payouts) == 1
    [debit] = LedgerEntry.select().where(LedgerEntry.kind == "payout")
    assert debit.payout_id == payout.id and debit.amount == -1800 and debit.seller_id == seller.id
    assert Payout.select().count() == 1 and connect_api.problems == []
