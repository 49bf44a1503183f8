"""What the benchmarks share: a throwaway shop (data folder, database, queue),
its web server and consumer as real processes, bulk data, and an HTTP load
generator. Benchmarks import the project in-process to prepare data, with the
same settings the processes get."""

import asyncio
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("APP_ENV", "testing")  # no developer .env, cheap password hashes for bulk users

POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
# TEST_REDIS_URL, as the tests read it, keeps a run off a Redis database in use.
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_port(port, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")


def percentile(values, fraction):
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


class Shop:
    """A shop of its own: `Shop("sqlite")` or `Shop("postgres-redis")`, used as a context manager."""

    def __init__(self, backends="sqlite", **settings):
        self.backends = backends
        self.dir = Path(tempfile.mkdtemp(prefix="bench-shop-"))
        self.processes = []
        self.pg_name = None
        self.env = {
            "APP_ENV": "testing", "APP_SECRET": "bench-secret-" + "x" * 40, "DATA_DIR": str(self.dir / "data"),
            "APP_URL": "http://127.0.0.1:8080", "MAIL_MAILER": "file", "LOG_LEVEL": "warning",
            "QUEUE_NAME": f"bench{uuid.uuid4().hex[:8]}", "REDIS_URL": REDIS_URL, "PYTHONPATH": str(ROOT),
            "PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp"),
        }
        if "MALLOC_ARENA_MAX" in os.environ:  # glibc's arenas, for memory.py's comparisons
            self.env["MALLOC_ARENA_MAX"] = os.environ["MALLOC_ARENA_MAX"]
        if backends == "postgres-redis":
            import psycopg

            self.pg_name = f"bench_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{self.pg_name}"')
            self.env["DATABASE_URL"] = POSTGRES_ADMIN.rsplit("/", 1)[0] + "/" + self.pg_name
            self.env["QUEUE_CONNECTION"] = "redis"
        else:
            self.env["QUEUE_CONNECTION"] = "sqlite"
        self.env.update({k: str(v) for k, v in settings.items()})

    def __enter__(self):
        from shop import config
        import job_runtime
        from shop import runtime
        import models
        import tasks  # noqa: F401  (every model and job)

        config.configure(self.env, dotenv=False)
        config.prepare_data_dir()
        from shop.operations import schema

        models.init_db()
        schema.migrate(out=lambda line: None)
        runtime.setup_job_runtime()
        job_runtime.huey.immediate = False
        return self

    def __exit__(self, *exc):
        self.stop()
        import job_runtime
        import models

        if not models.db.is_closed():
            models.db.close()
        if self.env["QUEUE_CONNECTION"] == "redis":
            try:
                job_runtime.huey.storage.flush_all()
            except Exception:
                pass
        if self.pg_name:
            import psycopg

            with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.pg_name}" WITH (FORCE)')
        if exc[0] is None:  # a failed run keeps its folder: the logs of its processes are there
            shutil.rmtree(self.dir, ignore_errors=True)

    def configure(self, **settings):
        from shop import config
        from shop import runtime

        self.env.update({k: str(v) for k, v in settings.items()})
        config.configure(self.env, dotenv=False)
        config.prepare_data_dir()
        runtime.setup_job_runtime()

    def _spawn(self, args, log_name):
        log = open(self.dir / log_name, "ab")
        process = subprocess.Popen(args, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        self.processes.append(process)
        return process

    def start_web(self, workers=None, threads=None):
        """The production setup: gunicorn (gthread) serving marketplace:app, as `marketplace serve` runs it."""
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.configure(APP_URL=self.url)
        args = [str(BIN / "marketplace"), "serve", "--bind", f"127.0.0.1:{self.port}"]
        if workers:
            args += ["--workers", str(workers)]
        if threads:
            self.configure(WEB_THREADS=threads)
        process = self._spawn(args, "web.log")
        wait_port(self.port)
        return process

    def start_consumer(self, workers=4, *extra):
        return self._spawn([str(BIN / "huey_consumer"), "tasks.huey", "-w", str(workers), "-q", *extra],
                           f"consumer-{len(self.processes)}.log")

    def stop(self):
        for process in self.processes:
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGINT)
                except ProcessLookupError:
                    pass
        for process in self.processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        self.processes = []


def wait_until_idle(timeout=3600):
    """Until no job record is pending or running (the consumer has caught up)."""
    from job_runtime.models import JobRecord

    deadline = time.monotonic() + timeout
    while JobRecord.select().where(JobRecord.state.in_(("pending", "running"))).exists():
        if time.monotonic() > deadline:
            raise SystemExit("the consumer did not finish in time")
        time.sleep(0.5)
    time.sleep(1)  # the last batched completions


def rss_mb(pid):
    """Resident memory of a process and its children (gunicorn's workers), in MB."""
    total = 0
    pids = [pid] + children(pid)
    for p in pids:
        try:
            with open(f"/proc/{p}/statm") as handle:
                total += int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except OSError:
            pass
    return total / 1048576


def cpu_seconds(pid):
    """CPU time (user and system) of a process and its descendants, the live ones and
    those that ended and were waited for, in seconds, from /proc."""
    total = 0
    for p in [pid] + children(pid):
        try:
            with open(f"/proc/{p}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(value) for value in fields[11:15])  # utime, stime, cutime, cstime
    return total / os.sysconf("SC_CLK_TCK")


def children(pid):
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == pid:
                found.append(int(entry.name))
                found += children(int(entry.name))
    return found


# ---------------------------------------------------------------------------
# HTTP load
# ---------------------------------------------------------------------------


async def _load(requests, concurrency, rate=None):
    """Send `requests` (method, url, headers, body) with `concurrency` connections.

    With `rate`, sends start at that many per second (a steady load); otherwise
    as fast as the server answers. Returns (elapsed seconds, latencies, errors).
    """
    import aiohttp

    latencies, errors = [], []
    queue = asyncio.Queue()
    for item in requests:
        queue.put_nowait(item)
    start = time.perf_counter()
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=60)

    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        async def sender(index):
            sent = index
            while True:
                try:
                    method, url, headers, body = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                if rate:
                    due = start + sent / rate
                    await asyncio.sleep(max(0.0, due - time.perf_counter()))
                    sent += concurrency
                began = time.perf_counter()
                try:
                    async with session.request(method, url, headers=headers, data=body) as response:
                        await response.read()
                        if response.status >= 400:
                            errors.append(response.status)
                except Exception as exc:  # a refused or reset connection is a result too
                    errors.append(type(exc).__name__)
                latencies.append(time.perf_counter() - began)

        await asyncio.gather(*(sender(i) for i in range(concurrency)))
    return time.perf_counter() - start, latencies, errors


def load(requests, concurrency=50, rate=None):
    return asyncio.run(_load(list(requests), concurrency, rate))


def summary(elapsed, latencies, errors):
    return {
        "requests": len(latencies), "rps": len(latencies) / elapsed if elapsed else 0.0,
        "p50_ms": percentile(latencies, 0.50) * 1000, "p95_ms": percentile(latencies, 0.95) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000, "errors": len(errors),
        "mean_ms": statistics.fmean(latencies) * 1000 if latencies else float("nan"),
    }
