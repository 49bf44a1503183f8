"""Every benchmark, one after another, each printing its figures and ratios.

    python bench/run_all.py [--quick]

--quick runs each with smaller counts (a smoke test of the scripts, not figures
to report). BENCHMARKS.md records a full run and the machine it ran on.
"""

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

FULL = [
    ("No-op throughput: job runtime vs plain Huey (job records in SQLite)", ["throughput.py", "--runs", "3"]),
    ("No-op throughput: job runtime vs plain Huey (job records in PostgreSQL)",
     ["throughput.py", "--runs", "3", "--database", "postgres"]),
    ("No-op throughput: Celery, RQ, Dramatiq beside the runtime on one Redis", ["peers.py"]),
    ("Purchase pipeline", ["pipeline.py"]),
    ("Purchase pipeline with 1, 2 and 4 consumer processes",
     ["pipeline.py", "--steady", "0", "--consumers", "1,2,4", "--arenas", "2", "--json", "pipeline-consumers.json"]),
    ("Webhook ingest", ["ingest.py"]),
    ("Catalog", ["catalog.py"]),
    ("Memory", ["memory.py"]),
    ("Queue dashboard with a million job records", ["dashboard_page.py", "--jobs", "1000000"]),
    ("Schema changes on a million job records (SQLite)", ["migration_big_table.py"]),
    ("Schema changes on a million job records (PostgreSQL)", ["migration_big_table.py", "--database", "postgres"]),
    ("A big shop: a million orders and ten million job records (SQLite)", ["big_shop.py"]),
    ("A big shop: a million orders and ten million job records (PostgreSQL)", ["big_shop.py", "--database", "postgres"]),
    ("Charts of the consumer runs (docs/benchmarks)", ["charts.py", "--pipeline", "pipeline-consumers.json"]),
]
QUICK = {
    "throughput.py": ["--jobs", "2000", "--runs", "1"], "peers.py": ["--jobs", "1000"],
    "pipeline.py": ["--purchases", "100", "--steady", "30"], "ingest.py": ["--events", "500", "--steady", "300"],
    "catalog.py": ["--requests", "300"], "memory.py": ["--jobs", "100", "--requests", "300"],
    "dashboard_page.py": ["--jobs", "20000", "--requests", "3"], "migration_big_table.py": ["--jobs", "20000"],
    "big_shop.py": ["--orders", "10000", "--jobs", "100000", "--purchases", "100", "--requests", "2"],
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    for title, command in FULL:
        script, options = command[0], command[1:]
        if args.quick:
            options = [o for o in options if o != "--runs" and not o.isdigit()] + QUICK.get(script, [])
            if script == "dashboard_page.py":
                options = QUICK[script]
            if script == "pipeline.py" and "--consumers" in command:
                options = ["--purchases", "100", "--steady", "0", "--consumers", "1,2", "--json", "pipeline-consumers.json"]
            if script == "big_shop.py":
                options = QUICK[script] + [o for o in command[1:] if o in ("--database", "postgres")]
            if script == "charts.py":
                options = ["--pipeline", "pipeline-consumers.json", "--out", tempfile.mkdtemp(prefix="charts-")]
        print(f"\n== {title}", flush=True)
        started = time.perf_counter()
        result = subprocess.run([sys.executable, str(HERE / script), *options])
        print(f"   ({time.perf_counter() - started:.0f}s{'' if result.returncode == 0 else ', FAILED'})", flush=True)


if __name__ == "__main__":
    main()
