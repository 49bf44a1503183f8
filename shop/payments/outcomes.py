"""What acting on a gateway's event, or asking the gateway about an order, did.

The shop steers by `change` (the reconcile job chains the invoice jobs only when
the order became paid); `text` is what the admin's order page shows beside the
event, as it is stored in WebhookEvent.outcome.
"""

import enum
from dataclasses import dataclass
from typing import Optional

from models import Order


class Change(enum.Enum):
    PAID = "paid"
    FAILED = "failed"
    EXPIRED = "expired"
    REFUNDED = "refunded"
    UNCHANGED = "unchanged"  # the order already was where the event would take it, or stays where it is
    WAITING = "waiting"  # the gateway has not settled it yet (an asynchronous payment, a pending refund)
    IGNORED = "ignored"  # not about an order of this shop, or contradicted by the gateway's records
    PAYOUT_PAID = "payout paid"  # a seller's Stripe payout reached their bank
    PAYOUT_RETURNED = "payout returned"  # a seller's Stripe payout failed or was reversed: credited back


@dataclass(frozen=True)
class Outcome:
    change: Change
    text: str
    payout_id: Optional[int] = None  # the seller's payout a Connect event was about (PAYOUT_* changes)

    def __str__(self):
        return self.text


def paid():
    return Outcome(Change.PAID, "paid")


def waiting(text):
    return Outcome(Change.WAITING, text)


def ignored(text):
    return Outcome(Change.IGNORED, text)


# How an order that did not change is described: "already paid" when it was there
# before the event, "left refunded" when the event would have moved it elsewhere.
_UNCHANGED_WORDS = {Change.PAID: "already", Change.REFUNDED: "already", Change.FAILED: "left",
                    Change.EXPIRED: "left"}


def of_update(changed, change, order_id):
    """The outcome of an update that moves the order to `change` if it can: `change`
    itself when the row changed, otherwise UNCHANGED naming the order's status."""
    if changed:
        return Outcome(change, change.value)
    return Outcome(Change.UNCHANGED, f"{_UNCHANGED_WORDS[change]} {Order.get_by_id(order_id).status}")
