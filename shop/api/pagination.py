"""Cursor pagination on (created_at, id), so a page's next cursor still points at the same
place while rows are added: new rows sort before the first page (newest first) and never
shift what comes after a cursor.

A cursor is the last row's created_at and id, base64url-encoded JSON, with an HMAC so
a client cannot hand back something the shop did not make.
"""

import base64
import binascii
import datetime
import json

from shop import security
from shop.api.errors import invalid_parameter

MAX_LIMIT = 100
DEFAULT_LIMIT = 25


def encode_cursor(row):
    payload = json.dumps([row.created_at.isoformat(timespec="microseconds"), row.id], separators=(",", ":"))
    signature = security.sign("api-cursor", payload)
    return base64.urlsafe_b64encode(f"{payload}|{signature}".encode()).decode().rstrip("=")


def decode_cursor(text):
    """(created_at, id) of a cursor this shop made, else a 400 invalid_parameter."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode("utf-8")
        payload, _, signature = raw.rpartition("|")
        if not security.verify_signature("api-cursor", payload, signature):
            raise ValueError("signature")
        created, row_id = json.loads(payload)
        return datetime.datetime.fromisoformat(created), int(row_id)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise invalid_parameter("cursor", "not a cursor this API gave out.") from None


def page(query, model, cursor=None, limit=DEFAULT_LIMIT):
    """One page of `query`, newest first: (rows, next cursor or None)."""
    if cursor is not None:
        created_at, row_id = decode_cursor(cursor)
        query = query.where((model.created_at < created_at)
                            | ((model.created_at == created_at) & (model.id < row_id)))
    rows = list(query.order_by(model.created_at.desc(), model.id.desc()).limit(limit + 1))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (encode_cursor(rows[-1]) if more and rows else None)
