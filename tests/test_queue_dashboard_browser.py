"""The queue dashboard in chromium during a burst, with a real consumer: an admin watches
depth rise and fall without reloading, sees the workers and their memory, and retries a
failed job from the page until it succeeds. Screenshots go to test-artifacts/queue/."""

import threading
import time
from pathlib import Path
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest

from job_models import FailedJob, JobRecord
from models import db
from tests.conftest import PASSWORD, free_port, need_chromium, wait_for
from tests.sample_jobs import effect_done, fail_first, slow_effect

pytestmark = [pytest.mark.browser, pytest.mark.consumer, pytest.mark.slow]

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "queue"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
BURST = 2500


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def live_server():
    """The marketplace app on a free loopback port, served by threads of this process."""
    import marketplace

    server = make_server("127.0.0.1", free_port(), marketplace.app, server_class=_ThreadingServer,
                         handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def browser():
    need_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def dispatch_burst(count, batch_size=250):
    """Dispatch `count` short jobs in quick batches, as a busy shop would."""
    for start in range(0, count, batch_size):
        with db.atomic():
            for index in range(start, min(start + batch_size, count)):
                slow_effect.dispatch(f"burst-{index}", 0.01)
    db.close()


def pending_on(page, queue="default"):
    text = page.eval_on_selector(f"#queue-{queue} td[data-label=Pending]", "cell => cell.textContent")
    return int(text.strip().replace(",", ""))


def test_an_admin_watches_a_burst_and_retries_a_failed_job(live_server, browser, consumer, make_user):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    admin = make_user("admin", email="queue-admin@example.com")
    process = consumer(workers=4)
    flaky = fail_first.dispatch("page-retry", 4)  # fails all its tries; the retry will succeed

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(f"{live_server}/login?next=/admin/queue")
    page.fill("#f-email", admin.email)
    page.fill("#f-password", PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(f"{live_server}/admin/queue")
    page.evaluate("window.__sameDocument = true")

    burst = threading.Thread(target=dispatch_burst, args=(BURST,))
    burst.start()
    seen = []
    peak_shot = False
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        seen.append(pending_on(page))
        if not peak_shot and seen[-1] >= 500:
            page.screenshot(path=str(ARTIFACTS / "dashboard-burst.png"), full_page=True)
            peak_shot = True
        if not burst.is_alive() and max(seen) > 0 and seen[-1] == 0 and all(
                effect_done(f"burst-{i}") for i in (0, BURST // 2, BURST - 1)):
            break
        page.wait_for_timeout(250)
    burst.join()
    wait_for(lambda: JobRecord.select().where(
        (JobRecord.name == "slow_effect") & (JobRecord.state == "completed")).count() == BURST,
        timeout=60, message="every burst job to complete")
    # The live section showed the depth rise and fall, through several refreshes, without a reload.
    peak = max(seen)
    assert peak >= 500 and seen[-1] == 0, seen
    assert seen.index(peak) > 0 and len(set(seen)) >= 3, seen
    assert page.evaluate("window.__sameDocument") is True
    assert "Live · updated" in page.text_content("[data-live-status]")

    # The workers, with their memory.
    wait_for(lambda: "slow_effect" in page.text_content("section[data-live=tiles]"), timeout=15,
             message="the tiles to name the busiest job")
    rows = page.locator("table.workers tbody tr")
    assert rows.count() == 4
    first = rows.first.text_content()
    assert str(process.pid) in first and " MB" in first and "alive" in first
    page.screenshot(path=str(ARTIFACTS / "dashboard-after-burst.png"), full_page=True)

    # The failed job: retried from the page, and then it succeeds.
    wait_for(lambda: FailedJob.select().where(FailedJob.uuid == flaky).exists(), timeout=60,
             message="the flaky job to fail")
    page.goto(f"{live_server}/admin/queue/failed")
    row = page.locator("table.failed tbody tr", has_text="fail_first")
    assert "failure 4 of page-retry" in row.text_content()
    page.screenshot(path=str(ARTIFACTS / "failed-jobs.png"), full_page=True)
    row.locator("button", has_text="Retry").click()
    page.wait_for_url(f"{live_server}/admin/queue/failed")
    assert "is back on the default queue" in page.text_content(".flash")
    page.goto(f"{live_server}/admin/queue/jobs/{flaky}")
    for _ in range(40):
        if "completed" in page.text_content(".job-title"):
            break
        page.wait_for_timeout(250)
        page.reload()
    assert "completed" in page.text_content(".job-title")
    assert effect_done("page-retry")
    page.screenshot(path=str(ARTIFACTS / "job-retried.png"), full_page=True)

    # The same dashboard at phone width.
    phone = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True)
    phone.context.add_cookies(page.context.cookies())
    phone.goto(f"{live_server}/admin/queue")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width}px wide on a 390px phone"
    phone.screenshot(path=str(ARTIFACTS / "dashboard-phone.png"), full_page=True)
    phone.goto(f"{live_server}/admin/queue/metrics")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    phone.screenshot(path=str(ARTIFACTS / "metrics-phone.png"), full_page=True)
    assert errors == []
