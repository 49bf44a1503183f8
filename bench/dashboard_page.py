"""Queue dashboard page times with a large job table.

    python bench/dashboard_page.py [--jobs 1000000] [--requests 20] [--database sqlite|postgres]

Fills a fresh database with N job records spread over the last seven days (the
default retention), as a busy shop would have them: mostly completed, some
failed (with their failed-job copies and tracebacks), a few cancelled, a
backlog of pending and scheduled jobs and some running ones, in chains and
batches too. The records are written with one executemany per 50,000 rows.

Then it times the first roll-up over the whole table (what the periodic job
does once on an upgraded installation), and the median and slowest of
--requests requests for each queue page, the live JSON and /metrics, through
the WSGI app in this process (no HTTP server in between).
"""

import argparse
import datetime
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

NAMES = [  # (job name, queue, typical seconds, share)
    ("process_webhook", "high", 0.08, 0.25), ("process_purchase", "high", 0.25, 0.2),
    ("generate_invoice", "default", 0.9, 0.15), ("notify_product_approved", "default", 0.12, 0.1),
    ("notify_product_rejected", "default", 0.12, 0.03), ("send_invoice_email", "default", 0.3, 0.12),
    ("process_file_upload", "low", 2.5, 0.1), ("prune_job_records", "low", 1.5, 0.05),
]
PAGES = ["/admin/queue", "/admin/queue/stats.json", "/admin/queue/jobs", "/admin/queue/jobs?state=failed",
         "/admin/queue/jobs?state=pending", "/admin/queue/failed", "/admin/queue/batches", "/admin/queue/chains",
         "/admin/queue/metrics", "/admin/queue/metrics?period=24h", "/admin/queue/metrics?period=7d",
         "/admin/queue/metrics?period=7d&job=generate_invoice", "/metrics"]


def setup_environment(database):
    data_dir = Path(tempfile.mkdtemp(prefix="dashboard-bench-"))
    os.environ.update({"APP_ENV": "testing", "APP_SECRET": "bench-secret-" + "x" * 40, "DATA_DIR": str(data_dir),
                       "QUEUE_NAME": f"bench{uuid.uuid4().hex[:8]}", "LOG_LEVEL": "warning"})
    if database == "postgres":
        import psycopg

        name = f"bench_dash_{uuid.uuid4().hex[:8]}"
        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        os.environ["DATABASE_URL"] = f"postgresql://postgres@127.0.0.1:5432/{name}"
        return data_dir, name
    return data_dir, None


def generate(count, rng):
    """Insert `count` job records (and failed-job copies); returns seconds taken."""
    from job_runtime.models import FailedJob, JobRecord
    from models import db, utcnow

    now = utcnow()
    week = 7 * 86400
    weights = [share for *_, share in NAMES]
    columns = ("uuid", "name", "queue", "payload", "encrypted", "state", "attempts", "exceptions", "lost",
               "available_at", "enqueued_at", "reserved_at", "reserved_by", "finished_at", "duration",
               "last_error", "chain_id", "chain_step", "chain_total", "batch_id", "created_at")
    job_sql = (f'INSERT INTO "job" ({", ".join(columns)}) VALUES ({", ".join(["?"] * len(columns))})')
    failed_columns = ("uuid", "name", "queue", "payload", "encrypted", "exception_class", "message", "traceback",
                      "attempts", "failed_at")
    failed_sql = (f'INSERT INTO "failed_job" ({", ".join(failed_columns)}) '
                  f'VALUES ({", ".join(["?"] * len(failed_columns))})')
    if db.obj.param != "?":
        job_sql, failed_sql = job_sql.replace("?", "%s"), failed_sql.replace("?", "%s")
    traceback = "Traceback (most recent call last):\n" + "  File \"tasks.py\", line 80, in job\n    ...\n" * 8
    started = time.perf_counter()
    rows, failed_rows = [], []
    chain_id = None

    def flush():
        with db.atomic():
            cursor = db.cursor()
            cursor.executemany(job_sql, rows)
            if failed_rows:
                cursor.executemany(failed_sql, failed_rows)
        rows.clear()
        failed_rows.clear()

    for index in range(count):
        name, queue, typical, _ = rng.choices(NAMES, weights)[0]
        # Older records first, so ids grow with time as they do in a real table.
        created = now - datetime.timedelta(seconds=week * (1 - index / count) + rng.random())
        roll = rng.random()
        duration = round(rng.lognormvariate(0, 0.6) * typical, 4)
        finished = created + datetime.timedelta(seconds=duration + rng.random())
        state, attempts, last_error, reserved = "completed", 1, None, created
        if index > count - 3000:  # the newest few thousand: a backlog
            state, finished, duration, attempts, reserved = (
                ("running", None, None, 1, created) if roll < 0.01 else ("pending", None, None, 0, None))
            if roll > 0.8:
                created_or_due = now + datetime.timedelta(minutes=rng.randint(1, 120))
            else:
                created_or_due = created
        else:
            created_or_due = created
            if roll < 0.02:
                state, attempts, last_error = "failed", 3, "RuntimeError: the gateway answered 502"
            elif roll < 0.025:
                state, attempts, duration = "cancelled", 0, None
        in_chain = name in ("process_webhook", "generate_invoice", "send_invoice_email") and rng.random() < 0.3
        if in_chain and (chain_id is None or rng.random() < 0.34):
            chain_id = str(uuid.uuid4())
        job_uuid = str(uuid.uuid4())
        rows.append((job_uuid, name, queue, json.dumps([[rng.randint(1, 99999)], {}]), False, state, attempts,
                     attempts - 1 if attempts else 0, 0, created_or_due, created, reserved,
                     "bench:1:Worker-1" if reserved else None, finished, duration, last_error,
                     chain_id if in_chain else None, rng.randint(1, 3) if in_chain else None,
                     3 if in_chain else None, None, created))
        if state == "failed":
            failed_rows.append((job_uuid, name, queue, rows[-1][3], False, "RuntimeError",
                                "the gateway answered 502", traceback, attempts, finished))
        if len(rows) >= 50000:
            flush()
    if rows:
        flush()
    return time.perf_counter() - started, JobRecord.select().count(), FailedJob.select().count()


def time_pages(requests, pages=PAGES, admin_email="bench-admin@example.com", cpu=False):
    """{page: (median ms, slowest ms)}; with cpu, the median CPU ms of this process as well."""
    from webtest import TestApp

    from shop.accounts import users
    import marketplace

    users.create_user("Bench Admin", admin_email, "correct-horse-42", "admin")
    app = TestApp(marketplace.app, extra_environ={"REMOTE_ADDR": "127.0.0.1"})
    page = app.get("/login")
    form = next(f for f in page.forms.values() if f.action == "/login")
    form["email"], form["password"] = admin_email, "correct-horse-42"
    form.submit()
    results = {}
    for page in pages:
        app.get(page)  # warm up
        times, cpu_times = [], []
        for _ in range(requests):
            started, cpu_started = time.perf_counter(), time.process_time()
            response = app.get(page)
            times.append((time.perf_counter() - started) * 1000)
            cpu_times.append((time.process_time() - cpu_started) * 1000)
            assert response.status_int == 200, (page, response.status)
        results[page] = (statistics.median(times), max(times)) + ((statistics.median(cpu_times),) if cpu else ())
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    args = parser.parse_args()
    data_dir, pg_name = setup_environment(args.database)

    from shop import cli
    import models
    from job_runtime.monitoring import metrics

    cli.cmd_init(None)
    models.db.connect(reuse_if_open=True)
    seconds, records, failed = generate(args.jobs, random.Random(5))
    print(f"inserted {records:,} job records ({failed:,} failed-job copies) in {seconds:.1f} s")
    if args.database == "sqlite":
        size = sum(p.stat().st_size for p in Path(data_dir).glob("marketplace.db*"))
        print(f"database file: {size / 1048576:.0f} MB")
    started = time.perf_counter()
    minutes = metrics.roll_up()
    print(f"first roll-up over the whole table: {minutes:,} minutes in {time.perf_counter() - started:.1f} s "
          f"({metrics.JobMinute.select().count():,} minute rows)")
    started = time.perf_counter()
    metrics.roll_up()
    print(f"a roll-up with nothing new: {(time.perf_counter() - started) * 1000:.1f} ms")
    print(f"\n{'page':<58} {'median ms':>10} {'slowest ms':>11}")
    for page, (median, slowest) in time_pages(args.requests).items():
        print(f"{page:<58} {median:>10.1f} {slowest:>11.1f}")
    models.db.close()
    if pg_name:
        import psycopg

        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
    import shutil

    shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
