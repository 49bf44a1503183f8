"""A big shop: a million orders and ten million job records, beside an empty one.

    python bench/big_shop.py [--orders 1000000] [--jobs 10000000] [--database sqlite|postgres]
                             [--purchases 300] [--requests 5] [--json out.json]

Two shops of their own, run one after the other by bench/pipeline.py's
machinery (gunicorn, one consumer `-w 4`, the Stripe stand-in): an empty one,
and one filled first with --orders paid orders (one item each, with their sales
and ledger credits, over two years) and --jobs finished job records (spread over
the last seven days, the default retention: completed, one in fifty failed with
its failed-job copy, some cancelled, some in chains). The rows are written by
the databases themselves (a recursive CTE on SQLite, generate_series on
PostgreSQL), not row by row from Python.

In the big shop, after the fill:
- every queue dashboard page and the admin's order and payout pages, timed in
  this process through the WSGI app (median and slowest of --requests, and the
  median CPU time of this process, in which SQLite runs too);
- the purchase rate, as pipeline.py measures it, beside the empty shop's;
- a prune pass (job_runtime.retention.prune, what prune_job_records runs) as
  if three and a half days had passed: the job table's rows before and after,
  how long the pass took, and the slowest of the updates a second connection
  makes to job rows every 10 ms meanwhile: how long the pass held the shop's
  writes up.
"""

import argparse
import datetime
import json
import time

from common import POSTGRES_ADMIN  # noqa: F401  (the shop's setup, sys.path)
from dashboard_page import PAGES as QUEUE_PAGES, time_pages
from migration_big_table import timed
import pipeline

WEEK = 7 * 86400
TWO_YEARS = 730 * 86400
# (job name, queue) by i % 20: about the shares of a shop's jobs.
JOB_MIX = ([("process_webhook", "high")] * 5 + [("process_purchase", "high")] * 4
           + [("generate_invoice", "default")] * 3 + [("send_invoice_email", "default")] * 3
           + [("notify_product_approved", "default")] * 2 + [("process_file_upload", "low")] * 2
           + [("prune_job_records", "low")])
TRACEBACK = "Traceback (most recent call last):\n" + "  File \"tasks.py\", line 80, in job\n    ...\n" * 8


def _sql(postgres):
    """The dialect's pieces: a series of i, a timestamp some seconds before a parameter, hex."""
    if postgres:
        return {"series": "generate_series(1, {n}) AS s(i)", "p": "%s",
                "before": "(%s::timestamp - ({seconds}) * interval '1 second')",
                "uuid": "'00000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0')",
                "text": "i::text", "false": "false"}
    return {"series": "(WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n}) SELECT i FROM n)",
            "p": "?", "before": "strftime('%Y-%m-%d %H:%M:%f', julianday(?) - ({seconds}) / 86400.0)",
            "uuid": "printf('00000000-0000-4000-8000-%012x', i)", "text": "CAST(i AS TEXT)", "false": "0"}


def _case(expression, values):
    whens = " ".join(f"WHEN {k} THEN '{v}'" for k, v in enumerate(values))
    return f"CASE {expression} {whens} END"


def fill(orders, jobs):
    """Write the orders and the job records; returns {what: seconds}."""
    from models import Order, Product, db, utcnow
    from shop_data import products, users

    postgres = db.obj.param != "?"
    d = _sql(postgres)
    now = utcnow() if postgres else utcnow().isoformat(sep=" ")

    def execute(sql, params=()):
        if postgres:  # psycopg reads % as a placeholder's start: the modulo and LIKE's wildcard are doubled
            sql = sql.replace("%", "%%").replace("%%s", "%s")
        return db.execute_sql(sql, params)
    took = {}
    sellers = users("seller", 20, "bigseller")
    buyers = users("customer", 1000, "bigbuyer")
    catalogue = [p for p in products(sellers, 200) if p.seller_id in {s.id for s in sellers}]
    # The slugs of products() are numbered from 0 each time: the purchases' products come later.
    Product.update(slug=Product.slug.concat("-earlier")).execute()
    first_buyer, first_product = buyers[0].id, catalogue[0].id
    series = d["series"].format(n=orders)
    started = time.perf_counter()
    created = d["before"].format(seconds=f"({orders} - i) * {TWO_YEARS / orders}")
    status = "CASE WHEN i % 50 = 0 THEN 'refunded' WHEN i % 25 = 0 THEN 'failed' ELSE 'paid' END"
    with db.atomic():
        execute(
            f'INSERT INTO "order" (reference, buyer_id, status, gateway, gateway_ref, payment_ref, total, '
            f'currency, created_at, updated_at, paid_at) '
            f"SELECT 'MP-B' || {d['text']}, {first_buyer} + i % {len(buyers)}, {status}, 'stripe', "
            f"'cs_big_' || {d['text']}, 'pi_big_' || {d['text']}, 500 + i % 4500, 'USD', {created}, {created}, "
            f"CASE WHEN i % 25 = 0 AND i % 50 <> 0 THEN NULL ELSE {created} END FROM {series}",
            (now, now, now))
        mine = "o.reference LIKE 'MP-B%'"
        execute(
            'INSERT INTO order_item (order_id, product_id, seller_id, title, price, currency) '
            f'SELECT o.id, p.id, p.seller_id, p.title, o.total, o.currency FROM "order" o '
            f'JOIN product p ON p.id = {first_product} + o.id % {len(catalogue)} WHERE {mine}')
        execute(
            'INSERT INTO transaction_item (order_id, order_item_id, product_id, seller_id, buyer_id, amount, '
            'platform_fee, seller_amount, currency, created_at) '
            'SELECT o.id, oi.id, oi.product_id, oi.seller_id, o.buyer_id, oi.price, oi.price / 10, '
            'oi.price - oi.price / 10, oi.currency, o.paid_at FROM order_item oi JOIN "order" o ON o.id = oi.order_id '
            f"WHERE {mine} AND o.paid_at IS NOT NULL")
        execute(
            'INSERT INTO ledger_entry (seller_id, order_id, order_item_id, kind, gross, fee, amount, currency, '
            'created_at) SELECT oi.seller_id, o.id, oi.id, \'sale\', oi.price, oi.price / 10, '
            'oi.price - oi.price / 10, oi.currency, o.paid_at FROM order_item oi JOIN "order" o ON o.id = oi.order_id '
            f"WHERE {mine} AND o.paid_at IS NOT NULL")
        # A refunded order's reversing entry, as a refund books it.
        execute(
            'INSERT INTO ledger_entry (seller_id, order_id, order_item_id, kind, gross, fee, amount, currency, '
            'created_at) SELECT oi.seller_id, o.id, oi.id, \'refund\', -oi.price, -(oi.price / 10), '
            '-(oi.price - oi.price / 10), oi.currency, o.paid_at FROM order_item oi JOIN "order" o '
            f"ON o.id = oi.order_id WHERE {mine} AND o.status = 'refunded'")
    took["orders"] = time.perf_counter() - started

    started = time.perf_counter()
    series = d["series"].format(n=jobs)
    created = d["before"].format(seconds=f"({jobs} - i) * {WEEK / jobs} + 2")
    finished = d["before"].format(seconds=f"({jobs} - i) * {WEEK / jobs} + 1")
    state = "CASE WHEN i % 50 = 0 THEN 'failed' WHEN i % 200 = 1 THEN 'cancelled' ELSE 'completed' END"
    chain = "i % 7 = 0 AND i % 20 IN (0, 10, 11, 12)"
    with db.atomic():
        execute(
            'INSERT INTO job (uuid, name, queue, payload, encrypted, state, attempts, exceptions, lost, '
            'available_at, enqueued_at, reserved_at, reserved_by, finished_at, duration, last_error, '
            'chain_id, chain_step, chain_total, created_at) '
            f"SELECT {d['uuid']}, {_case('i % 20', [n for n, _ in JOB_MIX])}, "
            f"{_case('i % 20', [q for _, q in JOB_MIX])}, '[[' || {d['text']} || '],{{}}]', {d['false']}, "
            f"{state}, CASE WHEN i % 50 = 0 THEN 3 WHEN i % 200 = 1 THEN 0 ELSE 1 END, "
            f"CASE WHEN i % 50 = 0 THEN 2 ELSE 0 END, 0, {created}, {created}, {created}, 'big:1:Worker-1', "
            f"{finished}, 0.05 + (i % 97) / 100.0, "
            f"CASE WHEN i % 50 = 0 THEN 'RuntimeError: the gateway answered 502' END, "
            f"CASE WHEN {chain} THEN 'chain-' || (i / 21) END, "
            f"CASE WHEN {chain} THEN (i / 7) % 3 + 1 END, CASE WHEN {chain} THEN 3 END, "
            f"{created} FROM {series}", (now,) * 5)
        execute(
            'INSERT INTO failed_job (uuid, name, queue, payload, encrypted, exception_class, message, traceback, '
            f"attempts, failed_at) SELECT uuid, name, queue, payload, encrypted, 'RuntimeError', "
            f"'the gateway answered 502', {d['p']}, attempts, finished_at FROM job WHERE state = 'failed'",
            (TRACEBACK,))
    took["jobs"] = time.perf_counter() - started
    started = time.perf_counter()
    execute("ANALYZE")
    took["analyze"] = time.perf_counter() - started
    from job_runtime.monitoring import metrics

    started = time.perf_counter()
    metrics.roll_up()  # what an upgraded shop's first roll-up does once, before the consumer starts
    took["first_roll_up"] = time.perf_counter() - started
    from shop.orders import ledger_totals

    started = time.perf_counter()
    ledger_totals.close()  # what close_ledger_totals does within ten minutes of an upgrade
    took["first_ledger_close"] = time.perf_counter() - started
    took["orders_written"] = Order.select().count()
    took["product_count"] = Product.select().count()
    return took


def table_rows(name):
    from models import db

    return db.execute_sql(f'SELECT count(*) FROM "{name}"').fetchone()[0]


def big_pages():
    from models import Order

    order = Order.select(Order.id).order_by(Order.id.desc()).get().id
    return QUEUE_PAGES + [
        "/admin/queue/jobs?state=completed", "/admin/queue/jobs?name=generate_invoice",
        "/admin/queue/jobs?q=order:1", f"/admin/queue/jobs/00000000-0000-4000-8000-{1:012x}",
        "/admin/orders", "/admin/orders?status=paid", "/admin/orders?status=refunded", "/admin/orders?page=400",
        f"/admin/orders/{order}", "/admin/payouts", "/admin/products"]


def prune_pass(shop, hours=84):
    """Stop the consumers, then one prune pass as if `hours` had gone by, beside a writer."""
    import sqlite3

    from job_runtime import retention
    from models import db, utcnow

    shop.stop()
    postgres = db.obj.param != "?"
    before = table_rows("job")
    if postgres:
        import psycopg

        def connect():
            return psycopg.connect(shop.env["DATABASE_URL"])
    else:
        path = next((shop.dir / "data").glob("**/marketplace.db"))

        def connect():
            connection = sqlite3.connect(path, timeout=120)
            connection.execute("PRAGMA busy_timeout = 120000")
            return connection
    removed = {}

    def run():
        removed.update(retention.prune(now=utcnow() + datetime.timedelta(hours=hours)))

    took, slowest, updates = timed(run, connect, "%s" if postgres else "?", before)
    after = table_rows("job")
    chunks = -(-removed["jobs"] // retention.CHUNK)
    return {"prune_rows_before": before, "prune_rows_after": after, "prune_removed": removed, "prune_s": took,
            "prune_chunks": chunks, "prune_writes_held_s": slowest, "prune_writer_updates": updates}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--jobs", type=int, default=10_000_000)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--purchases", type=int, default=300)
    parser.add_argument("--requests", type=int, default=5)
    parser.add_argument("--json", help="write the results to this file")
    args = parser.parse_args()
    backends = "sqlite" if args.database == "sqlite" else "postgres-redis"
    out = {"benchmark": "big_shop", "database": args.database, "orders": args.orders, "jobs": args.jobs}

    empty = pipeline.run(backends, args.purchases, 0)
    print(f"empty shop: {pipeline.report(empty)}", flush=True)
    out["empty"] = empty

    folders = []

    def prepare(shop):
        folders.append(shop.dir)
        took = fill(args.orders, args.jobs)
        print(f"filled: {took['orders_written']:,} orders (with items, sales, ledger) in {took['orders']:.1f} s, "
              f"{table_rows('job'):,} job records ({table_rows('failed_job'):,} failed-job copies) in "
              f"{took['jobs']:.1f} s; ANALYZE {took['analyze']:.1f} s; first roll-up {took['first_roll_up']:.1f} s; "
              f"first close of the ledger's totals {took['first_ledger_close']:.1f} s",
              flush=True)
        if args.database == "sqlite":
            size = sum(p.stat().st_size for p in (shop.dir / "data").glob("**/marketplace.db*"))
            print(f"database file: {size / 1048576:.0f} MB", flush=True)
        out["fill"] = took
        # CPU time too: the database runs in this process (SQLite) and the clock also counts
        # what other work on the machine takes from it.
        pages = time_pages(args.requests, big_pages(), admin_email="big-admin@bench.example", cpu=True)
        out["pages"] = {page: {"median_ms": m, "slowest_ms": s, "median_cpu_ms": c} for page, (m, s, c) in pages.items()}
        print(f"\n{'page':<58} {'median ms':>10} {'slowest ms':>11} {'CPU ms':>7}")
        for page, (median, slowest, cpu) in pages.items():
            print(f"{page:<58} {median:>10.1f} {slowest:>11.1f} {cpu:>7.1f}{'  over 100 ms' if median > 100 else ''}")
        print(flush=True)

    def finish(shop):
        return prune_pass(shop)

    big = pipeline.run(backends, args.purchases, 0, prepare=prepare, finish=finish)
    out["big"] = big
    print(f"big shop:   {pipeline.report(big)}")
    print(f"purchase rate, big shop / empty shop: {big['purchases_per_s'] / empty['purchases_per_s']:.2f}")
    print(f"prune pass as if 3.5 days had passed: job table {big['prune_rows_before']:,} -> "
          f"{big['prune_rows_after']:,} rows ({big['prune_removed']}) in {big['prune_s']:.1f} s, "
          f"{big['prune_chunks']:,} chunks of {2000}; a concurrent writer's slowest update "
          f"{big['prune_writes_held_s'] * 1000:.0f} ms ({big['prune_writer_updates']} updates)")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(out, handle, indent=1, default=str)
    import shutil

    for folder in folders:  # a big shop's database takes gigabytes
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
