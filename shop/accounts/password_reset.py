"""Password reset: a single-use link by email that expires, asked for at most a few times an hour.

The link carries a random token; the table holds only its digest, so a copy of
the database opens no account. Asking gives the same answer whether or not the
address has an account, and the requests are counted per address and per
account (the login throttle's counters, under keys of their own) whether or not
it exists, so neither the answer nor the limit tells who has one. Using a link
sets the new password, spends every other link of the account and ends all of
its sessions.
"""

import datetime
import math

from shop import config
from shop import mail
from shop import security
from shop.accounts import users
from shop.errors import TooManyRequests, ValidationError
from models import LoginAttempt, PasswordReset, User, db, utcnow

# The answer to every well-formed request, whoever owns the address.
REQUESTED = ("If an account uses that address, we have emailed it a link to choose a new password. "
             "The link works once, within the hour.")
LINK_UNUSABLE = "This password reset link has expired or was already used. Ask for a new one below."


class LinkUnusable(ValidationError):
    """A reset token that is unknown, used or expired."""


def request_keys(email, ip):
    """The counters one request raises: its address's and its account's."""
    return {"address": f"reset-address:{ip[:64]}", "account": f"reset-account:{users.email_digest(email)}"}


def check_request_allowed(email, ip):
    """Count this request against its address and its account; past
    PASSWORD_RESET_MAX_REQUESTS in the window, refuse until the window ends."""
    now = utcnow()
    window = config.PASSWORD_RESET_WINDOW_SECONDS
    for kind, key in request_keys(email, ip).items():
        attempts, started = users.count_attempt(key, now, window_seconds=window)
        if attempts > config.PASSWORD_RESET_MAX_REQUESTS:
            wait = window - (now - started).total_seconds()
            whom = "your address" if kind == "address" else "this email address"
            raise TooManyRequests(f"Too many password reset requests for {whom}. Try again later.",
                                  retry_after=max(1, math.ceil(wait)))


def validate_email(email):
    email = users.normalize_email(email)
    if not users.EMAIL_RE.match(email) or len(email) > 254:
        raise ValidationError("Enter a valid email address.", errors={"email": "Enter a valid email address."})
    return email


def request_reset(email, ip, send):
    """Ask for a reset link for `email`. Returns the new PasswordReset, or None when no
    account uses the address; the caller answers REQUESTED either way.

    `send(reset_id, token)` queues the email; it is called inside the transaction that
    stores the link, so a link is stored only with its email on the way.
    """
    email = validate_email(email)
    check_request_allowed(email, ip)
    user = User.get_or_none(User.email == email)
    if user is None:
        return None
    token = security.random_token()
    with db.atomic():
        reset = PasswordReset.create(
            token_hash=security.token_digest(token), user=user,
            expires_at=utcnow() + datetime.timedelta(minutes=config.PASSWORD_RESET_MINUTES))
        send(reset.id, token)
    return reset


def send_reset_email(reset_id, token):
    """The link's email, once per link (keyed by its id)."""
    reset = PasswordReset.get_or_none(PasswordReset.id == reset_id)
    if reset is None or reset.used_at is not None:
        return False  # the account was deleted, or the link used, before the email went
    user = reset.user
    minutes = config.PASSWORD_RESET_MINUTES
    text = (
        f"Hello {user.name},\n\n"
        f"Someone (we hope you) asked to reset the password of your account at {config.APP_URL}.\n"
        f"Choose a new password here within {minutes} minutes; the link works once:\n\n"
        f"{config.APP_URL}/password/reset/{token}\n\n"
        "Using it logs your account out everywhere else. If you did not ask, ignore this email: "
        "your password stays as it is.\n"
    )
    return mail.send(f"password-reset:{reset.id}", user.email, "Reset your password", text)


def usable(token):
    """The PasswordReset of `token` if it can still be used, else None."""
    if not token or len(token) > 128:
        return None
    return (PasswordReset.select(PasswordReset, User).join(User)
            .where((PasswordReset.token_hash == security.token_digest(token))
                   & PasswordReset.used_at.is_null() & (PasswordReset.expires_at > utcnow()))
            .first())


def reset_password(token, password, for_user=None):
    """Set a new password with the link of `token`; returns its user.

    All in one transaction: the link is spent by a conditional UPDATE (of two uses
    at once only one changes anything), the password set, the account's other links
    spent, every session of the account ended and its login counter cleared. A bad
    password or an unusable link raises ValidationError and writes nothing.
    `for_user`, when a visitor is logged in, must be the link's account.
    """
    reset = usable(token)
    if reset is None:
        raise LinkUnusable(LINK_UNUSABLE)
    if for_user is not None and for_user.id != reset.user_id:
        raise ValidationError("This link is for another account. Log out first, then open it again.")
    errors = users.password_errors(password)
    if errors:
        raise ValidationError(errors["password"], errors=errors)
    now = utcnow()
    with db.atomic():
        spent = PasswordReset.update(used_at=now).where(
            (PasswordReset.id == reset.id) & PasswordReset.used_at.is_null()
            & (PasswordReset.expires_at > now)).execute()
        if spent != 1:
            raise LinkUnusable(LINK_UNUSABLE)
        User.update(password_hash=security.hash_password(password)).where(User.id == reset.user_id).execute()
        PasswordReset.update(used_at=now).where(
            (PasswordReset.user == reset.user_id) & PasswordReset.used_at.is_null()).execute()
        users.end_other_sessions(reset.user_id)
        account_key = users.throttle_keys(reset.user.email, "")["account"]
        LoginAttempt.delete().where(LoginAttempt.key == account_key).execute()
    return User.get_by_id(reset.user_id)


def prune():
    """Delete links that expired a day ago or more (kept a day, so a late click says 'expired')."""
    return PasswordReset.delete().where(PasswordReset.expires_at <= utcnow() - datetime.timedelta(days=1)).execute()
