"""The runtime's own test set-up: no application around it.

Every test gets a fresh file-backed SQLite database (WAL, foreign keys) holding
the runtime's tables and the sample jobs' tables, its own queue, a cipher and
a recording notifier, handed over through `job_runtime.setup()` as any
application would. Huey runs in immediate mode (jobs run inside the call that
dispatches them), like Huey's own MemoryHuey tests. Tests of guarantees that
need real processes use the `consumer` fixture, which starts
`huey_consumer job_runtime.tests.app.huey` pointed at the same database and queue.

TEST_QUEUE=redis|postgres and TEST_DATABASE=postgres select the real servers.
A missing server skips its tests, except under CI=true, where they fail.
"""

import dataclasses
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest

import job_runtime
from job_runtime import context
from job_runtime.models import WorkerRecord
from job_runtime.tests import sample_jobs, support

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SESSION_DIR = Path(tempfile.mkdtemp(prefix="job-runtime-tests-"))

CI = os.environ.get("CI") == "true"
TEST_DATABASE = os.environ.get("TEST_DATABASE", "sqlite")
TEST_QUEUE = os.environ.get("TEST_QUEUE", "sqlite")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
TEST_SECRET = "job-runtime-test-secret"
TABLES = [*job_runtime.MODELS, *sample_jobs.MODELS]


def pytest_report_header():
    return f"job runtime backends: {TEST_DATABASE} database, {TEST_QUEUE} queue"


# ---------------------------------------------------------------------------
# Services
# ---------------------------------------------------------------------------


def missing_service(reason):
    """Fail under CI, skip elsewhere: CI must never quietly skip a real-service test."""
    if CI:
        pytest.fail(f"{reason} (CI=true requires it)")
    pytest.skip(reason)


def port_open(host, port, timeout=0.5):
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def need_redis():
    if not port_open("127.0.0.1", 6379):
        missing_service("Redis is not running on 127.0.0.1:6379")


def need_postgres():
    if not port_open("127.0.0.1", 5432):
        missing_service("PostgreSQL is not running on 127.0.0.1:5432")


def wait_for(predicate, timeout=30.0, interval=0.05, message="condition"):
    """Poll `predicate` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)


def handles_sighup(pid):
    """Whether process `pid` has a SIGHUP handler: Huey's consumer installs its
    signal handlers last in its start-up, after its workers may already run jobs.
    Before that, a SIGINT is a plain KeyboardInterrupt, not a graceful stop."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("SigCgt:"):
                return bool(int(line.split()[1], 16) & (1 << (signal.SIGHUP - 1)))
    except (FileNotFoundError, ProcessLookupError):
        pass
    return False


# ---------------------------------------------------------------------------
# Databases
# ---------------------------------------------------------------------------


def create_tables(url, after=()):
    """The runtime's tables and the sample jobs' in the database at `url`."""
    database = support.open_database(url)
    with database.bind_ctx(TABLES):
        database.create_tables(TABLES, safe=True)
    for statement in after:
        database.execute_sql(statement)
    support.close_all(database)


@pytest.fixture(scope="session")
def postgres_url():
    """One throwaway PostgreSQL database for the session; tables are emptied between tests."""
    need_postgres()
    import psycopg

    name = f"job_runtime_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    create_tables(url)
    yield url
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session", autouse=True)
def _session_folder():
    yield
    shutil.rmtree(SESSION_DIR, ignore_errors=True)


_sqlite_template = SESSION_DIR / "template.db"


def fresh_sqlite_database(path):
    """A copy of a database with every table, made once per session."""
    if not _sqlite_template.exists():
        create_tables(f"sqlite:///{_sqlite_template}", after=("PRAGMA wal_checkpoint(TRUNCATE)",
                                                               "PRAGMA journal_mode=DELETE"))
    shutil.copyfile(_sqlite_template, path)
    return f"sqlite:///{path}"


# ---------------------------------------------------------------------------
# The runtime of one test
# ---------------------------------------------------------------------------


class Runtime:
    """What a test knows about its runtime: the database, settings, cipher and notifier it was given."""

    def __init__(self, folder, database_url, settings):
        self.folder = folder
        self.database_url = database_url
        self.settings = settings
        self.secret = TEST_SECRET
        self.notifier = support.RecordingNotifier()
        self.database = None

    @property
    def sqlite_path(self):
        return self.database_url.removeprefix("sqlite:///")

    def setup(self):
        """Hand the runtime its database and settings (again)."""
        if self.database is None:
            self.database = support.open_database(self.database_url)
        job_runtime.setup(self.database, self.settings, cipher=support.TestCipher(self.secret),
                          notifier=self.notifier)
        if job_runtime.huey.immediate:
            job_runtime.huey.storage = job_runtime.huey.get_immediate_storage()

    def reload(self, secret=None, **settings):
        """Change settings (or the cipher's secret) for the rest of the test, and for consumers started later."""
        self.secret = secret or self.secret
        self.settings = dataclasses.replace(self.settings, **settings)
        self.setup()

    def environ(self, **settings):
        """Environment variables for a consumer of this runtime, with `settings` changed."""
        return support.environ(self.database_url, dataclasses.replace(self.settings, **settings), self.secret)

    def close(self):
        if self.database is not None:
            support.close_all(self.database)


def queue_settings(folder):
    """The RuntimeSettings fields of TEST_QUEUE."""
    fields = {"queue_connection": TEST_QUEUE, "queue_name": f"test{uuid.uuid4().hex[:12]}",
              "sqlite_path": str(folder / "queue.db"), "redis_url": REDIS_URL}
    if TEST_QUEUE == "redis":
        need_redis()
    if TEST_QUEUE == "postgres":
        need_postgres()
    return fields


@pytest.fixture(autouse=True)
def runtime(tmp_path, request):
    # Whatever set the runtime up before (an application's own tests in the same
    # run) finds it as it left it afterwards.
    before = (context.db.obj, dataclasses.replace(context.state))
    folder = tmp_path / "runtime"
    folder.mkdir()
    fields = queue_settings(folder)
    if TEST_DATABASE == "postgres" or TEST_QUEUE == "postgres":
        url = request.getfixturevalue("postgres_url")
        if TEST_QUEUE == "postgres":
            fields["postgres_dsn"] = url
    if TEST_DATABASE == "postgres":
        database_url = url
        database = support.open_database(url)
        names = ", ".join(f'"{m._meta.table_name}"' for m in TABLES)
        database.execute_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
        support.close_all(database)
    else:
        database_url = fresh_sqlite_database(folder / "jobs.db")
    settings = job_runtime.RuntimeSettings(
        **fields, poll_max_delay=0.05, sweep_seconds=2, heartbeat_seconds=1, worker_stale_seconds=6,
        timeout_grace_seconds=1, app_name="Sample shop", dashboard_url="http://127.0.0.1:8080/jobs")
    state = Runtime(folder, database_url, settings)
    job_runtime.huey.immediate = True
    state.setup()
    yield state
    job_runtime.huey.immediate = False
    if state.settings.queue_connection != "sqlite":  # a server's queue outlives the test
        try:
            state.setup()
            job_runtime.huey.storage.flush_all()
        except Exception:
            pass
    state.close()
    context.db.initialize(before[0])
    for field in dataclasses.fields(context.state):
        setattr(context.state, field.name, getattr(before[1], field.name))


# ---------------------------------------------------------------------------
# Real consumer processes
# ---------------------------------------------------------------------------


class ConsumerProcess:
    """A `huey_consumer job_runtime.tests.app.huey` subprocess with the test's runtime."""

    def __init__(self, environ, args, log_path):
        self.args = args
        self.log_path = log_path
        environ = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp"), **environ,
                   "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
        self.log = open(log_path, "ab")
        self.process = subprocess.Popen([str(BIN / "huey_consumer"), "job_runtime.tests.app.huey", *args],
                                        cwd=ROOT, env=environ, stdout=self.log, stderr=subprocess.STDOUT)

    @property
    def pid(self):
        return self.process.pid

    def output(self):
        self.log.flush()
        return self.log_path.read_text(errors="replace")

    def kill(self):
        """SIGKILL: no cleanup, no shutdown hooks, as when the kernel's OOM killer strikes."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self, timeout=30):
        """SIGINT, the graceful stop systemd sends (KillSignal=SIGINT)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.log.close()
        return self.process.returncode


@pytest.fixture
def consumer(runtime, tmp_path):
    """Start real consumers: consumer(workers=2, args=(), settings={}) -> ConsumerProcess.

    `settings` changes RuntimeSettings fields for that consumer only. They
    dispatch no periodic jobs (-n) unless asked with periodic=True.
    """
    started = []
    job_runtime.huey.immediate = False
    runtime.setup()

    def start(workers=2, args=(), settings=None, wait=True, periodic=False):
        log_path = tmp_path / f"consumer-{len(started) + 1}.log"
        options = ["-w", str(workers), *args] + ([] if periodic or "-n" in args else ["-n"])
        process = ConsumerProcess(runtime.environ(**(settings or {})), options, log_path)
        started.append(process)
        if wait:
            wait_for(lambda: WorkerRecord.select().where(
                (WorkerRecord.consumer_pid == process.pid) & WorkerRecord.stopped_at.is_null()).count() >= 1
                or process.process.poll() is not None, timeout=30, message="the consumer to start")
            wait_for(lambda: handles_sighup(process.pid) or process.process.poll() is not None,
                     message="the consumer's signal handlers")
            assert process.process.poll() is None, process.output()
        return process

    yield start
    for process in started:
        process.stop(timeout=20)
