"""The signature on every webhook body, in Stripe's scheme:

    Marketplace-Signature: t=1767225600,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd

v1 is the hex HMAC-SHA256 of "<t>.<body>" under the endpoint's secret. A receiver
recomputes it from the raw body, compares in constant time, and refuses a t more than
five minutes from its clock (a replayed delivery). The secret is derived from
APP_SECRET and the endpoint's nonce, so the database alone cannot sign.
"""

import hashlib
import hmac
import time

from shop import security

SIGNATURE_HEADER = "Marketplace-Signature"
TOLERANCE_SECONDS = 300


def endpoint_secret(endpoint):
    return "whsec_" + security.sign("webhook-endpoint", endpoint.nonce)[:48]


def _digest(secret, timestamp, body):
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_header(secret, body, timestamp=None):
    timestamp = int(time.time()) if timestamp is None else int(timestamp)
    return f"t={timestamp},v1={_digest(secret, timestamp, body)}"


def verify(secret, body, header, now=None, tolerance=TOLERANCE_SECONDS):
    """Whether `header` signs `body` under `secret` within `tolerance` seconds: what a receiver does."""
    fields = {}
    for part in (header or "").split(","):
        name, _, value = part.strip().partition("=")
        fields.setdefault(name, []).append(value)
    try:
        timestamp = int(fields["t"][0])
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = _digest(secret, timestamp, body)
    return any(hmac.compare_digest(expected.encode(), sent.encode("utf-8", "replace")) for sent in fields.get("v1", []))
