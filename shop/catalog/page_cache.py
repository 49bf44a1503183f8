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
MAX_COUNTS = 2000


class Kept(collections.namedtuple("Kept", "body etag")):
    """A rendered page and its ETag (a digest of the body: equal tags, equal pages)."""


class _Recent:
    """At most `size` values by (catalog version, key), the least recently used going first."""

    def __init__(self, size):
        self.size, self.values, self.lock = size, collections.OrderedDict(), threading.Lock()

    def get(self, version_, key):
        if version_ is None:
            return None
        with self.lock:
            value = self.values.get((version_, key))
            if value is not None:
                self.values.move_to_end((version_, key))
            return value

    def put(self, version_, key, value):
        """Keep `value` if the catalog is still at `version_` (a change committed while it
        was read might be half in it); returns whether it was kept."""
        if version_ is None or version() != version_:
            return False
        with self.lock:
            self.values[(version_, key)] = value
            self.values.move_to_end((version_, key))
            while len(self.values) > self.size:
                self.values.popitem(last=False)
        return True


_pages = _Recent(MAX_PAGES)
_counts = _Recent(MAX_COUNTS)


def version():
    """The catalog's version now, or None when the database has none (nothing is kept then)."""
    row = db.execute_sql('SELECT "version" FROM "catalog_state" WHERE "id" = 1').fetchone()
    return None if row is None else row[0]


def get(version_, key):
    return _pages.get(version_, key)


def put(version_, key, body):
    """Keep `body` as the page `key` of catalog `version_`, if the catalog is still at that
    version; returns the Kept page, or None when it was not kept."""
    kept = Kept(body, '"%s"' % hashlib.blake2b(body.encode(), digest_size=12).hexdigest())
    return kept if _pages.put(version_, key, kept) else None


def count(query, cap=None):
    """How many rows `query` matches (up to cap + 1 with a cap), shared by every visitor
    while the catalog stays at one version: the count is what a catalog page not kept
    (a customer's, a guest's with a cart) spends most on in a big catalog, and it is the
    same for everyone who asks for the same filters."""
    counted = query if cap is None else query.limit(cap + 1)
    sql, params = counted.sql()
    version_ = version()
    found = _counts.get(version_, (sql, tuple(params)))
    if found is None:
        found = counted.count()
        _counts.put(version_, (sql, tuple(params)), found)
    return found


def clear():
    for recent in (_pages, _counts):
        with recent.lock:
            recent.values.clear()
