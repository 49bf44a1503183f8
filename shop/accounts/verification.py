"""Email verification: a signed link proves the address is its account's.

The link names the account, the address and when it expires, signed under
APP_SECRET, so nothing is stored: a link made for an address stops working when
the account's address changes, and the one sent again works beside the first.
The email's job gets only the account's id and the expiry, and makes the link
itself, so no job record holds one. Sending again is limited per account.
"""

import datetime
import math

from shop import config
from shop import mail
from shop import security
from shop.accounts import guests
from shop.accounts import users
from shop.errors import Forbidden, TooManyRequests, ValidationError
from models import User, utcnow

LINK_HOURS = 48
PURPOSE = "email-verification"
LINK_UNUSABLE = "This verification link is not valid any more. Log in and ask for a new one."
MUST_VERIFY_TO_SELL = ("Verify your email address before you submit products for review: "
                       "open the link we emailed you, or ask for a new one at the top of the page.")


class LinkUnusable(ValidationError):
    """A verification token that is malformed, forged, expired or for an old address."""


def token_for(user, expires):
    """The link's token: <user id>.<expiry, seconds since the epoch>.<signature>."""
    return f"{user.id}.{expires}.{security.sign(PURPOSE, f'{user.id}:{expires}:{user.email}')}"


def new_expiry(now=None):
    now = now or utcnow()
    return int((now + datetime.timedelta(hours=LINK_HOURS)).replace(tzinfo=datetime.timezone.utc).timestamp())


def new_request():
    """(expiry, request id): the arguments of one verification email's job. The request id
    keys the email, so each request sends one, however close together."""
    return new_expiry(), security.random_token(9)


def send_link(user_id, expires, request_id):
    """The verification email (once per request: the mailer's key)."""
    user = User.get_or_none(User.id == user_id)
    if user is None or user.email_verified:
        return False
    text = (
        f"Hello {user.name},\n\n"
        f"Please confirm that {user.email} is your address at {config.APP_URL}:\n\n"
        f"{config.APP_URL}/email/verify/{token_for(user, expires)}\n\n"
        f"The link works for {LINK_HOURS} hours. If you did not make an account, ignore this email.\n"
    )
    return mail.send(f"email-verification:{user.id}:{request_id}", user.email, "Confirm your email address", text)


def check_resend_allowed(user):
    """Sending the link again counts like a reset request: a few an hour per account."""
    now = utcnow()
    window = config.PASSWORD_RESET_WINDOW_SECONDS
    attempts, started = users.count_attempt(f"verify-account:{user.id}", now, window_seconds=window)
    if attempts > config.PASSWORD_RESET_MAX_REQUESTS:
        wait = window - (now - started).total_seconds()
        raise TooManyRequests("We have sent the link several times already. Try again later.",
                              retry_after=max(1, math.ceil(wait)))


def verify(token):
    """Mark the token's account verified; returns it. Raises LinkUnusable for a bad token."""
    parts = (token or "").split(".")
    if len(token or "") > 200 or len(parts) != 3 or not all(p.isdigit() and p.isascii() for p in parts[:2]):
        raise LinkUnusable(LINK_UNUSABLE)
    user_id, expires, signature = int(parts[0]), int(parts[1]), parts[2]
    user = User.get_or_none(User.id == user_id) if user_id < 2**63 else None
    if user is None or not security.verify_signature(PURPOSE, f"{user.id}:{expires}:{user.email}", signature):
        raise LinkUnusable(LINK_UNUSABLE)
    if expires < utcnow().replace(tzinfo=datetime.timezone.utc).timestamp():
        raise LinkUnusable(LINK_UNUSABLE)
    if not user.email_verified:
        # Only the address the link was made for: it is part of the signature.
        User.update(email_verified_at=utcnow()).where(
            (User.id == user.id) & (User.email == user.email) & User.email_verified_at.is_null()).execute()
    user = User.get_by_id(user.id)
    # The address is proven: what a guest bought with it joins the account's library.
    guests.claim_orders(user)
    return user


def require_verified(user):
    """Forbidden for a seller whose address is not verified yet (products go for review)."""
    if not user.email_verified:
        raise Forbidden(MUST_VERIFY_TO_SELL)
