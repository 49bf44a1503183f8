"""Passwords, random tokens, HMAC signatures and encryption, all keyed from APP_SECRET."""

import base64
import functools
import hashlib
import hmac
import secrets

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from shop import config
from shop.errors import ConfigError

@functools.cache
def _hasher_for(app_env):
    # The test suite hashes with argon2's cheapest parameters: the same code path,
    # without spending a tenth of a second of CPU on every user a test creates.
    if app_env == "testing":
        return PasswordHasher.from_parameters(profiles.CHEAPEST)
    return PasswordHasher()


def _hasher():
    """The password hasher for the current APP_ENV, chosen when first needed."""
    return _hasher_for(config.APP_ENV)


@functools.cache
def _dummy_hash(app_env):
    """A real hash of a random password, verified when the email is unknown, so
    that a login attempt takes as long whether or not the account exists."""
    return _hasher_for(app_env).hash(secrets.token_urlsafe(16))


def hash_password(password):
    return _hasher().hash(password)


def verify_password(password_hash, password):
    try:
        return _hasher().verify(password_hash or _dummy_hash(config.APP_ENV), password)
    except (VerificationError, InvalidHashError):
        return False


def random_token(nbytes=32):
    return secrets.token_urlsafe(nbytes)


def token_digest(token):
    """The form in which a bearer token is stored: a stolen database reveals none."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def derive_key(purpose, length=32):
    """A key for one purpose, so no two uses of APP_SECRET share key material."""
    secret = config.APP_SECRET
    if not secret:  # local development keeps a generated one, made when the process starts
        raise ConfigError("APP_SECRET is not set and none was generated: start the shop with `marketplace init`")
    return HKDF(
        algorithm=hashes.SHA256(), length=length, salt=None, info=purpose.encode("utf-8")
    ).derive(secret.encode("utf-8"))


def sign(purpose, message):
    """A hex HMAC-SHA256 of `message` under the key for `purpose`."""
    if isinstance(message, str):
        message = message.encode("utf-8")
    return hmac.new(derive_key(purpose), message, hashlib.sha256).hexdigest()


def verify_signature(purpose, message, signature):
    """Whether `signature` is sign(purpose, message). Compared as bytes: compare_digest
    raises on text with non-ASCII characters, and a forged token may hold any."""
    sent = signature.encode("utf-8", "surrogateescape") if isinstance(signature, str) else (signature or b"")
    return hmac.compare_digest(sign(purpose, message).encode("ascii"), sent)


def _fernet():
    return Fernet(base64.urlsafe_b64encode(derive_key("job-payload")))


def encrypt(data: bytes) -> bytes:
    return _fernet().encrypt(data)


def decrypt(token: bytes) -> bytes:
    """Raises ValueError when the token was not made with this APP_SECRET."""
    try:
        return _fernet().decrypt(token)
    except InvalidToken:
        raise ValueError("payload cannot be decrypted with this APP_SECRET") from None
