"""Schema changes on a job table of a million rows: how long each holds up the shop's writes.

    python bench/migration_big_table.py [--jobs 1000000] [--database sqlite|postgres]

Makes the baseline's tables in a fresh database (shop/migrations/0001), fills the
job table with N records (one in a hundred pending, the rest completed), then
times the changes a migration makes most often, while a second connection keeps
updating single job rows, as the consumers' workers do, and records the slowest
of those updates: that is how long the change held the shop's writes up.

- SQLite only: the copy of the file that `marketplace migrate` takes first;
- ADD COLUMN, nullable; ADD COLUMN with a constant default;
- CREATE INDEX on (name, created_at), as a migration in a transaction runs it;
- PostgreSQL only: CREATE INDEX CONCURRENTLY on the same columns, outside a
  transaction (a migration module with `atomic = False`).
"""

import argparse
import importlib
import os
import shutil
import sqlite3
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
POSTGRES_ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


class Writer(threading.Thread):
    """Updates one job row after another on its own connection; keeps the slowest update."""

    def __init__(self, connect, placeholder, rows):
        super().__init__(daemon=True)
        self.connect, self.placeholder, self.rows = connect, placeholder, rows
        self.stop = threading.Event()
        self.slowest = 0.0
        self.updates = 0

    def run(self):
        connection = self.connect()
        sql = f"UPDATE job SET attempts = attempts + 1 WHERE id = {self.placeholder}"
        while not self.stop.is_set():
            start = time.perf_counter()
            connection.execute(sql, ((self.updates * 7919) % self.rows + 1,))
            connection.commit()
            self.slowest = max(self.slowest, time.perf_counter() - start)
            self.updates += 1
            time.sleep(0.01)
        connection.close()


def timed(run, connect, placeholder, rows):
    """(seconds the change took, slowest concurrent update in seconds, updates made)."""
    writer = Writer(connect, placeholder, rows)
    writer.start()
    time.sleep(0.3)  # the writer is busy before the change starts
    start = time.perf_counter()
    run()
    took = time.perf_counter() - start
    time.sleep(0.3)
    writer.stop.set()
    writer.join()
    return took, writer.slowest, writer.updates


FILL = """INSERT INTO job (uuid, name, queue, payload, encrypted, state, attempts, exceptions, lost,
                           available_at, finished_at, created_at)
          SELECT {uuid}, 'process_purchase', 'default', '[[1],{{}}]', {false},
                 CASE WHEN i % 100 = 0 THEN 'pending' ELSE 'completed' END, 1, 0, 0,
                 {now}, CASE WHEN i % 100 = 0 THEN NULL ELSE {now} END, {now}
          FROM {series}"""


def baseline(database):
    importlib.import_module("shop.migrations.0001_baseline").upgrade(None, database)


def run_sqlite(jobs):
    from peewee import SqliteDatabase

    folder = Path(tempfile.mkdtemp(prefix="bench-migration-"))
    path = folder / "marketplace.db"
    database = SqliteDatabase(str(path), pragmas={"journal_mode": "wal", "synchronous": "normal"})
    baseline(database)
    database.close()
    connection = sqlite3.connect(path, timeout=120, isolation_level=None)
    start = time.perf_counter()
    connection.execute("BEGIN")
    connection.execute(FILL.format(
        uuid="printf('job-%d', i)", false=0, now="datetime('now')",
        series=f"(WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {jobs}) SELECT i FROM n)"))
    connection.execute("COMMIT")
    print(f"SQLite {sqlite3.sqlite_version}: {jobs:,} job records written in {time.perf_counter() - start:.1f} s, "
          f"file {path.stat().st_size / 1e6:.0f} MB")

    def connect():
        return sqlite3.connect(path, timeout=120)

    steps = [
        ("ADD COLUMN note TEXT (nullable)", 'ALTER TABLE job ADD COLUMN note TEXT'),
        ("ADD COLUMN weight INTEGER NOT NULL DEFAULT 0", 'ALTER TABLE job ADD COLUMN weight INTEGER NOT NULL DEFAULT 0'),
        ("CREATE INDEX job_name_created_at", 'CREATE INDEX job_name_created_at ON job (name, created_at)'),
    ]
    from shop.operations import backup

    report("the copy `marketplace migrate` takes first (online backup)",
           *timed(lambda: backup.backup_sqlite(path, folder / "before-migration.db"), connect, "?", jobs))
    for label, sql in steps:
        def run(sql=sql):
            connection.execute("BEGIN IMMEDIATE")
            connection.execute(sql)
            connection.execute("COMMIT")

        report(label, *timed(run, connect, "?", jobs))
    connection.close()
    shutil.rmtree(folder)


def run_postgres(jobs):
    import psycopg

    name = f"bench_migration_{uuid.uuid4().hex[:8]}"
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        from playhouse.db_url import connect as connect_url

        database = connect_url(url)
        baseline(database)
        database.close()
        connection = psycopg.connect(url, autocommit=True)
        start = time.perf_counter()
        connection.execute(FILL.format(uuid="'job-' || i", false="false", now="now()",
                                       series=f"generate_series(1, {jobs}) AS i"))
        connection.execute("VACUUM ANALYZE job")
        size = connection.execute("SELECT pg_total_relation_size('job')").fetchone()[0]
        version = connection.execute("SHOW server_version").fetchone()[0]
        print(f"PostgreSQL {version}: {jobs:,} job records written in {time.perf_counter() - start:.1f} s, "
              f"table and indexes {size / 1e6:.0f} MB")

        def connect():
            return psycopg.connect(url)

        def in_transaction(sql):
            def run():
                with connection.transaction():
                    connection.execute(sql)
            return run

        steps = [
            ("ADD COLUMN note TEXT (nullable)", in_transaction("ALTER TABLE job ADD COLUMN note TEXT")),
            ("ADD COLUMN weight INTEGER NOT NULL DEFAULT 0",
             in_transaction("ALTER TABLE job ADD COLUMN weight INTEGER NOT NULL DEFAULT 0")),
            ("CREATE INDEX job_name_created_at (in a transaction)",
             in_transaction("CREATE INDEX job_name_created_at ON job (name, created_at)")),
        ]
        for label, run in steps:
            report(label, *timed(run, connect, "%s", jobs))
        connection.execute("DROP INDEX job_name_created_at")
        report("CREATE INDEX CONCURRENTLY job_name_created_at (no transaction)",
               *timed(lambda: connection.execute("CREATE INDEX CONCURRENTLY job_name_created_at ON job "
                                                 "(name, created_at)"), connect, "%s", jobs))
        connection.close()
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def report(label, took, slowest, updates):
    print(f"  {label:<62} {took:7.3f} s   slowest concurrent update {slowest:7.3f} s ({updates} updates)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1_000_000)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    args = parser.parse_args()
    (run_postgres if args.database == "postgres" else run_sqlite)(args.jobs)


if __name__ == "__main__":
    main()
