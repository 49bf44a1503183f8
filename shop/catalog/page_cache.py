"""Catalog pages kept as rendered, keyed by the catalog's version.

The version is the number in catalog_state, which the database's own triggers change in
the same transaction as anything a catalog page shows (migration 0022 lists what): a page
kept under one version is the page of exactly that catalog, and the first request after
a product is approved, edited or removed reads a new number and renders afresh. Only
pages that are the same for every visitor are kept (the web layer decides which: a guest
without a session or a message to show); each web process keeps its own, the least
recently used going first.
"""

import collections
import hashlib
import threading

from models import db

MAX_PAGES = 500


class Kept(collections.namedtuple("Kept", "body etag")):
    """A rendered page and its ETag (a digest of the body: equal tags, equal pages)."""


_pages = collections.OrderedDict()
_lock = threading.Lock()


def version():
    """The catalog's version now, or None when the database has none (nothing is kept then)."""
    row = db.execute_sql('SELECT "version" FROM "catalog_state" WHERE "id" = 1').fetchone()
    return None if row is None else row[0]


def get(version_, key):
    if version_ is None:
        return None
    with _lock:
        kept = _pages.get((version_, key))
        if kept is not None:
            _pages.move_to_end((version_, key))
        return kept


def put(version_, key, body):
    """Keep `body` as the page `key` of catalog `version_`, if the catalog is still at that
    version (a change committed while the page was read might be half in it); returns
    the Kept page, or None when it was not kept."""
    kept = Kept(body, '"%s"' % hashlib.blake2b(body.encode(), digest_size=12).hexdigest())
    if version_ is None or version() != version_:
        return None
    with _lock:
        _pages[(version_, key)] = kept
        _pages.move_to_end((version_, key))
        while len(_pages) > MAX_PAGES:
            _pages.popitem(last=False)
    return kept


MAX_COUNTS = 2000
_counts = collections.OrderedDict()


def count(query, cap=None):
    """How many rows `query` matches (up to cap + 1 with a cap), shared by every visitor
    while the catalog stays at one version: the count is what a catalog page not kept
    (a customer's, a guest's with a cart) spends most on in a big catalog, and it is the
    same for everyone who asks for the same filters."""
    counted = query if cap is None else query.limit(cap + 1)
    sql, params = counted.sql()
    key = (sql, tuple(params))
    version_ = version()
    if version_ is not None:
        with _lock:
            found = _counts.get((version_, key))
            if found is not None:
                _counts.move_to_end((version_, key))
                return found
    found = counted.count()
    if version_ is not None and version() == version_:
        with _lock:
            _counts[(version_, key)] = found
            while len(_counts) > MAX_COUNTS:
                _counts.popitem(last=False)
    return found


def clear():
    with _lock:
        _pages.clear()
        _counts.clear()
