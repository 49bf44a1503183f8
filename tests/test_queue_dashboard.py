"""The queue dashboard (/admin/queue): what an admin sees and every action, with real jobs."""

import datetime
import json
import re
import uuid

import pytest

from shop import config
from shop import runtime
from job_runtime.monitoring import charts as queue_charts
from job_runtime import control as queue_control
from job_runtime.monitoring import dashboard as queue_dashboard
from job_runtime.monitoring import formatting as queue_format
from job_runtime.flow import batch, chain
from job_runtime.models import Batch, FailedJob, JobRecord, WorkerRecord
from models import utcnow
from tests.catalog_helpers import form_for
from tests.conftest import login, wait_for
from tests.sample_jobs import (
    always_fail,
    effect_done,
    fail_first,
    failing_step,
    make_effect,
    secret_effect,
    slow_effect,
    step,
)

PAGES = ["/admin/queue", "/admin/queue/stats.json", "/admin/queue/jobs", "/admin/queue/jobs/{uuid}",
         "/admin/queue/failed", "/admin/queue/failed/{failed_id}", "/admin/queue/batches",
         "/admin/queue/batches.json", "/admin/queue/batches/{batch_id}", "/admin/queue/chains",
         "/admin/queue/chains/{chain_id}", "/admin/queue/metrics"]
ACTIONS = ["/admin/queue/failed/{failed_id}/retry", "/admin/queue/failed/{failed_id}/forget",
           "/admin/queue/failed/retry-all", "/admin/queue/failed/flush", "/admin/queue/queues/default/pause",
           "/admin/queue/queues/default/continue", "/admin/queue/batches/{batch_id}/cancel",
           "/admin/queue/jobs/{uuid}/delete", "/admin/queue/jobs/{uuid}/run-now"]


def some_of_everything():
    """A finished job, a failed one, a batch still waiting and a chain; returns the ids for URLs."""
    import job_runtime
    from shop import runtime

    job_uuid = make_effect.dispatch("visible")
    always_fail.dispatch("doomed")
    chain_id = chain([step.s("c1"), step.s("c2")]).dispatch()
    job_runtime.huey.immediate = False  # the batch's jobs wait: no consumer runs in these tests
    runtime.setup_job_runtime()
    batch_id = batch([step.s("b1"), step.s("b2")], name="covers").dispatch()
    return {"uuid": job_uuid, "failed_id": FailedJob.get().id, "batch_id": batch_id, "chain_id": chain_id}


def admin_page(client, login_as, url="/admin/queue"):
    login_as("admin")
    return client.get(url)


def text_of(node):
    return " ".join(node.get_text(" ").split())


# ---------------------------------------------------------------------------
# Who may see and do what
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", PAGES)
def test_queue_pages_are_for_admins_only(client, login_as, path):
    url = path.format(**some_of_everything())
    response = client.get(url)
    assert response.status_int == 303 and "/login?next=" in response.headers["Location"]
    for role in ("customer", "seller"):
        client.reset()
        login_as(role)
        denied = client.get(url, expect_errors=True)
        assert denied.status_int == 403
        assert "always_fail" not in denied.text and "doomed" not in denied.text
    client.reset()
    login_as("admin")
    assert client.get(url).status_int == 200


@pytest.mark.parametrize("path", ACTIONS)
def test_queue_actions_check_role_and_csrf(client, login_as, make_user, path):
    ids = some_of_everything()
    url = path.format(**ids)
    token = form_for(client.get("/login"), "/login")["csrf_token"].value
    response = client.post(url, {"csrf_token": token})
    assert response.status_int == 303 and "/login?next=" in response.headers["Location"]
    for role in ("customer", "seller"):
        client.reset()
        login(client, make_user(role))
        token = form_for(client.get("/notifications"), "/logout")["csrf_token"].value
        assert client.post(url, {"csrf_token": token}, expect_errors=True).status_int == 403
    client.reset()
    login_as("admin")
    assert client.post(url, {}, expect_errors=True).status_int == 403
    assert client.post(url, {"csrf_token": token}, expect_errors=True).status_int == 403  # another session's
    # Nothing changed.
    assert FailedJob.select().count() == 1
    assert JobRecord.get(JobRecord.uuid == FailedJob.get().uuid).state == "failed"
    assert queue_control.paused_queues() == frozenset()
    assert Batch.get_by_id(ids["batch_id"]).cancelled_at is None


def test_metrics_and_json_are_not_cached_and_pages_have_no_inline_code(client, login_as):
    some_of_everything()
    page = admin_page(client, login_as)
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    scripts = page.html.select("script")
    assert scripts and all(s.get("src") for s in scripts) and not any(s.string for s in scripts)
    assert "/static/queue-live.js" in [s["src"] for s in scripts]
    assert client.get("/static/queue-live.js").status_int == 200
    for url in ("/admin/queue", "/admin/queue/jobs", "/admin/queue/failed", "/admin/queue/batches",
                "/admin/queue/chains", "/admin/queue/metrics?period=7d"):
        html = client.get(url).text
        # The policy allows no inline styles or handlers: none may be in the markup.
        assert not re.search(r"\sstyle=|\son[a-z]+=", html), url
    stats = client.get("/admin/queue/stats.json")
    assert stats.headers["Cache-Control"] == "no-store" and stats.content_type == "application/json"


# ---------------------------------------------------------------------------
# The dashboard with a real consumer
# ---------------------------------------------------------------------------


def test_dashboard_shows_a_real_consumers_jobs_workers_and_figures(client, login_as, consumer):
    process = consumer(workers=2)
    for index in range(30):
        make_effect.dispatch(f"burst-{index}")
    always_fail.dispatch("broken")
    wait_for(lambda: FailedJob.select().exists() and all(effect_done(f"burst-{i}") for i in range(30)),
             message="the jobs to run")
    slow_effect.dispatch("long-one", 30)
    wait_for(lambda: WorkerRecord.select().where(WorkerRecord.current_job_name == "slow_effect").exists(),
             timeout=15, message="a heartbeat naming the running job")
    wait_for(lambda: JobRecord.select().where(JobRecord.state == "completed").count() == 30,
             message="the completions to be written")

    page = admin_page(client, login_as)
    tiles = {text_of(t.select_one(".tile-label")): text_of(t) for t in page.html.select(".tile")}
    assert re.search(r"Jobs past hour 31\b", tiles["Jobs past hour"])
    assert re.search(r"Jobs per minute 31\b", tiles["Jobs per minute"])
    assert "Failed past 7 days 1 " in tiles["Failed past 7 days"]
    assert "Running" in tiles["Status"]
    assert tiles["Workers alive"].startswith("Workers alive 2 1 process on 1 host")
    names = [n.get_text("") for n in page.html.select(".tile-name")]  # names may wrap after an underscore
    assert names[-1] == "make_effect" and "30 runs this hour" in tiles["Busiest job"]
    assert "Slowest job" in tiles

    workload = {row["id"]: text_of(row) for row in page.html.select("table.workload tbody tr")}
    assert set(workload) == {"queue-high", "queue-default", "queue-low"}
    assert "Running" in workload["queue-default"] and "Pause" in workload["queue-default"]
    running_cell = page.html.select_one("#queue-default td[data-label=Running]")
    assert text_of(running_cell) == "1"

    workers = page.html.select("table.workers tbody tr")
    assert len(workers) == 2
    first = text_of(workers[0])
    assert config.QUEUE_HOSTNAME in first and f"pid {process.pid}" in first and "alive" in first
    assert re.search(r"\d+\.\d MB", first)
    assert any("slow_effect" in text_of(w) for w in workers)

    recent = text_of(page.html.select_one("section[data-live=recent]"))
    assert "slow_effect" in recent and "always_fail" in recent and "failed" in recent
    svg = page.html.select_one("section[data-live=charts] svg.chart-plot")
    assert svg is not None and svg.select("rect.chart-bar-ok") and svg.select("rect.chart-bar-bad")
    assert "31 jobs, 1 failed" in text_of(page.html.select_one("section[data-live=charts]"))

    data = client.get("/admin/queue/stats.json").json
    stats = data["stats"]
    assert stats["tiles"]["jobs_past_hour"] == 31 and stats["tiles"]["workers_alive"] == 2
    assert {q["name"]: q["running"] for q in stats["queues"]}["default"] == 1
    assert all(w["rss_bytes"] > 10 * 1024 * 1024 and w["pid"] == process.pid for w in stats["workers"])
    assert any(w["current_job_name"] == "slow_effect" for w in stats["workers"])
    assert stats["recent_jobs"][0]["name"] == "slow_effect" and stats["recent_jobs"][0]["state"] == "running"
    assert set(data["html"]) == {"alerts", "tiles", "workload", "charts", "workers", "batches", "recent"}
    assert "slow_effect" in data["html"]["workers"] and "Jobs past hour" in data["html"]["tiles"]
    assert data["counts"] == {"failed": 1}
    process.kill()  # rather than wait for the long job at the end of the test


def test_stale_workers_are_shown_as_stale_and_not_counted(client, login_as):
    now = utcnow()
    WorkerRecord.create(id="web1:100:Worker-1", host="web1", pid=100, consumer_pid=100, rss_bytes=80 * 1048576,
                        last_beat_at=now - datetime.timedelta(seconds=2), jobs_done=12)
    WorkerRecord.create(id="web2:200:Worker-1", host="web2", pid=200, consumer_pid=200, rss_bytes=60 * 1048576,
                        last_beat_at=now - datetime.timedelta(minutes=5))
    WorkerRecord.create(id="web3:300:Worker-1", host="web3", pid=300, consumer_pid=300,
                        last_beat_at=now, stopped_at=now)
    page = admin_page(client, login_as)
    rows = [text_of(r) for r in page.html.select("table.workers tbody tr")]
    assert len(rows) == 2
    assert "web1" in rows[0] and "alive" in rows[0] and "80.0 MB" in rows[0] and "12" in rows[0]
    assert "web2" in rows[1] and "stale" in rows[1] and "5 min ago" in rows[1]
    assert page.html.select("table.workers tr.stale")
    tile = text_of(page.html.select(".tile")[4])
    assert tile.startswith("Workers alive 1 1 process on 1 host")


def test_estimated_wait_is_pending_times_average_runtime_over_workers():
    workload = {"default": {"pending": 10, "scheduled": 2, "running": 1, "oldest_pending_seconds": 42.0},
                "low": {"pending": 5, "scheduled": 0, "running": 0, "oldest_pending_seconds": 9.0},
                "high": {"pending": 0, "scheduled": 0, "running": 0, "oldest_pending_seconds": 0.0}}
    live = [{"queues": []}, {"queues": ["default"]}]
    hour = {"default": {"avg_duration": 3.0, "processed": 7}}
    rows = {r["name"]: r for r in queue_dashboard.queue_rows(workload, {"low"}, live, hour)}
    assert rows["default"]["estimated_wait"] == 10 * 3.0 / 2 and rows["default"]["workers"] == 2
    assert rows["low"]["estimated_wait"] is None and rows["low"]["paused"]  # nothing ran on it: unknown
    assert rows["high"]["estimated_wait"] == 0.0
    assert [r["name"] for r in queue_dashboard.queue_rows(workload, set(), live, hour)] == ["high", "default", "low"]


def test_a_queue_without_workers_says_so(client, login_as):
    import job_runtime

    job_runtime.huey.immediate = False
    runtime.setup_job_runtime()
    make_effect.dispatch("waiting")
    page = admin_page(client, login_as)
    assert "no worker takes it" in text_of(page.html.select_one("#queue-default"))
    assert "Inactive" in text_of(page.html.select_one(".tile-status-inactive"))
    assert "No worker is running" in page.text


# ---------------------------------------------------------------------------
# Jobs and their details
# ---------------------------------------------------------------------------


def test_job_detail_shows_arguments_but_never_encrypted_ones(client, login_as):
    plain = make_effect.dispatch("order-1234")
    secret = secret_effect.dispatch("s", "card-4242-4242")
    page = admin_page(client, login_as, f"/admin/queue/jobs/{plain}")
    assert '"order-1234"' in page.html.select_one("pre.arguments").text
    assert "completed" in text_of(page.html.select_one(".job-title"))
    hidden = client.get(f"/admin/queue/jobs/{secret}")
    assert "4242" not in hidden.text and "encrypted: its arguments stay hidden" in hidden.text
    assert client.get("/admin/queue/jobs/not-a-job", expect_errors=True).status_int == 404


def test_failed_job_detail_shows_exception_and_traceback(client, login_as):
    job_uuid = always_fail.dispatch("doomed-order")
    page = admin_page(client, login_as, f"/admin/queue/jobs/{job_uuid}")
    failure = page.html.select_one("article.failure")
    assert "Failed after 2 attempts" in text_of(failure)
    assert "ValueError: doomed-order cannot succeed" in text_of(failure)
    assert "Traceback (most recent call last)" in failure.select_one("pre.traceback").text
    assert 'raise ValueError(f"{key} cannot succeed")' in failure.select_one("pre.traceback").text
    assert form_for(page, f"/admin/queue/failed/{FailedJob.get().id}/retry")
    # The failed-job store's own URL shows the same page.
    assert "doomed-order cannot succeed" in client.get(f"/admin/queue/failed/{FailedJob.get().id}").text


def test_jobs_list_filters_by_state_and_queue_and_pages_back(client, login_as):
    for index in range(55):
        make_effect.dispatch(f"j{index}")
    always_fail.dispatch("x")
    make_effect.s("low-one").on_queue("low").dispatch()
    page = admin_page(client, login_as, "/admin/queue/jobs")
    rows = page.html.select("table.jobs tbody tr")
    assert len(rows) == 50 and "make_effect" in text_of(rows[0]) and "low" in text_of(rows[0])
    older = page.click("Older →")
    # The rest, with the delayed failure-alert job the failure dispatched.
    assert len(older.html.select("table.jobs tbody tr")) == JobRecord.select().count() - 50 == 8
    failed = client.get("/admin/queue/jobs?state=failed")
    assert [text_of(r.select_one("td[data-label=Job] a")) for r in failed.html.select("table.jobs tbody tr")] == [
        "always_fail"]
    low = client.get("/admin/queue/jobs?queue=low")
    assert len(low.html.select("table.jobs tbody tr")) == 1
    assert "No cancelled jobs" in client.get("/admin/queue/jobs?state=cancelled").text


# ---------------------------------------------------------------------------
# Failed jobs: retry one, retry all, forget, flush
# ---------------------------------------------------------------------------


def test_retry_from_the_page_runs_the_job_again_on_a_real_consumer(client, login_as, consumer):
    consumer(workers=2)
    job_uuid = fail_first.dispatch("flaky-payment", 4)  # fails all of its 4 tries
    wait_for(lambda: FailedJob.select().exists(), timeout=30, message="the job to fail")
    page = admin_page(client, login_as, "/admin/queue/failed")
    row = text_of(page.html.select_one("table.failed tbody tr"))
    assert "fail_first" in row and "RuntimeError : failure 4 of flaky-payment" in row
    result = form_for(page, f"/admin/queue/failed/{FailedJob.get().id}/retry").submit().follow()
    assert "is back on the default queue" in result.text
    wait_for(lambda: effect_done("flaky-payment"), timeout=20, message="the retried job to succeed")
    wait_for(lambda: JobRecord.get(JobRecord.uuid == job_uuid).state == "completed")
    detail = client.get(f"/admin/queue/jobs/{job_uuid}")
    assert "completed" in text_of(detail.html.select_one(".job-title")) and "article" not in str(
        detail.html.select_one("article.failure"))
    assert "No failed jobs" in client.get("/admin/queue/failed").text


def fail_three():
    for key in ("one", "two", "three"):
        always_fail.dispatch(key)
    return list(FailedJob.select().order_by(FailedJob.id))


def test_retry_all_from_the_page(client, login_as, monkeypatch):
    fail_three()
    monkeypatch.setattr("tests.sample_jobs.always_fail.func", lambda key: make_effect.run_now(key))
    page = admin_page(client, login_as, "/admin/queue/failed")
    assert len(page.html.select("table.failed tbody tr")) == 3
    result = form_for(page, "/admin/queue/failed/retry-all").submit().follow()
    assert "3 failed job(s) are back on their queues" in result.text
    assert FailedJob.select().count() == 0
    assert all(effect_done(key) for key in ("one", "two", "three"))
    assert JobRecord.select().where(JobRecord.state == "completed").count() == 3


def test_retry_all_of_one_queue_leaves_the_others(client, login_as):
    fail_three()
    always_fail.s("low-failure").on_queue("low").dispatch()
    page = admin_page(client, login_as, "/admin/queue/failed?queue=low")
    assert len(page.html.select("table.failed tbody tr")) == 1
    form_for(page, "/admin/queue/failed/retry-all").submit()
    # The low job failed again (it always does), the default ones were not touched.
    assert FailedJob.select().where(FailedJob.queue == "default").count() == 3
    assert JobRecord.get(JobRecord.queue == "low").attempts == 2


def test_forget_and_flush_from_the_page(client, login_as):
    first, second, third = fail_three()
    page = admin_page(client, login_as, "/admin/queue/failed")
    result = form_for(page, f"/admin/queue/failed/{first.id}/forget").submit().follow()
    assert f"Failed job #{first.id} is forgotten" in result.text
    assert FailedJob.select().count() == 2
    assert JobRecord.get(JobRecord.uuid == first.uuid).state == "failed"  # the record stays as history
    result = form_for(result, "/admin/queue/failed/flush").submit().follow()
    assert "2 failed job(s) deleted" in result.text and FailedJob.select().count() == 0
    assert "No failed jobs" in result.text
    # A stale form (the job is already gone) explains itself instead of failing.
    gone = form_for(page, f"/admin/queue/failed/{second.id}/retry").submit().follow()
    assert "no longer in the store" in gone.text


# ---------------------------------------------------------------------------
# Pause and continue, batches, chains
# ---------------------------------------------------------------------------


def test_pause_and_continue_a_queue_from_the_page(client, login_as, consumer):
    page = admin_page(client, login_as)
    result = form_for(page, "/admin/queue/queues/default/pause").submit().follow()
    assert "The default queue is paused" in result.text
    assert "Paused" in text_of(result.html.select_one("#queue-default"))
    assert form_for(result, "/admin/queue/queues/default/continue")
    consumer(workers=1)
    held = make_effect.dispatch("held")
    make_effect.s("probe").on_queue("low").dispatch()
    wait_for(lambda: effect_done("probe"), message="the low queue's job")
    # The default job came first in priority, yet only the low one ran.
    assert JobRecord.get(JobRecord.uuid == held).state == "pending" and not effect_done("held")
    page = client.get("/admin/queue")
    assert text_of(page.html.select_one("#queue-default td[data-label=Pending]")) == "1"
    assert "paused: default" in text_of(page.html.select_one(".tile-status-running"))
    result = form_for(page, "/admin/queue/queues/default/continue").submit().follow()
    assert "The default queue runs again" in result.text
    wait_for(lambda: effect_done("held"), message="the held job after continue")
    assert queue_control.paused_queues() == frozenset()


def test_cancel_a_batch_from_the_page(client, login_as, consumer):
    import job_runtime

    job_runtime.huey.immediate = False
    runtime.setup_job_runtime()
    batch_id = batch([step.s(f"s{i}") for i in range(4)], name="thumbnails").dispatch()
    page = admin_page(client, login_as, "/admin/queue/batches")
    item = text_of(page.html.select_one(".batch"))
    assert "thumbnails" in item and "running" in item and "0%" in item and "0 of 4 done" in item
    assert page.html.select_one(".batch progress")["value"] == "0"
    result = form_for(page, f"/admin/queue/batches/{batch_id}/cancel").submit().follow()
    assert "is cancelled" in result.text
    assert "cancelling" in text_of(result.html.select_one(".batch"))
    consumer(workers=2)
    wait_for(lambda: Batch.get_by_id(batch_id).finished_at is not None, message="the batch to wind down")
    assert not any(effect_done(f"s{i}") for i in range(4))
    page = client.get(f"/admin/queue/batches/{batch_id}")
    assert "cancelled" in text_of(page.html.select_one(".batch")) and "100%" in text_of(page.html.select_one(".batch"))
    assert len(page.html.select("table.jobs tbody tr")) == 4 and "Cancel batch" not in page.text
    live = client.get("/admin/queue/batches.json").json
    assert live["batches"][0]["state"] == "cancelled" and "thumbnails" in live["html"]["batch-list"]


def test_batch_progress_and_chain_steps(client, login_as):
    batch([step.s("a"), failing_step.s("b"), step.s("c")], name="mixed", allow_failures=True).dispatch()
    done = chain([step.s("x1"), step.s("x2"), step.s("x3")]).dispatch()
    broken = chain([step.s("y1"), failing_step.s("y2"), step.s("y3")]).dispatch()
    page = admin_page(client, login_as, "/admin/queue/batches")
    item = text_of(page.html.select_one(".batch"))
    assert "mixed" in item and "100%" in item and "3 of 3 done · 1 failed" in item and "failed" in item
    chains = {text_of(r.select_one("td[data-label=Chain]")): text_of(r) for r in
              client.get("/admin/queue/chains").html.select("table.chains tbody tr")}
    assert "step 3 of 3" in chains[done[:8]] and "completed" in chains[done[:8]]
    assert "step 2 of 3" in chains[broken[:8]] and "failing_step" in chains[broken[:8]]
    assert "failed" in chains[broken[:8]]
    steps = client.get(f"/admin/queue/chains/{broken}").html.select(".chain-step")
    assert [text_of(s.select_one("a")) for s in steps] == ["step", "failing_step"]
    assert "step y2 broke" in text_of(steps[1])


# ---------------------------------------------------------------------------
# Metrics over time
# ---------------------------------------------------------------------------


def test_metrics_page_per_job_and_per_queue(client, login_as):
    for index in range(4):
        make_effect.dispatch(f"m{index}")
    make_effect.s("low").on_queue("low").dispatch()
    always_fail.dispatch("f")
    page = admin_page(client, login_as, "/admin/queue/metrics")
    tables = page.html.select("table.metrics-table")
    queues = {text_of(r.select_one("td")): text_of(r) for r in tables[0].select("tbody tr")}
    assert queues["default"].startswith("default 5 1") and queues["low"].startswith("low 1 0")
    jobs = {text_of(r.select_one("td")): text_of(r) for r in tables[1].select("tbody tr")}
    assert jobs["make_effect"].startswith("make_effect 5 0") and "1 (100%)" in jobs["always_fail"]
    assert len(page.html.select("svg.chart-plot")) == 2 + 3  # throughput and runtime, then a wait per queue
    one_job = page.click("make_effect", index=0)
    assert "Throughput of job make_effect" in one_job.text and "5 jobs, 0 failed" in one_job.text
    week = client.get("/admin/queue/metrics?period=7d&queue=low")
    assert "Throughput of the low queue, per 2 hours" in week.text and "1 jobs, 0 failed" in week.text
    assert len(week.html.select("svg.chart-plot")[0].select("g")) == 84  # 7 days of 2-hour bars


def test_the_day_and_the_week_read_from_the_hours_show_what_the_minutes_give(client, login_as, monkeypatch):
    """A week of jobs across hour boundaries: each figure of the 24-hour and 7-day pages (the
    tables, the charts and their captions) is the same as when every figure is read from
    the minutes. Sums of runtimes and waits added up in another order may differ in their
    last bit, which can move the last digit of a chart's coordinate, and no more."""
    import random

    from job_runtime.monitoring import metrics

    rng = random.Random(24)
    now = utcnow()
    for _ in range(500):
        at = now - datetime.timedelta(minutes=rng.uniform(3, 8 * 1440))
        due = at - datetime.timedelta(seconds=rng.uniform(0, 90))
        state = rng.choice(("completed", "completed", "failed"))
        JobRecord.create(uuid=str(uuid.uuid4()), name=rng.choice(("timed_job", "make_effect", "mailer")),
                         queue=rng.choice(("high", "default", "low")), payload="[[],{}]", state=state,
                         attempts=1, finished_at=at, duration=rng.uniform(0.01, 30.0), created_at=due,
                         available_at=due, reserved_at=due + datetime.timedelta(seconds=rng.uniform(0, 60)))
    login_as("admin")

    def figures(url):
        """The page's tables and charts, as their markup and the numbers in it."""
        page = client.get(url)
        markup = "".join(str(node) for node in page.html.select("table.metrics-table, figure"))
        parts = re.split(r"(\d+(?:\.\d+)?)", markup)
        return parts[::2], [float(number) for number in parts[1::2]], markup

    for url in ("/admin/queue/metrics?period=24h", "/admin/queue/metrics?period=7d",
                "/admin/queue/metrics?period=7d&job=timed_job", "/admin/queue/metrics?period=24h&queue=low"):
        with monkeypatch.context() as patch:
            from_the_hours = figures(url)
            patch.setattr(metrics, "_rolled", metrics._rolled_minutes)
            from_the_minutes = figures(url)
        assert from_the_hours[0] == from_the_minutes[0], url
        assert from_the_hours[1] == pytest.approx(from_the_minutes[1], rel=0, abs=0.011), url
        assert re.search(r"\b[1-9][\d,]* jobs, ", from_the_hours[2]), url
    assert metrics.JobHour.select().count() > 0


def test_the_runtime_chart_averages_per_job_and_agrees_with_the_tables(client, login_as):
    """One slow job in one minute and nine quick ones in another: the average per job is
    (10 + 9 x 0.1) / 10 = 1.09 s, not the average of the two minutes (5.05 s)."""
    now = utcnow()
    for minutes_ago, duration, count in ((5, 10.0, 1), (3, 0.1, 9)):
        at = now - datetime.timedelta(minutes=minutes_ago)
        for _ in range(count):
            JobRecord.create(uuid=str(uuid.uuid4()), name="timed_job", queue="default", payload="[[],{}]",
                             state="completed", attempts=1, finished_at=at, duration=duration,
                             created_at=at, available_at=at)
    login_as("admin")
    for url in ("/admin/queue/metrics", "/admin/queue/metrics?period=24h",
                "/admin/queue/metrics?job=timed_job", "/admin/queue/metrics?queue=default"):
        page = client.get(url)
        runtime_chart = page.html.select("figure.chart-runtime figcaption")[0]
        assert "average 1.09 s" in text_of(runtime_chart), url
        tables = page.html.select("table.metrics-table")
        queues = {text_of(r.select_one("td")): r for r in tables[0].select("tbody tr")}
        jobs = {text_of(r.select_one("td")): r for r in tables[1].select("tbody tr")}
        for row in (queues["default"], jobs["timed_job"]):
            assert text_of(row.select_one("td[data-label='Average runtime']")) == "1.09 s", url
            assert text_of(row.select_one("td[data-label=Jobs]")) == "10", url
        assert "10 jobs, 0 failed" in text_of(page.html.select("figure.chart-throughput figcaption")[0])
    dashboard = client.get("/admin/queue")
    assert "average 1.09 s" in text_of(dashboard.html.select_one("figure.chart-runtime figcaption"))


def test_charts_and_formats():
    assert [queue_charts.nice_ceiling(v) for v in (0, 1, 3, 7, 10, 11, 240)] == [1, 1, 5, 10, 10, 20, 500]
    assert queue_format.duration(0.0042) == "4 ms" and queue_format.duration(1.254) == "1.25 s"
    assert queue_format.duration(200) == "3 min 20 s" and queue_format.duration(None) == "—"
    assert queue_format.size(83886080) == "80.0 MB"
    now = datetime.datetime(2025, 1, 1, 12, 0, 0)
    assert queue_format.ago("2025-01-01T11:55:00Z", now) == "5 min ago"
    points = [{"at": now, "completed": 3, "failed": 1, "processed": 4, "duration_sum": 2.0, "duration_count": 4,
               "avg_duration": 0.5, "duration_max": 1.0},
              {"at": now, "completed": 0, "failed": 0, "processed": 0, "duration_sum": 0.0, "duration_count": 0,
               "avg_duration": None, "duration_max": 0.0}]
    bars = queue_charts.throughput(points)
    assert bars["y_top"] == "5" and "12:00: 3 completed, 1 failed" in bars["svg"]
    assert bars["svg"].count('class="chart-bar-ok"') == 1 and bars["svg"].count('class="chart-bar-bad"') == 1
    line = queue_charts.runtime(points)
    assert line["y_top"] == "500 ms" and "average 500 ms, slowest 1.00 s" in line["svg"]
    assert line["summary"] == "average 500 ms, highest 500 ms"
    assert json.dumps(bars)  # plain values, ready for the live JSON


def test_a_scheduled_job_can_be_run_now_or_deleted_from_its_page(client, login_as):
    login_as("admin")
    soon = make_effect.s("run-me").delay(3600).dispatch()
    page = client.get(f"/admin/queue/jobs/{soon}")
    assert "Run now" in page.text and "Delete" in page.text
    page = form_for(page, f"/admin/queue/jobs/{soon}/run-now").submit().follow()
    # Immediate mode: the doorbell rung at once ran it.
    assert "The job is due now" in page.text and effect_done("run-me")
    assert JobRecord.get(JobRecord.uuid == soon).state == "completed" and "Run now" not in page.text

    never = make_effect.s("never").delay(3600).dispatch()
    page = form_for(client.get(f"/admin/queue/jobs/{never}"), f"/admin/queue/jobs/{never}/delete").submit().follow()
    assert "The job is deleted" in page.text
    record = JobRecord.get(JobRecord.uuid == never)
    assert record.state == "cancelled" and record.finished_at is not None
    response = client.post(f"/admin/queue/jobs/{never}/delete",
                           {"csrf_token": form_for(page, "/logout")["csrf_token"].value}).follow()
    assert "no longer waiting" in response.text and not effect_done("never")


def test_jobs_page_searches_by_name_tag_and_argument_and_shows_tags(client, login_as):
    from tests.sample_jobs import tagged_effect

    login_as("admin")
    tagged = tagged_effect.dispatch(42, "tag-me")
    make_effect.dispatch("plain-argument")
    secret_effect.dispatch("hidden-argument")
    page = client.get("/admin/queue/jobs", {"tag": "order:42"})
    rows = page.html.select("table.jobs tbody tr")
    assert len(rows) == 1 and "tagged_effect" in text_of(rows[0]) and "order:42" in text_of(rows[0])
    page = client.get("/admin/queue/jobs", {"name": "make_effect"})
    assert [text_of(r).split()[0] for r in page.html.select("table.jobs tbody tr")] == ["make_effect"]
    page = client.get("/admin/queue/jobs", {"q": "plain-arg"})
    assert len(page.html.select("table.jobs tbody tr")) == 1
    page = client.get("/admin/queue/jobs", {"q": "hidden-argument"})
    assert "No job matches this search." in page.text
    page = client.get(f"/admin/queue/jobs/{tagged}")
    tag_link = page.html.select_one("dd.tags a")
    assert tag_link.text == "order:42" and tag_link["href"] == "/admin/queue/jobs?tag=order%3A42"


def test_metrics_page_charts_the_wait_per_queue(client, login_as):
    from job_runtime import runner

    job_uuid = make_effect.s("waited").delay(3600).dispatch()
    # Due 40 seconds ago, taken only now: a 40-second wait.
    JobRecord.update(available_at=utcnow() - datetime.timedelta(seconds=40)).where(
        JobRecord.uuid == job_uuid).execute()
    runner.execute(job_uuid)
    make_effect.s("quick").on_queue("high").dispatch()
    page = admin_page(client, login_as, "/admin/queue/metrics")
    figures = {c.select_one("figcaption strong").text: c for c in page.html.select("figure.chart-wait")}
    assert list(figures) == ["Wait on the high queue", "Wait on the default queue", "Wait on the low queue"]
    assert "average 40" in text_of(figures["Wait on the default queue"].select_one("figcaption"))
    assert "no jobs finished" in text_of(figures["Wait on the low queue"].select_one("figcaption"))
    queues = {text_of(r.select_one("td")): text_of(r) for r in page.html.select("table.metrics-table")[0].select("tbody tr")}
    assert queues["default"].endswith("40 s 40 s")  # average and longest wait
    low = client.get("/admin/queue/metrics?queue=low")
    assert [text_of(c.select_one("figcaption strong")) for c in low.html.select("figure.chart-wait")] == [
        "Wait on the low queue"]
