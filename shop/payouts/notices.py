"""Telling a seller they were paid: a notification row and an email, keyed by the payout.

The key makes a retried job add nothing twice (see shop/accounts/notifications.py).
"""

import logging

from shop import config
from shop.accounts import notifications
from shop.money import format_money
from shop.payouts.manual import METHODS
from models import Payout, User

log = logging.getLogger(__name__)

PAYOUT_SENT = "payout_sent"


def payout_sent(payout_id, email=True):
    """Tell the seller a payout was made: amount, method and reference."""
    payout = Payout.get_or_none(Payout.id == payout_id)
    if payout is None:
        log.warning("payout %s no longer exists; no notification sent", payout_id)
        return None
    seller = User.get_by_id(payout.seller_id)
    amount = format_money(payout.amount, payout.currency)
    method = METHODS.get(payout.method, payout.method)
    url = f"{config.APP_URL}/seller/balance"
    data = {"payout_id": payout.id, "message": f"You were paid {amount}.",
            "detail": f"{method}, reference {payout.reference}", "url": url}
    subject = f"You were paid {amount}"
    text = (f"Hello {seller.name},\n\n"
            f"{config.APP_NAME} has paid you {amount} by {method.lower()} "
            f"(reference {payout.reference}).\n\n"
            f"Your balance and every payout: {url}\n")
    return notifications.deliver(seller, PAYOUT_SENT, f"payout-sent:{payout.id}", data, subject, text, email)
