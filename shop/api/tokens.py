"""Personal access tokens: made and revoked on the account page, shown once, kept as a digest.

A token reads "mp_" and 43 random characters; the database holds its SHA-256 and its
first characters (to tell tokens apart on the page). A token has the scopes "read" or
"read write" and always expires; a revoked or expired one is refused with its own code.
"""

import datetime

from models import API_SCOPES, PersonalAccessToken, User, db, utcnow
from shop import security
from shop.api import errors
from shop.errors import Forbidden, NotFound, ValidationError

TOKEN_PREFIX = "mp_"
EXPIRY_CHOICES = (7, 30, 90, 365)  # days, as the account page offers them
ROLES_WITH_API = ("seller", "admin")
# last_used_at is written at most this often: one write per request would be one more
# write on every API call for a figure shown to the minute.
LAST_USED_RESOLUTION = datetime.timedelta(seconds=60)


def make_token(user, name, scopes, expires_in_days):
    """A new token for `user`: returns (row, the token text), the text never to be seen again."""
    if user.role not in ROLES_WITH_API:
        raise Forbidden("Only sellers and admins have API tokens.")
    name = (name or "").strip()
    problems = {}
    if not name or len(name) > 80:
        problems["name"] = "Give the token a name of 1 to 80 characters."
    if scopes not in ("read", "read write"):
        problems["scopes"] = "Choose read, or read and write."
    try:
        days = int(expires_in_days)
    except (TypeError, ValueError):
        days = None
    if days not in EXPIRY_CHOICES:
        problems["expires_in_days"] = "Choose when the token expires."
    if problems:
        raise ValidationError("The token was not made.", problems)
    token = TOKEN_PREFIX + security.random_token(32)
    row = PersonalAccessToken.create(user=user, name=name, prefix=token[:9], scopes=scopes,
                                     token_hash=security.token_digest(token),
                                     expires_at=utcnow() + datetime.timedelta(days=days))
    return row, token


def revoke(user, token_id):
    """Revoke one of `user`'s tokens; revoking twice is no error."""
    updated = (PersonalAccessToken.update(revoked_at=utcnow())
               .where((PersonalAccessToken.id == token_id) & (PersonalAccessToken.user == user)
                      & PersonalAccessToken.revoked_at.is_null()).execute())
    if not updated and not PersonalAccessToken.select().where(
            (PersonalAccessToken.id == token_id) & (PersonalAccessToken.user == user)).exists():
        raise NotFound("No such token.")


def tokens_of(user):
    return list(PersonalAccessToken.select().where(PersonalAccessToken.user == user)
                .order_by(PersonalAccessToken.created_at.desc(), PersonalAccessToken.id.desc()))


def authenticate(authorization):
    """The token of an `Authorization: Bearer ...` header, or an ApiError (401) saying why not."""
    scheme, _, token = (authorization or "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise errors.unauthorized("Send a personal access token as `Authorization: Bearer <token>`.")
    row = (PersonalAccessToken.select(PersonalAccessToken, PersonalAccessToken.user)
           .join(User)
           .where(PersonalAccessToken.token_hash == security.token_digest(token)).first())
    if row is None:
        raise errors.unauthorized("The token is not known.", "invalid_token")
    now = utcnow()
    if row.revoked_at is not None:
        raise errors.unauthorized("The token was revoked.", "token_revoked")
    if row.expires_at <= now:
        raise errors.unauthorized("The token has expired.", "token_expired")
    if row.user.role not in ROLES_WITH_API:
        raise errors.unauthorized("This account has no API access.", "invalid_token")
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
        with db.atomic():
            PersonalAccessToken.update(last_used_at=now).where(PersonalAccessToken.id == row.id).execute()
    return row


def require_scope(token, scope):
    if scope not in API_SCOPES or scope not in token.scope_list:
        raise errors.forbidden(f"The token lacks the {scope!r} scope.", "insufficient_scope")
