"""Stripe Connect Express: a seller's connected account, its onboarding link, and its state.

The shop creates one Express account per seller (the idempotency key comes from
the seller, so two clicks at once get the same account from Stripe, and the
unique seller column keeps one row), then sends the seller to Stripe's hosted
onboarding through an Account Link. Coming back from Stripe proves nothing (a
seller may leave half-way), so the return page and every `account.updated`
event ask Stripe for the account and record what its own record says.

The account is created with manual payouts: the shop pays each of its transfers
out to the seller's bank as a payout of its own (shop/payouts/stripe_payouts.py),
so that Stripe's payout events name the shop's payout.
"""

import logging

from peewee import IntegrityError

from shop import config
from shop.errors import PaymentError
from shop.payments import stripe_gateway
from models import ConnectAccount, User, db, utcnow

log = logging.getLogger(__name__)


class StripeRefused(PaymentError):
    """Stripe answered the request with a 4xx: the request itself cannot succeed, retrying will not help."""


def call(description, func, *args, **kwargs):
    """One call to Stripe; its refusals as StripeRefused, anything else (5xx, network) as PaymentError."""
    stripe = stripe_gateway.stripe_library()
    try:
        return func(*args, **kwargs)
    except stripe.StripeError as exc:
        status = getattr(exc, "http_status", None)
        reason = exc.user_message or exc
        # 409 (a request with the same key still running) and 429 (too many requests) pass with time.
        if status is not None and 400 <= status < 500 and status not in (409, 429):
            raise StripeRefused(f"Stripe refused to {description}: {reason}") from exc
        raise PaymentError(f"Stripe could not {description} just now ({status or 'no answer'}): {reason}") from exc


def client():
    return stripe_gateway.client()


def account_of(seller):
    """The seller's ConnectAccount, or None before they connected."""
    return ConnectAccount.get_or_none(ConnectAccount.seller == getattr(seller, "id", seller))


def can_be_paid(account):
    """True when Stripe will take transfers and pay them out to this account."""
    return account is not None and account.details_submitted and account.payouts_enabled


def account_params(seller):
    return {
        "type": "express",
        "email": seller.email,
        "capabilities": {"transfers": {"requested": True}},
        "settings": {"payouts": {"schedule": {"interval": "manual"}}},
        "metadata": {"seller_id": str(seller.id)},
    }


def ensure_account(seller):
    """The seller's connected account, created at Stripe and stored the first time."""
    account = account_of(seller)
    if account is not None:
        return account
    created = call("create the connected account", client().v1.accounts.create, account_params(seller),
                   {"idempotency_key": f"connect-account-{seller.id}"}).to_dict()
    try:
        with db.atomic():
            return ConnectAccount.create(seller=seller.id, account_id=created["id"],
                                         details_submitted=bool(created.get("details_submitted")),
                                         charges_enabled=bool(created.get("charges_enabled")),
                                         payouts_enabled=bool(created.get("payouts_enabled")))
    except IntegrityError:
        # The same click twice at once: the other request stored it (Stripe gave both the same account).
        return ConnectAccount.get(ConnectAccount.seller == seller.id)


def onboarding_url(seller):
    """The URL of Stripe's hosted onboarding for the seller's account (a link works once, briefly)."""
    account = ensure_account(seller)
    link = call("start the onboarding", client().v1.account_links.create, {
        "account": account.account_id,
        "type": "account_onboarding",
        "refresh_url": f"{config.APP_URL}/seller/payouts/connect/refresh",
        "return_url": f"{config.APP_URL}/seller/payouts/connect/return",
    })
    return link.url


def record_state(stripe_account):
    """Store what Stripe's record of an account says; the ConnectAccount, or None when it is not a seller's."""
    account = ConnectAccount.get_or_none(ConnectAccount.account_id == stripe_account["id"])
    if account is None:
        return None
    ConnectAccount.update(details_submitted=bool(stripe_account.get("details_submitted")),
                          charges_enabled=bool(stripe_account.get("charges_enabled")),
                          payouts_enabled=bool(stripe_account.get("payouts_enabled")),
                          updated_at=utcnow()).where(ConnectAccount.id == account.id).execute()
    return ConnectAccount.get_by_id(account.id)


def retrieve(account_id):
    """Stripe's record of a connected account, as a plain dict."""
    return call("read the connected account", client().v1.accounts.retrieve, account_id).to_dict()


def refresh(seller):
    """Ask Stripe where the seller's onboarding stands and store it (the return page's path)."""
    account = account_of(seller)
    if account is None:
        return None
    return record_state(retrieve(account.account_id))


def connected_sellers():
    """[(seller, ConnectAccount)] of the sellers Stripe will pay."""
    query = (ConnectAccount.select(ConnectAccount, User).join(User, on=(ConnectAccount.seller == User.id))
             .where(ConnectAccount.details_submitted & ConnectAccount.payouts_enabled))
    return [(account.seller, account) for account in query]
