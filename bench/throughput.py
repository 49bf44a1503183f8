"""No-op job throughput: the job runtime against plain Huey on the same backend.

    python bench/throughput.py [--jobs 10000] [--workers 4] [--backends sqlite,redis] [--runs 3]

For each backend, each run enqueues N no-op jobs first, then starts a consumer
with 4 thread workers and times the drain. Plain Huey runs `huey_consumer` on a
plain SqliteHuey / PriorityRedisHuey with `@huey.task`; the runtime runs
`huey_consumer tasks.huey` with `@job`, whose every job is also a committed
record in the application database (SQLite here; PostgreSQL with
--database postgres). Runs alternate, and the medians and their ratio are
printed side by side, because a machine's speed drifts between runs.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _env(data_dir, backend, database):
    env = dict(os.environ)
    env.update({
        "APP_ENV": "testing", "APP_SECRET": "bench-secret-" + "x" * 40, "DATA_DIR": str(data_dir),
        "QUEUE_CONNECTION": backend, "QUEUE_NAME": f"bench{uuid.uuid4().hex[:8]}",
        "BENCH_QUEUE": backend, "BENCH_QUEUE_NAME": f"benchplain{uuid.uuid4().hex[:8]}",
        "BENCH_SQLITE_PATH": str(data_dir / "plain-queue.db"), "JOB_MODULES": "bench.noop_jobs",
        "PYTHONPATH": str(ROOT), "LOG_LEVEL": "warning",
    })
    if database == "postgres":
        env["DATABASE_URL"] = _postgres_database()
    return env


_pg = {}


def _postgres_database():
    if "url" not in _pg:
        import psycopg

        name = f"bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        _pg["name"], _pg["url"] = name, f"postgresql://postgres@127.0.0.1:5432/{name}"
    return _pg["url"]


def _drop_postgres():
    if "name" in _pg:
        import psycopg

        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{_pg["name"]}" WITH (FORCE)')


ENQUEUE_PLAIN = """
import time, bench.plain_huey as p
n = {n}
start = time.perf_counter()
for _ in range(n):
    p.noop_task()
print(n / (time.perf_counter() - start))
"""

ENQUEUE_RUNTIME = """
import time, models, tasks, bench.noop_jobs as b
from shop import cli
tasks.start()
cli.cmd_init(None)
models.db.connect(reuse_if_open=True)
from job_runtime.models import JobRecord
JobRecord.delete().execute()
n = {n}
start = time.perf_counter()
for _ in range(n):
    b.noop_job.dispatch()
print(n / (time.perf_counter() - start))
"""

REMAINING_PLAIN = "import bench.plain_huey as p; print(p.huey.pending_count())"
REMAINING_RUNTIME = """
import models
import tasks
from job_runtime.models import JobRecord
print(JobRecord.select().where(JobRecord.state != "completed").count())
"""


def _python(code, env):
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(out.stderr)
    return float(out.stdout.strip().splitlines()[-1])


def _remaining_probe(kind, env):
    """A cheap in-process check of what is left, without starting Python each time."""
    if kind == "plain":
        from huey import PriorityRedisHuey, SqliteHuey

        if env["BENCH_QUEUE"] == "redis":
            huey = PriorityRedisHuey(env["BENCH_QUEUE_NAME"], url="redis://127.0.0.1:6379/0")
        else:
            huey = SqliteHuey(env["BENCH_QUEUE_NAME"], filename=env["BENCH_SQLITE_PATH"])
        return huey.pending_count
    from playhouse.db_url import connect

    url = env.get("DATABASE_URL") or f"sqlite:///{env['DATA_DIR']}/marketplace.db"
    database = connect(url)

    def remaining():
        # Whether any is left, found through the (state, queue, available_at) index:
        # counting the whole table every 20 ms cost the database more CPU than some
        # of the jobs being counted. No-op jobs never fail, so pending and running
        # are all that can be left.
        return len(database.execute_sql(
            "select 1 from job where state in ('pending', 'running') limit 1").fetchall())

    return remaining


def one_run(kind, backend, database, jobs, workers):
    data_dir = Path(tempfile.mkdtemp(prefix="bench-"))
    env = _env(data_dir, backend, database)
    enqueue_rate = _python((ENQUEUE_PLAIN if kind == "plain" else ENQUEUE_RUNTIME).format(n=jobs), env)
    target = "bench.plain_huey.huey" if kind == "plain" else "tasks.huey"
    remaining = _remaining_probe(kind, env)
    consumer = subprocess.Popen([str(BIN / "huey_consumer"), target, "-w", str(workers), "-q", "-n"],
                                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    start = time.perf_counter()
    try:
        while remaining() > 0:
            time.sleep(0.02)
        elapsed = time.perf_counter() - start
    finally:
        consumer.send_signal(2)
        consumer.wait(30)
    shutil.rmtree(data_dir, ignore_errors=True)
    return jobs / elapsed, enqueue_rate


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=10000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--backends", default="sqlite,redis")
    parser.add_argument("--database", default="sqlite", choices=("sqlite", "postgres"),
                        help="where the runtime's job records live")
    args = parser.parse_args()
    print(f"{args.jobs} no-op jobs, {args.workers} thread workers, median of {args.runs} runs, "
          f"job records in {args.database}")
    try:
        for backend in args.backends.split(","):
            results = {"plain": [], "runtime": []}
            for _ in range(args.runs):
                for kind in ("plain", "runtime"):
                    results[kind].append(one_run(kind, backend, args.database, args.jobs, args.workers))
            plain = statistics.median(r[0] for r in results["plain"])
            ours = statistics.median(r[0] for r in results["runtime"])
            plain_enq = statistics.median(r[1] for r in results["plain"])
            ours_enq = statistics.median(r[1] for r in results["runtime"])
            print(f"{backend:>7}  drain: plain Huey {plain:7.0f}/s   runtime {ours:7.0f}/s   ratio {ours / plain:.2f}"
                  f"   |  enqueue: plain {plain_enq:7.0f}/s   runtime {ours_enq:7.0f}/s   ratio {ours_enq / plain_enq:.2f}")
    finally:
        _drop_postgres()


if __name__ == "__main__":
    main()
