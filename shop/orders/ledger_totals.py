"""The ledger's sums, closed through an entry id, so that a balance costs the same at a
million orders as at ten.

Entries are only ever added (shop/orders/ledger.py), so the sums of those up to an id
never change. ledger_total keeps them per seller, currency and kind for every entry up
to ledger_close.through_id (the mark); a figure is those sums plus the entries after the
mark, read in one statement so that both are of the same moment. It is the figure that
summing every entry gives, whenever it is read: nothing is kept that a write could leave
behind.

close() moves the mark forward, in chunks, each in its own transaction. It only closes
entries every writer has committed: PostgreSQL hands out ids in one order and commits
them in another, so an entry could otherwise appear below the mark after it moved and
never be counted. Two closers never add the same entries: the second waits for the
mark's row and then reads where the first left it.
"""

from peewee import OperationalError

from models import db, is_sqlite

CHUNK = 100_000  # ids closed per transaction: a short one, even for a shop's whole history
LOCK_WAIT = "2s"  # how long a closer waits for the ledger's writers in flight before trying later

_OPEN = 'COALESCE((SELECT "through_id" FROM "ledger_close" WHERE "id" = 1), 0)'


def sums(seller_id=None):
    """[(seller id, currency, kind, entries, gross, fee, amount)] over every ledger entry,
    of one seller or all."""
    of_seller = ' AND "seller_id" = {p}'.format(p=db.param) if seller_id is not None else ""
    sql = (
        'SELECT "seller_id", "currency", "kind", SUM("entries"), SUM("gross"), SUM("fee"), SUM("amount") FROM ('
        'SELECT "seller_id", "currency", "kind", "entries", "gross", "fee", "amount" FROM "ledger_total" '
        f'WHERE 1 = 1{of_seller} '
        'UNION ALL SELECT "seller_id", "currency", "kind", 1, "gross", "fee", "amount" FROM "ledger_entry" '
        f'WHERE "id" > {_OPEN}{of_seller}) AS "t" '
        'GROUP BY "seller_id", "currency", "kind" ORDER BY "seller_id", "currency", "kind"')
    params = (seller_id, seller_id) if seller_id is not None else ()
    # PostgreSQL's SUM of a bigint is a numeric: the figures are minor units, whole numbers.
    return [(seller, currency, kind, *(int(value) for value in figures))
            for seller, currency, kind, *figures in db.execute_sql(sql, params).fetchall()]


def _settled_last_id():
    """The id up to which every ledger entry is committed; None when the writers did not let go in time."""
    if is_sqlite():
        # One writer at a time: every id below the greatest one committed is committed too.
        return db.execute_sql('SELECT MAX("id") FROM "ledger_entry"').fetchone()[0] or 0
    try:
        with db.atomic():
            # SHARE waits for every transaction that has inserted an entry and not yet ended
            # (an insert holds ROW EXCLUSIVE until then) and lets no new one start meanwhile.
            db.execute_sql(f"SET LOCAL lock_timeout = '{LOCK_WAIT}'")
            db.execute_sql('LOCK TABLE "ledger_entry" IN SHARE MODE')
            return db.execute_sql('SELECT MAX("id") FROM "ledger_entry"').fetchone()[0] or 0
    except OperationalError:
        return None


def close(chunk=CHUNK):
    """Sum the committed entries after the mark into ledger_total; returns how many it closed."""
    last = _settled_last_id()
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
            db.execute_sql(
                'INSERT INTO "ledger_total" ("seller_id", "currency", "kind", "entries", "gross", "fee", "amount") '
                'SELECT "seller_id", "currency", "kind", COUNT(*), SUM("gross"), SUM("fee"), SUM("amount") '
                f'FROM "ledger_entry" WHERE "id" > {p} AND "id" <= {p} GROUP BY "seller_id", "currency", "kind" '
                'ON CONFLICT ("seller_id", "currency", "kind") DO UPDATE SET '
                '"entries" = "ledger_total"."entries" + "excluded"."entries", '
                '"gross" = "ledger_total"."gross" + "excluded"."gross", '
                '"fee" = "ledger_total"."fee" + "excluded"."fee", '
                '"amount" = "ledger_total"."amount" + "excluded"."amount"', (mark, upto))
            closed += db.execute_sql(f'SELECT COUNT(*) FROM "ledger_entry" WHERE "id" > {p} AND "id" <= {p}',
                                     (mark, upto)).fetchone()[0]
            db.execute_sql(f'UPDATE "ledger_close" SET "through_id" = {p} WHERE "id" = 1', (upto,))
