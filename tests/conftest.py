"""Shared fixtures.

Every test gets its own data folder, a fresh file-backed database and a fresh
queue, with Huey in immediate mode (jobs run inside the call that dispatches
them). Tests of the job system's guarantees start real `huey_consumer`
processes instead (the `consumer` fixture), pointed at the same files.

The suite runs against SQLite by default. TEST_DATABASE=postgres and
TEST_QUEUE=redis (or postgres) run it against the real servers, as the second
CI leg does. Tests that need Redis, PostgreSQL or chromium skip with a reason
when they are missing, except under CI=true, where they fail.
"""

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
from PIL import Image

PILLOW_MAX_PIXELS = Image.MAX_IMAGE_PIXELS
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SESSION_DIR = Path(tempfile.mkdtemp(prefix="marketplace-tests-"))
TEST_SECRET = "test-secret-for-the-suite-only-" + "x" * 32
os.environ["APP_ENV"] = "testing"
os.environ["DATA_DIR"] = str(SESSION_DIR / "session-data")
os.environ["APP_SECRET"] = TEST_SECRET
for _name in ("STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "PAYTM_MID", "PAYTM_MERCHANT_KEY",
              "PAYTM_WEBSITE", "DATABASE_URL", "QUEUE_CONNECTION", "MAIL_MAILER"):
    os.environ.pop(_name, None)

CI = os.environ.get("CI") == "true"
TEST_DATABASE = os.environ.get("TEST_DATABASE", "sqlite")
TEST_QUEUE = os.environ.get("TEST_QUEUE", "sqlite")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
BIN = Path(sys.executable).parent

from shop import config  # noqa: E402
from job_runtime import jobs  # noqa: E402
from shop import runtime
from shop.catalog import page_cache  # noqa: E402
import models  # noqa: E402
import tasks  # noqa: E402

tasks.start()  # the suite's process starts as any other: settings checked, job runtime set up
import tests.sample_jobs  # noqa: E402,F401  (its tables must exist in every test database)

# Fixtures that several test files use: the shop's (sellers, local Stripe and Paytm
# servers, the app on a real port) and the browser tests' (a live shop, chromium).
pytest_plugins = ["tests.shop_fixtures", "tests.browser", "tests.smtp_server", "tests.s3_server"]


# ---------------------------------------------------------------------------
# Services
# ---------------------------------------------------------------------------


def pytest_report_header():
    return f"backends: {TEST_DATABASE} database, {TEST_QUEUE} queue"


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


def need_chromium():
    if not Path("/usr/bin/chromium").exists():
        missing_service("chromium is not installed (make deps installs it)")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item (item.rep_call), for fixtures that add
    what they know to a failure (the browser tests print the shop's logs)."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


# ---------------------------------------------------------------------------
# Markers from fixtures, and no processes without them
# ---------------------------------------------------------------------------

# Command-line tools that read a file, answer and exit (a PDF's text, systemd's checks
# of a unit file): they are not processes of the shop, so any test may run them.
TOOLS = frozenset({"pdftotext", "pdfinfo", "pdffonts", "pdftoppm", "qpdf", "systemd-analyze"})


def marks_its_tests(*markers):
    """Tag a fixture (below its @pytest.fixture): every test that uses it, directly or
    through another fixture, gets `markers`.

    A fixture that starts processes (a consumer, the web server, localstripe, nginx,
    supervisor) marks its tests `consumer`; one that drives chromium marks them
    `browser`. So `-m "not consumer and not browser"` selects exactly the tests that
    run inside this process, which pytest_runtest_protocol below holds them to.
    """

    def tag(function):
        function.marks_its_tests = markers
        return function

    return tag


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Mark each test from the fixtures it uses, before `-m` selects by marker."""
    for item in items:
        # pytest has no public way to a test's fixture definitions; plugins read this one.
        info = getattr(item, "_fixtureinfo", None)
        if info is None:
            continue
        for name in item.fixturenames:
            definitions = info.name2fixturedefs.get(name)
            if not definitions:
                continue
            # The last definition is the one in force: a test file's own fixture of a
            # shared name (test_invoices' `shop`) replaces the shared one.
            for marker in getattr(definitions[-1].func, "marks_its_tests", ()):
                if item.get_closest_marker(marker) is None:
                    item.add_marker(marker)


def _program(args):
    """The name of the program that Popen's `args` run (a sequence, a path or a command line)."""
    if isinstance(args, (str, bytes)):
        args = os.fsdecode(args).split()
    elif isinstance(args, os.PathLike):
        args = [args]
    return Path(os.fsdecode(args[0])).name


# The programs that write into the shop's tables: one left running by a test that failed
# before its clean-up would write into every later test's tables.
SHOP_PROGRAMS = {"huey_consumer", "gunicorn", "marketplace"}


def children(pid):
    """The child process ids of `pid` (none once it has ended)."""
    found = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found.update(int(p) for p in (task / "children").read_text().split())
        except (FileNotFoundError, ProcessLookupError):
            pass
    return found


def descendants(pid):
    """Every process below `pid`, deepest first."""
    found = []
    for child in children(pid):
        found += descendants(child) + [child]
    return found


def command_line(pid):
    """The argv of process `pid`, or None when it has ended (a child may end while it is looked at)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (FileNotFoundError, ProcessLookupError):
        return None


def _shop_program(pid):
    names = [Path(os.fsdecode(arg)).name for arg in (command_line(pid) or [])[:2]]
    return next((name for name in names if name in SHOP_PROGRAMS), None)


def kill_left_behind():
    """SIGKILL the shop's servers and consumers still running under this process; returns
    [(pid, program)]. Called when a test module ends, after its fixtures' clean-up."""
    left = [(pid, program) for pid in descendants(os.getpid()) if (program := _shop_program(pid))]
    for pid, _ in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return left


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    """A test not marked `consumer` or `browser` may not start a process (its fixtures
    included), except the TOOLS: the in-process selection must never leave a server or
    a consumer behind. The job runtime's forkserver children (killable) are work of
    this process and start through multiprocessing, not subprocess, so they pass.

    A consumer or browser module that leaves a server or consumer running once its last
    test and fixtures have ended has it killed and reported: it would otherwise write its
    workers and jobs into the tables of the tests after it."""
    if item.get_closest_marker("consumer") or item.get_closest_marker("browser"):
        try:
            return (yield)
        finally:
            if nextitem is None or nextitem.path != item.path:
                reporter = item.config.pluginmanager.get_plugin("terminalreporter")
                for pid, program in kill_left_behind():
                    message = f"{item.path.name} left {program} (pid {pid}) running: killed"
                    if reporter is not None:
                        reporter.write_line(message, red=True)
                    else:
                        sys.stderr.write(message + "\n")
    start = subprocess.Popen.__init__

    def refuse(popen, args, *rest, **kwargs):
        program = _program(args)
        if program not in TOOLS:
            pytest.fail(f"{item.nodeid} starts a process ({program}) but is not marked `consumer`: "
                        f"start it through a fixture tagged with marks_its_tests('consumer'), or mark the test",
                        pytrace=False)
        start(popen, args, *rest, **kwargs)

    subprocess.Popen.__init__ = refuse
    try:
        return (yield)
    finally:
        subprocess.Popen.__init__ = start


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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


# ---------------------------------------------------------------------------
# Databases
# ---------------------------------------------------------------------------

_pg_database = None


def _postgres_url():
    """One throwaway database for the session; tables are emptied between tests."""
    global _pg_database
    need_postgres()
    if _pg_database is None:
        import psycopg

        name = f"marketplace_test_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        _pg_database = name
    return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/" + _pg_database


def pytest_sessionfinish(session, exitstatus):
    if _pg_database is not None:
        import psycopg

        try:
            if not models.db.is_closed():
                models.db.close()
            with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{_pg_database}" WITH (FORCE)')
        except Exception:
            pass
    shutil.rmtree(SESSION_DIR, ignore_errors=True)


def _empty_postgres_tables():
    """Every table empty and every id counting from 1 again, as in a new database.

    Only the tables that hold rows are truncated: TRUNCATE gives each table a new
    file, which costs about 20 ms a table, so truncating all of them cost each test
    about a second. A table left empty by its test may still have used ids; its
    sequence is set back on its own.
    """
    tables = [m._meta.table_name for m in models.all_models()]
    probe = " UNION ALL ".join(f"(SELECT %s FROM \"{name}\" LIMIT 1)" for name in tables)
    used = [name for (name,) in models.db.execute_sql(probe, tables).fetchall()]
    if used:
        names = ", ".join(f'"{name}"' for name in used)
        models.db.execute_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    advanced = models.db.execute_sql(
        "SELECT s.schemaname, s.sequencename FROM pg_sequences s "
        "JOIN pg_class c ON c.relname = s.sequencename AND c.relkind = 'S' "
        "JOIN pg_depend d ON d.objid = c.oid AND d.deptype IN ('a', 'i') "
        "JOIN pg_class t ON t.oid = d.refobjid "
        "WHERE s.last_value IS NOT NULL AND t.relname = ANY(%s)", (tables,)).fetchall()
    for schema_name, sequence in advanced:
        models.db.execute_sql(f'ALTER SEQUENCE "{schema_name}"."{sequence}" RESTART')


# ---------------------------------------------------------------------------
# The app state of one test
# ---------------------------------------------------------------------------


class TestEnv:
    """What a test knows about its app: its settings and folders."""

    def __init__(self, data_dir, environ):
        self.data_dir = data_dir
        self.environ = environ

    def reload(self, **overrides):
        """Change settings for the rest of the test (also for consumers started later)."""
        self.environ.update({k: str(v) for k, v in overrides.items()})
        config.configure(self.environ, dotenv=False)
        config.prepare_data_dir()
        runtime.setup_job_runtime()
        if not jobs.huey.immediate:
            return
        jobs.huey.storage = jobs.huey.get_immediate_storage()

    @property
    def mails(self):
        """Every delivery the file mailer made, oldest first, parsed.

        The file mailer writes each delivery to a file of its own, so a message
        sent twice is here twice (with the same Message-ID).
        """
        from email import policy
        from email.parser import BytesParser

        folder = self.data_dir / "mail"
        # A file's name starts with the time of its delivery, to the microsecond.
        files = sorted(folder.glob("*.eml"), key=lambda p: p.name) if folder.exists() else []
        return [BytesParser(policy=policy.default).parsebytes(p.read_bytes()) for p in files]


def base_environ(data_dir):
    environ = {
        "APP_ENV": "testing",
        "APP_SECRET": TEST_SECRET,
        "APP_URL": "http://127.0.0.1:8080",
        "DATA_DIR": str(data_dir),
        "MAIL_MAILER": "file",
        "QUEUE_CONNECTION": TEST_QUEUE,
        "QUEUE_NAME": f"test{uuid.uuid4().hex[:12]}",
        "REDIS_URL": REDIS_URL,
        "JOB_MODULES": "tests.sample_jobs",
        "QUEUE_SWEEP_SECONDS": "2",
        "QUEUE_HEARTBEAT_SECONDS": "1",
        "QUEUE_WORKER_STALE_SECONDS": "6",
        "QUEUE_POLL_MAX_DELAY": "0.05",
        "QUEUE_TIMEOUT_GRACE_SECONDS": "1",
        "LOG_LEVEL": "info",
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
    }
    if TEST_DATABASE == "postgres":
        environ["DATABASE_URL"] = _postgres_url()
    else:
        environ["DATABASE_URL"] = f"sqlite:///{data_dir / 'marketplace.db'}"
    return environ


def create_schema():
    """The shop's tables as `marketplace migrate` makes them, then the suite's own
    (tests/sample_jobs.py), so every test runs on the migrated schema."""
    from shop.operations import schema

    schema.migrate(out=lambda line: None)
    models.create_tables()


_sqlite_template = SESSION_DIR / "template.db"


def _fresh_sqlite_database(path):
    """A copy of a database with every table, made once per session: copying a file
    is much faster than creating thirty tables and their indexes for every test."""
    if not _sqlite_template.exists():
        models.init_db(f"sqlite:///{_sqlite_template}")
        create_schema()
        models.db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        models.db.execute_sql("PRAGMA journal_mode=DELETE")
        models.db.close()
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_sqlite_template, path)


@pytest.fixture(autouse=True)
def app_env(tmp_path):
    if TEST_QUEUE == "redis":
        need_redis()
    data_dir = tmp_path / "data"
    environ = base_environ(data_dir)
    config.configure(environ, dotenv=False)
    config.prepare_data_dir()
    if TEST_DATABASE == "postgres":
        models.init_db(environ["DATABASE_URL"])
        create_schema()
        _empty_postgres_tables()
    else:
        _fresh_sqlite_database(data_dir / "marketplace.db")
        models.init_db(environ["DATABASE_URL"])
    runtime.setup_job_runtime()
    jobs.huey.immediate = True
    jobs.huey.storage = jobs.huey.get_immediate_storage()
    # Kept catalog pages belong to one test's settings (each test's shop starts at the
    # same catalog version, but may name itself or price differently).
    page_cache.clear()
    env = TestEnv(data_dir, environ)
    yield env
    if not models.db.is_closed():
        models.db.close()
    jobs.huey.immediate = False
    # images.py sets Pillow's process-wide pixel limit from IMAGE_MAX_PIXELS; a test's
    # small limit must not stay behind for the next test's own images.
    Image.MAX_IMAGE_PIXELS = PILLOW_MAX_PIXELS
    if TEST_QUEUE == "redis":
        try:
            runtime.setup_job_runtime()
            jobs.huey.storage.flush_all()
        except Exception:
            pass


# ---------------------------------------------------------------------------
# Users and the web client
# ---------------------------------------------------------------------------

PASSWORD = "correct-horse-42"


@pytest.fixture
def make_user():
    from shop.accounts import users

    counter = {"n": 0}

    def make(role="customer", email=None, name=None, password=PASSWORD):
        counter["n"] += 1
        email = email or f"{role}{counter['n']}@example.com"
        return users.create_user(name or f"{role.title()} {counter['n']}", email, password, role)

    return make


@pytest.fixture
def client():
    from webtest import TestApp

    import marketplace

    return TestApp(marketplace.app, extra_environ={"REMOTE_ADDR": "127.0.0.1"})


def login(client, user_or_email, password=PASSWORD):
    email = getattr(user_or_email, "email", user_or_email)
    page = client.get("/login")
    form = page.forms[0] if len(page.forms) == 1 else next(f for f in page.forms.values() if f.action == "/login")
    form["email"] = email
    form["password"] = password
    return form.submit(expect_errors=True)


@pytest.fixture
def login_as(client, make_user):
    """Log the client in as a new user of `role`; returns the user."""

    def log_in(role="customer", **kwargs):
        user = make_user(role, **kwargs)
        response = login(client, user)
        assert response.status_int == 303, response
        return user

    return log_in


# ---------------------------------------------------------------------------
# Real consumer processes
# ---------------------------------------------------------------------------


class ConsumerProcess:
    """A `huey_consumer tasks.huey` subprocess with the test's settings."""

    def __init__(self, env, args, log_path, environ_overrides=None):
        self.args = args
        self.log_path = log_path
        environ = dict(env.environ)
        environ.update({k: str(v) for k, v in (environ_overrides or {}).items()})
        environ["PYTHONPATH"] = str(ROOT)
        environ["PYTHONUNBUFFERED"] = "1"
        self.log = open(log_path, "ab")
        self.process = subprocess.Popen([str(BIN / "huey_consumer"), "tasks.huey", *args], cwd=ROOT,
                                        env=environ, stdout=self.log, stderr=subprocess.STDOUT)

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


def cli_process(env, *args, environ_overrides=None, **popen):
    """`marketplace ARGS` as a subprocess with the test's settings (returns the Popen)."""
    environ = dict(env.environ)
    environ.update({k: str(v) for k, v in (environ_overrides or {}).items()})
    environ["PYTHONPATH"] = str(ROOT)
    environ["PYTHONUNBUFFERED"] = "1"
    return subprocess.Popen([str(BIN / "marketplace"), *args], cwd=ROOT, env=environ, **popen)


@pytest.fixture
@marks_its_tests("consumer")
def consumer(app_env, tmp_path):
    """Start real consumers: consumer(workers=2, args=(), env={}) -> ConsumerProcess.

    They dispatch no periodic jobs (-n) unless asked with periodic=True: a
    periodic job dispatched as a minute turns would add a record that a test
    counting records does not expect.
    """
    started = []
    jobs.huey.immediate = False
    runtime.setup_job_runtime()

    def start(workers=2, args=(), env=None, wait=True, periodic=False):
        log_path = tmp_path / f"consumer-{len(started) + 1}.log"
        options = ["-w", str(workers), *args] + ([] if periodic or "-n" in args else ["-n"])
        process = ConsumerProcess(app_env, options, log_path, env)
        started.append(process)
        if wait:
            from job_runtime.models import WorkerRecord

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
