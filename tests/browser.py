"""The browser tests' machinery: a whole shop on a loopback port, and chromium.

- LiveShop: the app under gunicorn (`marketplace serve`, as in production) and a real
  `huey_consumer tasks.huey`, as separate processes sharing one data folder, database
  and queue of their own. One shop serves a whole test module, so its journeys can
  follow each other through the same state.
- The `shop` fixture (module scope) starts one. A browser test file replaces the
  conftest's `app_env` with its own fixture that yields from shop_environment(shop),
  pointing this process at the shop's database so a test can create users and look at
  rows. tests/conftest.py loads this module as a plugin (pytest_plugins), so its
  fixtures need no import; they mark their tests `consumer` and `browser`.
- The `browser` fixture (module scope) is Debian's chromium through Playwright, and
  `visit` opens pages as a visitor or a logged-in user; every page's console errors
  and uncaught exceptions fail the test.
- Checks of what a phone user meets: no_horizontal_scroll and unlabelled_fields.
"""

import re
import signal
import socket
import subprocess
import urllib.request
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest

from shop import config
import job_runtime
from shop import runtime
import models
from tests.conftest import (
    PASSWORD,
    POSTGRES_ADMIN_URL,
    TEST_DATABASE,
    TEST_QUEUE,
    ConsumerProcess,
    TestEnv,
    base_environ,
    create_schema,
    cli_process,
    marks_its_tests,
    need_chromium,
    wait_for,
)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync",
                 "--disable-dev-shm-usage", "--hide-scrollbars", "--font-render-hinting=none"]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


# ---------------------------------------------------------------------------
# The shop: web and consumer processes
# ---------------------------------------------------------------------------


class LiveShop:
    """A shop with its own data folder, served by gunicorn, its jobs run by huey_consumer."""

    def __init__(self, data_dir, settings=None, workers=4):
        self.data_dir = Path(data_dir)
        # The shop's socket is bound here and handed to gunicorn (--bind fd://N): a port
        # found free and bound later could be taken meanwhile by another test's server,
        # which would then answer this shop's requests.
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        self.environ = base_environ(self.data_dir)
        self.environ.update({"APP_URL": self.url, "WEB_CONCURRENCY": "1", "WEB_THREADS": "8"})
        self.environ.update({k: str(v) for k, v in (settings or {}).items()})
        self.env = TestEnv(self.data_dir, self.environ)
        self.postgres_database = None
        self.web = None
        self.web_log = None
        self.consumer = None

    # -- this process's view of the shop --------------------------------------

    def use(self):
        """Point this process's settings, database and queue at the shop."""
        config.configure(self.environ, dotenv=False)
        config.prepare_data_dir()
        models.init_db(self.environ["DATABASE_URL"])
        job_runtime.huey.immediate = False
        runtime.setup_job_runtime()

    # -- processes --------------------------------------------------------------

    def start(self, before_serving=None):
        """Create the tables, run `before_serving(shop)` if given, then start web and consumer."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if TEST_DATABASE == "postgres":
            self._create_postgres_database()
        self.use()
        create_schema()
        if before_serving:
            before_serving(self)
        models.db.close()
        self.web_log = open(self.data_dir / "web.log", "ab")
        fd = self.listener.fileno()
        self.web = cli_process(self.env, "serve", "--bind", f"fd://{fd}", pass_fds=(fd,),
                               stdout=self.web_log, stderr=subprocess.STDOUT)
        self.listener.close()  # gunicorn holds it now
        self.start_consumer(wait=False)
        wait_for(self._healthy, timeout=60, message=f"the shop to answer at {self.url}")
        return self

    def start_consumer(self, wait=True):
        """Start the shop's consumer, `-w 4` as systemd runs it (-n: periodic jobs would add
        records nobody asked for)."""
        self.consumer = ConsumerProcess(self.env, ["-w", str(self.workers), "-n"], self.data_dir / "consumer.log")
        if wait:
            from job_runtime.models import WorkerRecord

            wait_for(lambda: WorkerRecord.select().where(
                (WorkerRecord.consumer_pid == self.consumer.pid) & WorkerRecord.stopped_at.is_null()).exists()
                or self.consumer.process.poll() is not None, timeout=30, message="the consumer to start")
            assert self.consumer.process.poll() is None, self.logs()
        return self.consumer

    def stop_consumer(self):
        """Stop the consumer as systemd does (SIGINT); jobs dispatched meanwhile wait in the queue."""
        self.consumer.stop(timeout=20)

    def _healthy(self):
        for name, process in (("web", self.web), ("consumer", self.consumer.process)):
            if process.poll() is not None:
                raise AssertionError(f"the {name} process exited:\n{self.logs()}")
        try:
            with urllib.request.urlopen(self.url + "/healthz", timeout=2) as answer:
                return answer.status == 200
        except OSError:
            return False

    def logs(self):
        parts = []
        for name in ("web.log", "consumer.log"):
            path = self.data_dir / name
            if path.exists():
                parts.append(f"--- {name} (last lines)\n" + "\n".join(
                    path.read_text(errors="replace").splitlines()[-80:]))
        return "\n".join(parts)

    def stop(self):
        self.listener.close()  # still ours if start() failed before gunicorn took it
        if self.web is not None and self.web.poll() is None:
            self.web.send_signal(signal.SIGTERM)
            try:
                self.web.wait(20)
            except subprocess.TimeoutExpired:
                self.web.kill()
                self.web.wait(10)
        if self.web_log:
            self.web_log.close()
        if self.consumer is not None and self.consumer.process.poll() is None:
            self.consumer.stop(timeout=20)
        if not models.db.is_closed():
            models.db.close()
        if TEST_QUEUE == "redis":
            try:
                self.use()
                job_runtime.huey.storage.flush_all()
            except Exception:
                pass
        if self.postgres_database:
            self._drop_postgres_database()

    # -- PostgreSQL: a database of the shop's own -------------------------------

    def _create_postgres_database(self):
        import psycopg

        self.postgres_database = f"marketplace_shop_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.postgres_database}"')
        self.environ["DATABASE_URL"] = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/" + self.postgres_database

    def _drop_postgres_database(self):
        import psycopg

        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.postgres_database}" WITH (FORCE)')

    # -- what the shop wrote ------------------------------------------------------

    @property
    def mails(self):
        return self.env.mails

    def emailed_link(self, address, subject, path):
        """The link to `path` in the newest mail to `address` with `subject`, once the consumer has sent it."""
        def found():
            mails = [m for m in self.mails if m["To"] == address and m["Subject"] == subject]
            return mails[-1] if mails else None

        wait_for(found, timeout=30, message=f"the mail {subject!r} to {address}")
        return re.search(r"https?://[^/\s]+" + path + r"\S+", found().get_content()).group(0)


@contextmanager
def running_shop(data_dir, settings=None, before_serving=None):
    shop = LiveShop(data_dir, settings)
    try:
        yield shop.start(before_serving)
    finally:
        shop.stop()


@pytest.fixture(scope="module")
@marks_its_tests("consumer")
def shop(request, tmp_path_factory):
    """One shop for the module; a module may set SHOP_SETTINGS = {...} for its settings."""
    need_chromium()
    settings = getattr(request.module, "SHOP_SETTINGS", None)
    with running_shop(tmp_path_factory.mktemp("shop") / "data", settings) as live:
        yield live


def shop_environment(shop):
    """The app_env of a browser test: this process looks at the module's shop, not at a
    database of the test's own (use `yield from` in the file's `app_env` fixture)."""
    shop.use()
    yield shop.env
    if not models.db.is_closed():
        models.db.close()


# ---------------------------------------------------------------------------
# The browser
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
@marks_its_tests("browser")
def browser():
    """Debian's chromium, started once for the module (Playwright cannot download browsers here).

    Module scope: a module's chromium stops before the next module's starts, since two
    Playwright instances may not run at once in one process.
    """
    need_chromium()
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()
    playwright.stop()


class Visitor:
    """One person's browser window on the shop: a context of its own (cookies) and a page."""

    def __init__(self, browser, base_url, viewport=DESKTOP):
        self.base_url = base_url
        self.context = browser.new_context(viewport=viewport, base_url=base_url, accept_downloads=True)
        self.context.set_default_timeout(15000)
        self.page = self.context.new_page()
        self.errors = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))

    def _console(self, message):
        if message.type != "error":
            return
        source = message.location.get("url")
        # A refusal or error page is a 4xx document on purpose (the tests check its status);
        # anything else that fails to load (a script, an image, a poll) is a fault.
        if message.text.startswith("Failed to load resource") and source == self.page.url:
            return
        self.errors.append(f"console: {message.text} ({source} on {self.page.url})")

    def go(self, path):
        """Open `path`; returns the response of the page's main request."""
        return self.page.goto(path)

    def log_in(self, user_or_email, password=PASSWORD):
        email = getattr(user_or_email, "email", user_or_email)
        self.go("/login")
        self.page.fill("#f-email", email)
        self.page.fill("#f-password", password)
        with self.page.expect_navigation():
            self.page.click("form[action='/login'] button[type=submit]")
        assert "/login" not in self.page.url, self.text("main")
        return self

    def follow(self, target):
        """Click a link or a submit button (a selector or a Locator) and wait for the new page."""
        with self.page.expect_navigation():
            if isinstance(target, str):
                self.page.click(target)
            else:
                target.click()

    def text(self, selector="main"):
        return self.page.inner_text(selector)

    def flash(self):
        """The page's flash message; a page without one fails with what it shows instead."""
        # Not the reminder to confirm one's email address, which stands above every page.
        found = self.page.locator(".flash:not(.verify-reminder)")
        if not found.count():
            raise AssertionError(f"no flash message on {self.page.url}: {self.text()[:600]}")
        return found.first.inner_text()

    def header(self):
        return self.page.inner_text("header.site-header")

    def close(self):
        self.context.close()


@pytest.fixture
def visit(request, browser, shop):
    """visit(user=None, viewport=DESKTOP) -> a Visitor on the shop, logged in as `user` if given.

    When the test fails, the shop's web and consumer logs are printed with the report.
    """
    opened = []

    def open_window(user=None, viewport=DESKTOP, password=PASSWORD):
        visitor = Visitor(browser, shop.url, viewport)
        opened.append(visitor)
        if user is not None:
            visitor.log_in(user, password)
        return visitor

    yield open_window
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        print(shop.logs())
    errors = [error for visitor in opened for error in visitor.errors]
    for visitor in opened:
        visitor.close()
    assert errors == [], "the pages reported errors:\n" + "\n".join(errors)


# ---------------------------------------------------------------------------
# What a phone user meets
# ---------------------------------------------------------------------------


def no_horizontal_scroll(page):
    """True when the page is no wider than the window (nothing to scroll sideways)."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def overflowing_elements(page):
    """Elements that stick out past the window's right edge, named for the failure message."""
    return page.evaluate("""() => {
        const width = window.innerWidth, found = [];
        for (const el of document.querySelectorAll('body *')) {
            const box = el.getBoundingClientRect();
            if (box.width && box.right > width + 0.5) {
                found.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
                           (el.className && typeof el.className === 'string' ? '.' + el.className.trim().replace(/\\s+/g, '.') : '') +
                           ' right=' + Math.round(box.right));
            }
        }
        return found.slice(0, 8);
    }""")


def unlabelled_fields(page):
    """Form fields (not type=hidden) with neither a <label> nor aria-label/aria-labelledby."""
    return page.evaluate("""() => Array.from(document.querySelectorAll('input, select, textarea'))
        .filter(el => el.type !== 'hidden')
        .filter(el => !(el.labels && el.labels.length) &&
                      !(el.getAttribute('aria-label') || '').trim() &&
                      !(el.getAttribute('aria-labelledby') || '').trim())
        .map(el => el.outerHTML.slice(0, 120))""")


def wait_until_page_shows(visitor, selector, text, timeout=30):
    """Reload the page until an element matching `selector` contains `text` (for pages
    that do not update by themselves, while a job does its work)."""
    def showing():
        return any(text in found for found in visitor.page.locator(selector).all_inner_texts())

    def reloaded_and_showing():
        visitor.page.reload()
        return showing()

    if not showing():
        wait_for(reloaded_and_showing, timeout=timeout, interval=0.3,
                 message=f"{text!r} in {selector} of {visitor.page.url}")


def read_download(download):
    """The bytes of a Playwright download."""
    return Path(download.path()).read_bytes()
