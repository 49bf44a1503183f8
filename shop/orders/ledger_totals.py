"""The ledger's sums, closed through an entry id, so that a balance costs the same at a
million orders as at ten.

Entries are only ever added (shop/orders/ledger.py; the database refuses to change or
delete one, migration 0023), so the sums of those up to an id never change. ledger_total
keeps them per seller, currency and kind for every entry up to ledger_close.through_id
(the mark); a figure is those sums plus the entries after the mark, read in one statement
so that both are of the same moment. It is the figure that summing every entry gives,
whenever it is read: nothing is kept that a write could leave behind.

close() moves the mark forward, in chunks, each in its own transaction. It only closes
entries every writer has committed: PostgreSQL hands out ids in one order and commits
them in another, so an entry could otherwise appear below the mark after it moved and
never be counted. Two closers never add the same entries: the second waits for the
mark's row and then reads where the first left it.
"""

import time

from models import db, is_sqlite

CHUNK = 100_000  # ids closed per transaction: a short one, even for a shop's whole history
SETTLE_SECONDS = 2.0  # how long a closer waits for the ledger's writers in flight before trying later
SQLITE_PAUSE = 0.1  # between full chunks on SQLite, so the shop's writers get the lock in turn

_MARK = 'COALESCE((SELECT "through_id" FROM "ledger_close" WHERE "id" = 1), 0)'


def statement(seller_id=None):
    """The SQL and parameters of sums()."""
    p = db.param
    # "+seller_id" keeps the entries after the mark on the primary key's range: the
    # seller's own index would read all their entries.
    of_seller = (f' AND "seller_id" = {p}', f' AND +"seller_id" = {p}') if seller_id is not None else ("", "")
    sql = (
        'SELECT "seller_id", "currency", "kind", SUM("entries"), SUM("gross"), SUM("fee"), SUM("amount") FROM ('
        'SELECT "seller_id", "currency", "kind", "entries", "gross", "fee", "amount" FROM "ledger_total" '
        f'WHERE 1 = 1{of_seller[0]} '
        'UNION ALL SELECT "seller_id", "currency", "kind", 1, "gross", "fee", "amount" FROM "ledger_entry" '
        f'WHERE "id" > {_MARK}{of_seller[1]}) AS "t" '
        'GROUP BY "seller_id", "currency", "kind" ORDER BY "seller_id", "currency", "kind"')
    return sql, ((seller_id, seller_id) if seller_id is not None else ())


def sums(seller_id=None):
    """[(seller id, currency, kind, entries, gross, fee, amount)] over every ledger entry,
    of one seller or all."""
    # PostgreSQL's SUM of a bigint is a numeric: the figures are minor units, whole numbers.
    return [(seller, currency, kind, *(int(value) for value in figures))
            for seller, currency, kind, *figures in db.execute_sql(*statement(seller_id)).fetchall()]


def _writers_in_flight():
    """The other transactions that hold ledger_entry open for writing (PostgreSQL).

    An insert takes this lock before its id and keeps it until it commits or rolls back."""
    rows = db.execute_sql(
        "SELECT virtualtransaction FROM pg_locks WHERE locktype = 'relation' AND mode = 'RowExclusiveLock' "
        "AND relation = 'ledger_entry'::regclass AND pid <> pg_backend_pid() "
        "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())").fetchall()
    return {vxid for (vxid,) in rows}


def settled_last_id(wait=None):
    """The greatest id below which every ledger entry is committed (or rolled back for good);
    None when writers that could hold a lower id were still open after `wait` seconds."""
    last = db.execute_sql('SELECT MAX("id") FROM "ledger_entry"').fetchone()[0] or 0
    if is_sqlite():
        return last  # one writer at a time: every id below one committed is committed too
    # A transaction that took a lower id than `last` and has not ended still holds its
    # lock now; one that takes the lock from here on gets an id above `last`.
    waiting = _writers_in_flight()
    deadline = time.monotonic() + (SETTLE_SECONDS if wait is None else wait)
    while waiting:
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.02)
        waiting &= _writers_in_flight()
    return last


def close(chunk=CHUNK, wait=None):
    """Sum the committed entries after the mark into ledger_total; returns how many it closed."""
    last = settled_last_id(wait)
    if last is None:
        return 0
    p = db.param
    closed = 0
    db.execute_sql('INSERT INTO "ledger_close" ("id", "through_id") VALUES (1, 0) ON CONFLICT DO NOTHING')
    while True:
        with db.atomic():
            # The mark's row first: a second closer waits here, then reads the mark this one left.
            db.execute_sql('UPDATE "ledger_close" SET "through_id" = "through_id" WHERE "id" = 1')
            mark = db.execute_sql('SELECT "through_id" FROM "ledger_close" WHERE "id" = 1').fetchone()[0]
            if mark >= last:
                return closed
            upto = min(last, mark + chunk)
            rows = db.execute_sql(
                'SELECT "seller_id", "currency", "kind", COUNT(*), SUM("gross"), SUM("fee"), SUM("amount") '
                f'FROM "ledger_entry" WHERE "id" > {p} AND "id" <= {p} GROUP BY "seller_id", "currency", "kind"',
                (mark, upto)).fetchall()
            for row in rows:
                db.execute_sql(
                    'INSERT INTO "ledger_total" ("seller_id", "currency", "kind", "entries", "gross", "fee", "amount") '
                    f'VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p}) '
                    'ON CONFLICT ("seller_id", "currency", "kind") DO UPDATE SET '
                    '"entries" = "ledger_total"."entries" + "excluded"."entries", '
                    '"gross" = "ledger_total"."gross" + "excluded"."gross", '
                    '"fee" = "ledger_total"."fee" + "excluded"."fee", '
                    '"amount" = "ledger_total"."amount" + "excluded"."amount"', row)
                closed += row[3]
            db.execute_sql(f'UPDATE "ledger_close" SET "through_id" = {p} WHERE "id" = 1', (upto,))
        if upto < last and is_sqlite():
            time.sleep(SQLITE_PAUSE)
