"""Telling a seller they were paid: a notification row and an email, keyed by the payout.

The key makes a retried job add nothing twice (see shop/accounts/notifications.py).
"""

import logging

from shop import config
from shop.accounts import notifications
from shop.money import format_money
from shop.payouts.manual import METHOD_LABELS
from models import Payout, User

log = logging.getLogger(__name__)

PAYOUT_SENT = "payout_sent"
PAYOUT_RETURNED = "payout_returned"


def payout_sent(payout_id, email=True):
    """Tell the seller a payout was made: amount, method and reference."""
    payout = Payout.get_or_none(Payout.id == payout_id)
    if payout is None:
        log.warning("payout %s no longer exists; no notification sent", payout_id)
        return None
    seller = User.get_by_id(payout.seller_id)
    amount = format_money(payout.amount, payout.currency)
    method = METHOD_LABELS.get(payout.method, payout.method)
    url = f"{config.APP_URL}/seller/balance"
    data = {"payout_id": payout.id, "message": f"You were paid {amount}.",
            "detail": f"{method}, reference {payout.reference}", "url": url}
    subject = f"You were paid {amount}"
    text = (f"Hello {seller.name},\n\n"
            f"{config.APP_NAME} has paid you {amount} by {method.lower()} "
            f"(reference {payout.reference}).\n\n"
            f"Your balance and every payout: {url}\n")
    return notifications.deliver(seller, PAYOUT_SENT, f"payout-sent:{payout.id}", data, subject, text, email)


def payout_returned(payout_id, email=True):
    """Tell the seller a Stripe payout did not reach them and its amount is back in their balance."""
    payout = Payout.get_or_none(Payout.id == payout_id)
    if payout is None:
        log.warning("payout %s no longer exists; no notification sent", payout_id)
        return None
    seller = User.get_by_id(payout.seller_id)
    amount = format_money(payout.amount, payout.currency)
    url = f"{config.APP_URL}/seller/balance"
    data = {"payout_id": payout.id, "message": f"A payout of {amount} did not reach you; it is back in your balance.",
            "detail": "Check your bank details in your Stripe account; the next payout pays it again.", "url": url}
    subject = f"Your payout of {amount} did not go through"
    text = (f"Hello {seller.name},\n\n"
            f"Stripe could not pay {amount} from {config.APP_NAME} into your bank account. The amount is "
            f"back in your available balance and goes out with the next payout.\n\n"
            f"Check your bank details in your Stripe account. Your balance: {url}\n")
    return notifications.deliver(seller, PAYOUT_RETURNED, f"payout-returned:{payout.id}", data, subject, text, email)
