"""Payouts through Stripe Connect: booked first, then transferred, and Stripe's events about them.

The payout schedule books each connected seller's available balance as a Payout
and its ledger debit in one transaction, before anything is asked of Stripe,
under a key unique in the payout table. The transfer job then sends it:

1. a transfer to the seller's connected account, with the idempotency key
   "payout-<id>-transfer";
2. a payout of that money to the seller's bank, on the connected account, with
   "payout-<id>-bank" and the payout's id in its metadata (the account pays out
   manually, so Stripe's payout events name our payout).

Each id is written after its call. A consumer killed between a call and its
write runs the job again, and Stripe answers the same key with the same
transfer: nothing is paid twice, and the debit was there all along.

Events (`transfer.*`, `payout.paid`, `payout.failed`, `account.updated`) are only
hints: each handler reads the object from Stripe's API first. A bank payout that
failed has left the money on the seller's connected account; the shop takes it
back by reversing its transfer and credits the seller's balance once (a ledger
entry unique per payout and kind), so the next payout pays it again.
"""

import datetime
import json
import logging

from peewee import IntegrityError, fn

from shop import config
from shop.payments import outcomes, stripe_gateway
from shop.payments.outcomes import Change, Outcome
from shop.payouts import balances, connect
from shop.payouts.connect import call, client
from shop.payouts.manual import lock_seller
from models import LedgerEntry, Payout, db, utcnow

log = logging.getLogger(__name__)

METHOD = "stripe"


# ---------------------------------------------------------------------------
# Booking the payouts that are due
# ---------------------------------------------------------------------------


def due(minimum=None, now=None):
    """[(seller id, currency)] of the payouts due to sellers whose Stripe account can be paid."""
    payable = {account.seller_id for _, account in connect.connected_sellers()}
    return [(seller.id, balance.currency) for seller, balance in balances.payouts_due(minimum=minimum, now=now)
            if seller.id in payable]


def book_payout(seller_id, currency, minimum=None, now=None):
    """Book the seller's available balance as a Stripe payout and its debit; (payout, created) or None.

    Call it inside the transaction that dispatches the transfer job. The key is the
    seller, the currency and their latest ledger entry: run twice on the same ledger
    it names the same payout, and the seller's lock makes the second run find it.
    """
    account = connect.account_of(seller_id)
    if not connect.can_be_paid(account):
        return None
    minimum = config.PAYOUT_MINIMUM if minimum is None else minimum
    with db.atomic():
        lock_seller(seller_id)
        latest = (LedgerEntry.select(fn.MAX(LedgerEntry.id))
                  .where((LedgerEntry.seller == seller_id) & (LedgerEntry.currency == currency)).scalar())
        key = f"stripe-{seller_id}-{currency}-{latest}"
        earlier = Payout.get_or_none(Payout.request_key == key)
        if earlier is not None:
            return earlier, False
        available = balances.balance_of(seller_id, currency, now=now).available
        if available <= 0 or (currency == config.CURRENCY and available < minimum):
            return None
        try:
            with db.atomic():
                payout = Payout.create(seller=seller_id, amount=available, currency=currency, method=METHOD,
                                       reference="", request_key=key, status="sending",
                                       account_id=account.account_id)
                LedgerEntry.create(seller=seller_id, payout=payout, kind="payout", gross=0, fee=0,
                                   amount=-available, currency=currency)
        except IntegrityError:
            return Payout.get(Payout.request_key == key), False
    return payout, True


# ---------------------------------------------------------------------------
# The transfer job's work
# ---------------------------------------------------------------------------


def transfer_key(payout):
    return f"payout-{payout.id}-transfer"


def send(payout_id):
    """Transfer a booked payout and pay it out to the seller's bank; its status. Safe to run again."""
    payout = Payout.get_or_none(Payout.id == payout_id)
    if payout is None or payout.method != METHOD:
        log.warning("payout %s is not a Stripe payout; nothing sent", payout_id)
        return None
    if payout.status == "returned":
        return payout.status
    if payout.transfer_id is None:
        transfer = call("transfer the payout", client().v1.transfers.create, {
            "amount": payout.amount,
            "currency": payout.currency.lower(),
            "destination": payout.account_id,
            "transfer_group": f"payout-{payout.id}",
            "metadata": {"payout_id": str(payout.id)},
        }, {"idempotency_key": transfer_key(payout)})
        record_transfer(payout.id, transfer.id)
    payout = Payout.get_by_id(payout.id)
    if payout.stripe_payout_id is None:
        bank = call("pay out to the seller's bank", client().v1.payouts.create, {
            "amount": payout.amount,
            "currency": payout.currency.lower(),
            "metadata": {"payout_id": str(payout.id)},
        }, {"idempotency_key": f"payout-{payout.id}-bank", "stripe_account": payout.account_id})
        Payout.update(stripe_payout_id=bank.id).where(
            (Payout.id == payout.id) & Payout.stripe_payout_id.is_null()).execute()
    return Payout.get_by_id(payout.id).status


# A payout still not through after this long needs the admins' hand (they were told when
# its job gave up); asking Stripe again every hour would only fill the failed jobs.
STUCK_RESEND_DAYS = 3


def stuck(older_than=datetime.timedelta(hours=1), now=None):
    """Ids of Stripe payouts booked before `older_than` ago (and within STUCK_RESEND_DAYS)
    whose bank payout was never made: their job ran out of tries while Stripe could not be
    reached, or a consumer lost them."""
    now = now or utcnow()
    return [payout_id for (payout_id,) in Payout.select(Payout.id).where(
        (Payout.method == METHOD) & Payout.status.in_(("sending", "transferred"))
        & Payout.stripe_payout_id.is_null() & (Payout.created_at < now - older_than)
        & (Payout.created_at > now - datetime.timedelta(days=STUCK_RESEND_DAYS))).order_by(Payout.id).tuples()]


def record_transfer(payout_id, transfer_id):
    Payout.update(transfer_id=transfer_id, reference=transfer_id, status="transferred").where(
        (Payout.id == payout_id) & Payout.transfer_id.is_null()).execute()
    Payout.update(status="transferred").where((Payout.id == payout_id) & (Payout.status == "sending")).execute()


def refused(payout_id, message):
    """The transfer job gave up because Stripe refused the transfer: no money left, so credit it back."""
    payout = Payout.get_or_none(Payout.id == payout_id)
    if payout is None or payout.transfer_id is not None:
        # The transfer was made; only the bank payout failed, and the money waits on the account.
        log.error("payout %s: %s; its transfer %s stands", payout_id, message, payout and payout.transfer_id)
        return False
    log.error("payout %s refused by Stripe: %s; its amount goes back to the seller's balance", payout_id, message)
    return return_to_balance(payout, payout.amount)


def return_to_balance(payout, amount):
    """Credit a payout's money back to the seller, once; True when this call wrote the credit."""
    with db.atomic():
        Payout.update(status="returned").where(Payout.id == payout.id).execute()
        try:
            with db.atomic():
                LedgerEntry.create(seller=payout.seller_id, payout=payout.id, kind="payout_returned", gross=0,
                                   fee=0, amount=amount, currency=payout.currency)
        except IntegrityError:
            return False
    return True


# ---------------------------------------------------------------------------
# Stripe's events
# ---------------------------------------------------------------------------


def _payout_named(obj):
    """Our Stripe payout that a transfer or payout object names in its metadata, or None."""
    metadata = obj.get("metadata") or {}
    try:
        payout_id = int(metadata.get("payout_id"))
    except (TypeError, ValueError):
        return None
    return Payout.get_or_none((Payout.id == payout_id) & (Payout.method == METHOD))


def _returned(payout, text):
    created = return_to_balance(payout, payout.amount)
    return Outcome(Change.PAYOUT_RETURNED, text if created else f"already returned: {text}", payout.id)


def on_account(event, obj):
    account = connect.record_state(connect.retrieve(obj["id"]))
    if account is None:
        return outcomes.ignored(f"ignored: account {obj['id']} is no seller's")
    return Outcome(Change.UNCHANGED, f"account {account.account_id}: details "
                   f"{'submitted' if account.details_submitted else 'missing'}, payouts "
                   f"{'enabled' if account.payouts_enabled else 'disabled'}")


def on_transfer(event, obj):
    transfer = call("read the transfer", client().v1.transfers.retrieve, obj["id"]).to_dict()
    payout = _payout_named(transfer)
    if payout is None or transfer.get("destination") != payout.account_id or transfer.get("amount") != payout.amount:
        return outcomes.ignored(f"ignored: transfer {obj['id']} is not a payout of this shop")
    if payout.transfer_id is None:
        # The consumer was killed after Stripe made the transfer: its event records it.
        record_transfer(payout.id, transfer["id"])
    elif payout.transfer_id != transfer["id"]:
        return outcomes.ignored(f"ignored: payout {payout.id} was sent as {payout.transfer_id}")
    if transfer.get("reversed") or (transfer.get("amount_reversed") or 0) >= payout.amount:
        return _returned(payout, f"transfer {transfer['id']} reversed: {payout.amount} back in the balance")
    return Outcome(Change.UNCHANGED, f"transfer {transfer['id']} of payout {payout.id} recorded", payout.id)


def on_bank_payout(event, obj, account_id):
    if not account_id:
        return outcomes.ignored(f"ignored: payout {obj['id']} is the platform's own")
    found = call("read the payout", client().v1.payouts.retrieve, obj["id"], None,
                 {"stripe_account": account_id}).to_dict()
    payout = _payout_named(found)
    if payout is None or payout.account_id != account_id or found.get("amount") != payout.amount:
        return outcomes.ignored(f"ignored: payout {obj['id']} is not one of this shop's")
    if found.get("status") == "paid":
        if payout.status in ("sending", "transferred"):
            Payout.update(status="paid", stripe_payout_id=found["id"]).where(
                (Payout.id == payout.id) & Payout.status.in_(("sending", "transferred"))).execute()
        # Told again on a second event: the seller's notice is keyed by the payout and sent once.
        return Outcome(Change.PAYOUT_PAID, f"payout {payout.id} paid into the seller's bank", payout.id)
    if found.get("status") in ("failed", "canceled"):
        if payout.transfer_id:
            # The money is back on the seller's connected account: the shop takes it back
            # before crediting it, or the next payout would pay it a second time.
            call("reverse the transfer", client().v1.transfers.reversals.create, payout.transfer_id,
                 {"amount": payout.amount, "metadata": {"payout_id": str(payout.id)}},
                 {"idempotency_key": f"payout-{payout.id}-reversal"})
        return _returned(payout, f"payout {payout.id} failed at the bank "
                                 f"({found.get('failure_code') or 'no reason given'}): back in the balance")
    return outcomes.waiting(f"payout {payout.id} is {found.get('status')} at Stripe")


def process_event(event):
    """Act on a stored Stripe Connect event after reading its object from Stripe; an Outcome."""
    data = json.loads(event.payload)
    event_type, obj = data["type"], data["data"]["object"]
    if event_type == "account.updated":
        return on_account(event, obj)
    if event_type.startswith("transfer."):
        return on_transfer(event, obj)
    return on_bank_payout(event, obj, data.get("account"))


# What process_webhook hands the webhook path: these events are about payouts, not orders.
EVENT_HANDLERS = {("stripe", event_type): process_event for event_type in stripe_gateway.CONNECT_EVENTS}
