"""Accounts: registration, password login slowed down per address and per account,
server-side sessions."""

import datetime
import hashlib
import math
import re

from peewee import Case, IntegrityError

from shop import config
from shop import security
from shop.errors import TooManyRequests, ValidationError
from models import ROLES, LoginAttempt, Session, User, db, utcnow

EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
MIN_PASSWORD = 8
SELF_SERVICE_ROLES = ("customer", "seller")


def normalize_email(email):
    return (email or "").strip().lower()


def password_errors(password):
    """{"password": what is wrong} for a password the shop will not take, else {}."""
    if len(password or "") < MIN_PASSWORD:
        return {"password": f"Use at least {MIN_PASSWORD} characters."}
    if len(password) > 1024:
        return {"password": "That password is too long."}
    return {}


def checked_email(email):
    """The address, normalised, or a form error on the email field."""
    email = normalize_email(email)
    if not EMAIL_RE.match(email) or len(email) > 254:
        raise ValidationError("Enter a valid email address.", errors={"email": "Enter a valid email address."})
    return email


def validate_registration(name, email, password, role):
    errors = {}
    name = (name or "").strip()
    email = normalize_email(email)
    if not name:
        errors["name"] = "Enter your name."
    elif len(name) > 100:
        errors["name"] = "Use at most 100 characters."
    if not EMAIL_RE.match(email) or len(email) > 254:
        errors["email"] = "Enter a valid email address."
    errors.update(password_errors(password))
    if role not in ROLES:
        errors["role"] = "Choose customer or seller."
    if errors:
        raise ValidationError(errors=errors)
    return name, email


def create_user(name, email, password, role, verified=True):
    """Create an account; a duplicate email is a form error, not a crash.

    An account the operator makes (`marketplace user create`, the demo shop) is taken as
    verified; one made by signing up is not (`verified=False`) until its link is opened.
    """
    name, email = validate_registration(name, email, password, role)
    try:
        with db.atomic():
            return User.create(name=name, email=email, role=role,
                               password_hash=security.hash_password(password),
                               email_verified_at=utcnow() if verified else None)
    except IntegrityError:
        raise ValidationError(errors={"email": "An account with this email already exists."}) from None


def register(name, email, password, role):
    if role not in SELF_SERVICE_ROLES:
        raise ValidationError(errors={"role": "Choose customer or seller."})
    return create_user(name, email, password, role, verified=False)


# ---------------------------------------------------------------------------
# The login throttle: at most LOGIN_MAX_FAILURES passwords checked per address and
# per account in LOGIN_LOCKOUT_SECONDS
# ---------------------------------------------------------------------------


def email_digest(email):
    """The form in which a counter names an account: no email address in the table."""
    return hashlib.sha256(email.encode("utf-8", "surrogateescape")).hexdigest()[:40]


def throttle_keys(email, ip):
    """The counters a login attempt raises: its address's and its account's. The account's
    is counted whether or not the account exists, so the answer reveals nothing; its key is
    a digest, so the table holds no email address."""
    return {"address": f"address:{ip[:64]}", "account": f"account:{email_digest(email)}"}


def count_attempt(key, now=None, window_seconds=None):
    """Count one attempt for `key` and return (attempts in this window, when it started).

    One statement, so that concurrent attempts each see their own count: a window
    older than `window_seconds` (LOGIN_LOCKOUT_SECONDS unless told) starts again at
    1, otherwise the count goes up. Password reset requests count here too, under
    keys of their own.
    """
    now = now or utcnow()
    since = now - datetime.timedelta(seconds=window_seconds or config.LOGIN_LOCKOUT_SECONDS)
    expired = LoginAttempt.window_started_at <= since
    query = LoginAttempt.insert(key=key, attempts=1, window_started_at=now).on_conflict(
        conflict_target=[LoginAttempt.key],
        update={LoginAttempt.attempts: Case(None, [(expired, 1)], LoginAttempt.attempts + 1),
                LoginAttempt.window_started_at: Case(None, [(expired, now)], LoginAttempt.window_started_at)},
    ).returning(LoginAttempt.attempts, LoginAttempt.window_started_at)
    # Run as plain SQL: peewee reads RETURNING rows back only on PostgreSQL; SQLite has had
    # the clause since 3.35.
    attempts, started = db.execute_sql(*query.sql()).fetchone()
    return attempts, LoginAttempt.window_started_at.python_value(started)


def give_back_attempt(key):
    """A correct password does not count against its address."""
    LoginAttempt.update(attempts=LoginAttempt.attempts - 1).where(
        (LoginAttempt.key == key) & (LoginAttempt.attempts > 0)).execute()


def check_login_allowed(email, ip):
    """Count this attempt against its address and its account, before the password is
    checked; past LOGIN_MAX_FAILURES in the window, refuse until the window ends."""
    now = utcnow()
    for kind, key in throttle_keys(email, ip).items():
        attempts, started = count_attempt(key, now)
        if attempts > config.LOGIN_MAX_FAILURES:
            wait = config.LOGIN_LOCKOUT_SECONDS - (now - started).total_seconds()
            whom = "your address" if kind == "address" else "this account"
            raise TooManyRequests(f"Too many failed logins for {whom}. Try again in a few minutes.",
                                  retry_after=max(1, math.ceil(wait)))


def authenticate(email, password, ip):
    """The user for these credentials, or ValidationError; slowed down per address and per account."""
    email = normalize_email(email)
    check_login_allowed(email, ip)
    user = User.get_or_none(User.email == email)
    if not security.verify_password(user.password_hash if user else None, password or ""):
        raise ValidationError("Wrong email or password.", errors={"password": "Wrong email or password."})
    keys = throttle_keys(email, ip)
    give_back_attempt(keys["address"])
    # The account's owner is in: earlier wrong guesses at it no longer hold it back.
    LoginAttempt.delete().where(LoginAttempt.key == keys["account"]).execute()
    return user


def start_session(user):
    """A new session; returns the cookie token (only its digest is stored)."""
    token = security.random_token()
    Session.create(token_hash=security.token_digest(token), user=user,
                   expires_at=utcnow() + datetime.timedelta(days=config.SESSION_DAYS))
    return token


def user_for_session(token):
    if not token or len(token) > 128:
        return None
    row = (Session.select(Session, User).join(User)
           .where((Session.token_hash == security.token_digest(token)) & (Session.expires_at > utcnow()))
           .first())
    return row.user if row else None


def end_session(token):
    if token:
        Session.delete().where(Session.token_hash == security.token_digest(token)).execute()


def end_other_sessions(user, keep_token=None):
    """Log the account out everywhere but the session of `keep_token`; returns how many ended."""
    query = Session.delete().where(Session.user == user)
    if keep_token:
        query = query.where(Session.token_hash != security.token_digest(keep_token))
    return query.execute()


def prune_sessions():
    """Delete expired sessions and old login failures and reset requests; returns how many rows went."""
    now = utcnow()
    removed = Session.delete().where(Session.expires_at <= now).execute()
    # The counters share one table: a row goes once the longest window it may belong to is over.
    window = max(config.LOGIN_LOCKOUT_SECONDS, config.PASSWORD_RESET_WINDOW_SECONDS)
    since = now - datetime.timedelta(seconds=window)
    removed += LoginAttempt.delete().where(LoginAttempt.window_started_at <= since).execute()
    return removed
