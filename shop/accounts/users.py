"""Accounts: registration, password login slowed down per address, server-side sessions."""

import datetime
import re

from peewee import IntegrityError

from shop import config
from shop import security
from shop.errors import TooManyRequests, ValidationError
from models import ROLES, LoginFailure, Session, User, db, utcnow

EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
MIN_PASSWORD = 8
SELF_SERVICE_ROLES = ("customer", "seller")


def normalize_email(email):
    return (email or "").strip().lower()


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
    if len(password or "") < MIN_PASSWORD:
        errors["password"] = f"Use at least {MIN_PASSWORD} characters."
    elif len(password) > 1024:
        errors["password"] = "That password is too long."
    if role not in ROLES:
        errors["role"] = "Choose customer or seller."
    if errors:
        raise ValidationError(errors=errors)
    return name, email


def create_user(name, email, password, role):
    """Create an account; a duplicate email is a form error, not a crash."""
    name, email = validate_registration(name, email, password, role)
    try:
        with db.atomic():
            return User.create(name=name, email=email, role=role,
                               password_hash=security.hash_password(password))
    except IntegrityError:
        raise ValidationError(errors={"email": "An account with this email already exists."}) from None


def register(name, email, password, role):
    if role not in SELF_SERVICE_ROLES:
        raise ValidationError(errors={"role": "Choose customer or seller."})
    return create_user(name, email, password, role)


def _recent_failures(ip):
    since = utcnow() - datetime.timedelta(seconds=config.LOGIN_LOCKOUT_SECONDS)
    return LoginFailure.select().where((LoginFailure.ip == ip) & (LoginFailure.created_at > since))


def check_login_allowed(ip):
    """After LOGIN_MAX_FAILURES recent failures from one address, refuse for a while."""
    failures = _recent_failures(ip)
    if failures.count() >= config.LOGIN_MAX_FAILURES:
        oldest = failures.order_by(LoginFailure.created_at.desc()).offset(
            config.LOGIN_MAX_FAILURES - 1).first()
        wait = config.LOGIN_LOCKOUT_SECONDS - (utcnow() - oldest.created_at).total_seconds()
        raise TooManyRequests(
            "Too many failed logins from your address. Try again in a few minutes.",
            retry_after=max(1, wait))


def authenticate(email, password, ip):
    """The user for these credentials, or ValidationError; slowed down per address."""
    check_login_allowed(ip)
    email = normalize_email(email)
    user = User.get_or_none(User.email == email)
    if not security.verify_password(user.password_hash if user else None, password or ""):
        LoginFailure.create(ip=ip, email=email[:254])
        raise ValidationError("Wrong email or password.", errors={"password": "Wrong email or password."})
    LoginFailure.delete().where(LoginFailure.ip == ip).execute()
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


def prune_sessions():
    """Delete expired sessions and old login failures; returns how many rows went."""
    now = utcnow()
    removed = Session.delete().where(Session.expires_at <= now).execute()
    since = now - datetime.timedelta(seconds=config.LOGIN_LOCKOUT_SECONDS)
    removed += LoginFailure.delete().where(LoginFailure.created_at <= since).execute()
    return removed
