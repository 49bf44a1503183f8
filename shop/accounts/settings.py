"""Account settings: the name, the password (with the current one), the address (changed only
once the new one is verified, with a notice to the old one) and the account's sessions.

A change of address is a signed link mailed to the new address, naming the account,
the new address, the current one and when it expires: nothing is stored until it is
opened, a link stops working once the address has changed (by it or another), and the
old address hears of the change when it happens.
"""

import base64
import binascii
import datetime
import re

from peewee import IntegrityError

from shop import config
from shop import mail
from shop import security
from shop.accounts import guests
from shop.accounts import users
from shop.accounts import verification
from shop.catalog import search
from shop.errors import ValidationError
from models import Session, User, db, utcnow

PURPOSE = "email-change"
LINK_UNUSABLE = "This link to change your email address is not valid any more. Ask for a new one in your settings."
WRONG_PASSWORD = {"current_password": "That is not your current password."}


def check_current_password(user, password):
    if not security.verify_password(user.password_hash, password or ""):
        raise ValidationError(WRONG_PASSWORD["current_password"], errors=dict(WRONG_PASSWORD))


def change_name(user, name):
    name = (name or "").strip()
    if not name:
        raise ValidationError("Enter your name.", errors={"name": "Enter your name."})
    if len(name) > 100:
        raise ValidationError("Use at most 100 characters.", errors={"name": "Use at most 100 characters."})
    with db.atomic():
        User.update(name=name).where(User.id == user.id).execute()
        # Buyers search for a seller by name: their products are found by the new one.
        search.refresh_seller(user.id)
    return name


def change_legal_details(user, legal_name, address, tax_number):
    """A seller's legal details, printed on the invoices the shop issues on their behalf
    (INVOICE_ISSUER=seller). Empty fields are cleared; an invoice keeps the details it was issued with."""
    if not user.is_seller:
        raise ValidationError("Only sellers have legal details on invoices.")
    fields = {"legal_name": (legal_name or "").strip(), "legal_address": (address or "").strip(),
              "tax_number": re.sub(r"\s", "", tax_number or "").upper()}
    errors = {name: "Use at most 200 characters." for name in ("legal_name", "tax_number")
              if len(fields[name]) > 200}
    if len(fields["legal_address"]) > 500:
        errors["legal_address"] = "Use at most 500 characters."
    if errors:
        raise ValidationError("Please check your legal details.", errors=errors)
    User.update(**{name: value or None for name, value in fields.items()}).where(User.id == user.id).execute()
    return fields


def change_password(user, current, new, keep_token):
    """Set a new password, given the current one; every other session of the account ends."""
    check_current_password(user, current)
    errors = users.password_errors(new)
    if errors:
        raise ValidationError(errors["password"], errors=errors)
    with db.atomic():
        User.update(password_hash=security.hash_password(new)).where(User.id == user.id).execute()
        users.end_other_sessions(user, keep_token)


# ---------------------------------------------------------------------------
# Changing the address
# ---------------------------------------------------------------------------


def _encoded(email):
    return base64.urlsafe_b64encode(email.encode("utf-8")).decode("ascii").rstrip("=")


def _decoded(text):
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


def change_token(user, new_email, expires):
    """<user id>.<expiry>.<new address, base64>.<signature over those and the current address>."""
    signed = f"{user.id}:{expires}:{new_email}:{user.email}"
    return f"{user.id}.{expires}.{_encoded(new_email)}.{security.sign(PURPOSE, signed)}"


def request_email_change(user, new_email, password):
    """Check the request; returns (new address, expiry) for the link's email job."""
    check_current_password(user, password)
    new_email = users.normalize_email(new_email)
    if not users.EMAIL_RE.match(new_email) or len(new_email) > 254:
        raise ValidationError("Enter a valid email address.", errors={"email": "Enter a valid email address."})
    if new_email == user.email:
        raise ValidationError("That is already your address.", errors={"email": "That is already your address."})
    if User.select().where(User.email == new_email).exists():
        raise ValidationError("Another account uses that address.",
                              errors={"email": "Another account uses that address."})
    verification.check_resend_allowed(user)
    return new_email, verification.new_expiry()


def send_change_link(user_id, new_email, expires, request_id):
    """The email to the new address with the link that makes the change (once per request)."""
    user = User.get_or_none(User.id == user_id)
    if user is None:
        return False
    text = (
        f"Hello {user.name},\n\n"
        f"To make {new_email} the address of your account at {config.APP_URL}, open this link within "
        f"{verification.LINK_HOURS} hours:\n\n"
        f"{config.APP_URL}/account/email/confirm/{change_token(user, new_email, expires)}\n\n"
        f"Until then the account keeps {user.email}. If you did not ask for this, ignore this email.\n"
    )
    return mail.send(f"email-change:{user.id}:{request_id}", new_email, "Confirm your new email address", text)


def confirm_email_change(token):
    """Make the change of `token`; returns (user, old address). Raises ValidationError."""
    parts = (token or "").split(".")
    if len(token or "") > 600 or len(parts) != 4 or not all(p.isascii() and p.isdigit() for p in parts[:2]):
        raise ValidationError(LINK_UNUSABLE)
    user_id, expires, new_email, signature = int(parts[0]), int(parts[1]), _decoded(parts[2]), parts[3]
    user = User.get_or_none(User.id == user_id) if user_id < 2**63 else None
    if user is None or new_email is None or not security.verify_signature(
            PURPOSE, f"{user.id}:{expires}:{new_email}:{user.email}", signature):
        raise ValidationError(LINK_UNUSABLE)
    if expires < utcnow().replace(tzinfo=datetime.timezone.utc).timestamp():
        raise ValidationError(LINK_UNUSABLE)
    old_email = user.email
    try:
        with db.atomic():
            changed = User.update(email=new_email, email_verified_at=utcnow()).where(
                (User.id == user.id) & (User.email == old_email)).execute()
    except IntegrityError:
        raise ValidationError("Another account has taken that address meanwhile.") from None
    if changed != 1:
        raise ValidationError(LINK_UNUSABLE)
    user = User.get_by_id(user.id)
    # The new address is proven: what a guest bought with it is the account's now.
    guests.claim_orders(user)
    return user, old_email


def notice_key(token):
    """The old address's notice is keyed by the link that made the change: one notice each."""
    return f"email-changed:{security.token_digest(token)[:40]}"


def send_change_notice(user_id, old_email, new_email, key):
    """Tell the old address that the account's address changed (once per change)."""
    user = User.get_or_none(User.id == user_id)
    name = user.name if user else "there"
    text = (
        f"Hello {name},\n\n"
        f"The email address of your account at {config.APP_URL} was changed from {old_email} to {new_email}.\n"
        "If you did not do this, reply to this email at once: someone else may be using your account.\n"
    )
    return mail.send(key, old_email, "Your email address was changed", text)


# ---------------------------------------------------------------------------
# Sessions
# ---------------------------------------------------------------------------


def sessions_of(user):
    """The account's live sessions, newest first."""
    return list(Session.select().where((Session.user == user) & (Session.expires_at > utcnow()))
                .order_by(Session.created_at.desc(), Session.id.desc()))


def is_this_session(session, token):
    return bool(token) and session.token_hash == security.token_digest(token)
