"""The shop's job figures: its periodic pruning keeps them, and Prometheus' /metrics
serves them. (The roll-ups themselves are tested in job_runtime/tests/test_metrics.py.)"""

import datetime
import uuid

from prometheus_client.parser import text_string_to_metric_families

from shop import config
from job_runtime.monitoring import metrics
from job_runtime.models import FailedJob, JobRecord
from models import utcnow
from job_runtime.monitoring.metrics import JobTotal
from tests.conftest import wait_for
from tests.sample_jobs import always_fail, effect_done, make_effect, slow_effect

def finished(name="make_effect", queue="default", state="completed", at=None, duration=0.2):
    """A finished record, as the runtime leaves one."""
    at = at or utcnow()
    return JobRecord.create(uuid=str(uuid.uuid4()), name=name, queue=queue, payload="[[],{}]", state=state,
                            attempts=1, finished_at=at, duration=duration, created_at=at, available_at=at)


def test_pruned_records_still_count_in_the_figures(app_env):
    app_env.reload(QUEUE_JOB_RETENTION_HOURS="1")
    now = utcnow()
    for hours in (3, 2):
        finished(at=now - datetime.timedelta(hours=hours))
    import tasks

    tasks.prune_job_records.run_now()  # rolls up before it prunes
    assert JobRecord.select().where(JobRecord.name == "make_effect").count() == 0
    assert metrics.summary(now - datetime.timedelta(days=1))["completed"] == 2
    assert JobTotal.get(JobTotal.name == "make_effect").completed == 2


# ---------------------------------------------------------------------------
# /metrics
# ---------------------------------------------------------------------------


def scrape(client, **kwargs):
    response = client.get("/metrics", **kwargs)
    families = {f.name: f for f in text_string_to_metric_families(response.text)}
    return response, families


def value(families, name, sample_name=None, **labels):
    family = families[name]
    for sample in family.samples:
        if sample.name == (sample_name or name) and all(sample.labels.get(k) == v for k, v in labels.items()):
            return sample.value
    raise AssertionError(f"no sample {sample_name or name} {labels}")


def test_metrics_show_depth_age_counters_histogram_and_failed_store(client, app_env):
    import job_runtime

    make_effect.dispatch("a")
    make_effect.dispatch("b")
    always_fail.dispatch("c")
    job_runtime.huey.immediate = False  # what follows waits for a consumer that never comes
    waiting = make_effect.s("later-1").on_queue("low").dispatch()
    make_effect.s("later-2").on_queue("low").dispatch()
    make_effect.s("tomorrow").delay(86400).dispatch()
    JobRecord.update(available_at=utcnow() - datetime.timedelta(seconds=90)).where(
        JobRecord.uuid == waiting).execute()
    response, families = scrape(client)
    assert response.content_type.startswith("text/plain") and "version=" in response.headers["Content-Type"]
    assert value(families, "marketplace_queue_depth", queue="low") == 2
    assert value(families, "marketplace_queue_depth", queue="high") == 0
    assert value(families, "marketplace_queue_scheduled_jobs", queue="default") == 1
    assert 89 <= value(families, "marketplace_queue_oldest_pending_age_seconds", queue="low") < 200
    assert value(families, "marketplace_jobs_processed", "marketplace_jobs_processed_total",
                 job="make_effect", queue="default") == 2
    assert value(families, "marketplace_jobs_failed", "marketplace_jobs_failed_total", job="always_fail") == 1
    assert value(families, "marketplace_jobs_failed", "marketplace_jobs_failed_total", job="make_effect") == 0
    histogram = families["marketplace_job_duration_seconds"]
    assert histogram.type == "histogram"
    assert value(families, "marketplace_job_duration_seconds", "marketplace_job_duration_seconds_count",
                 job="make_effect") == 2
    assert value(families, "marketplace_job_duration_seconds", "marketplace_job_duration_seconds_bucket",
                 job="make_effect", le="+Inf") == 2
    assert value(families, "marketplace_job_duration_seconds", "marketplace_job_duration_seconds_bucket",
                 job="make_effect", le="300.0") == 2
    assert value(families, "marketplace_failed_jobs_stored", queue="default") == 1
    assert value(families, "marketplace_workers_alive") == 0


def test_counters_do_not_change_when_the_roll_up_moves(client):
    for key in ("a", "b", "c"):
        make_effect.dispatch(key)
    _, before = scrape(client)
    assert JobTotal.select().count() == 0  # so far the jobs are in the live tail
    metrics.roll_up(utcnow() + datetime.timedelta(minutes=3))  # as the periodic job will, later
    assert JobTotal.get().completed == 3
    _, after = scrape(client)
    for family in ("marketplace_jobs_processed", "marketplace_job_duration_seconds"):
        def samples(families):
            return sorted((s.name, sorted(s.labels.items()), s.value) for s in families[family].samples)

        assert samples(before) == samples(after)


def test_metrics_need_the_token_when_one_is_set(client, app_env):
    app_env.reload(METRICS_TOKEN="s3cret-token-for-prometheus")
    response = client.get("/metrics", expect_errors=True)
    assert response.status_int == 401 and response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "marketplace_queue_depth" not in response.text
    wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"}, expect_errors=True)
    assert wrong.status_int == 401
    right, families = scrape(client, headers={"Authorization": "Bearer s3cret-token-for-prometheus"},
                             extra_environ={"REMOTE_ADDR": "203.0.113.9"})
    assert right.status_int == 200 and "marketplace_queue_depth" in families


def test_without_a_token_metrics_answer_only_on_loopback(client):
    assert client.get("/metrics", extra_environ={"REMOTE_ADDR": "::1"}).status_int == 200
    remote = client.get("/metrics", extra_environ={"REMOTE_ADDR": "203.0.113.9"}, expect_errors=True)
    assert remote.status_int == 403 and "METRICS_TOKEN" in remote.text
    # Through nginx on the same machine: the proxy's headers name the real visitor.
    proxied = client.get("/metrics", headers={"X-Real-IP": "203.0.113.9"}, expect_errors=True)
    assert proxied.status_int == 403
    forwarded = client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"}, expect_errors=True)
    assert forwarded.status_int == 403
    assert config.METRICS_TOKEN is None


def test_metrics_from_a_real_consumer_show_its_workers_and_jobs(client, consumer):
    process = consumer(workers=3)
    for index in range(20):
        make_effect.dispatch(f"m{index}")
    slow_effect.dispatch("slow", 0.3)
    wait_for(lambda: all(effect_done(f"m{i}") for i in range(20)) and effect_done("slow"),
             message="the jobs to run")
    wait_for(lambda: JobRecord.select().where(JobRecord.state == "completed").count() == 21,
             message="the completions to be written")
    _, families = scrape(client)
    assert value(families, "marketplace_workers_alive") == 3
    assert value(families, "marketplace_workers_alive_on_host", host=config.QUEUE_HOSTNAME) == 3
    rss = value(families, "marketplace_worker_resident_memory_bytes", pid=str(process.pid))
    assert rss > 10 * 1024 * 1024
    assert value(families, "marketplace_jobs_processed", "marketplace_jobs_processed_total",
                 job="make_effect") == 20
    assert value(families, "marketplace_job_duration_seconds", "marketplace_job_duration_seconds_bucket",
                 job="slow_effect", le="0.25") == 0
    assert value(families, "marketplace_job_duration_seconds", "marketplace_job_duration_seconds_bucket",
                 job="slow_effect", le="0.5") == 1
    assert FailedJob.select().count() == 0


def test_metrics_show_the_wait_of_the_past_hour_per_queue(client):
    now = utcnow()
    for seconds in (10, 30):
        record = finished(at=now - datetime.timedelta(minutes=5))
        JobRecord.update(available_at=record.finished_at - datetime.timedelta(seconds=seconds + 1),
                         reserved_at=record.finished_at - datetime.timedelta(seconds=1)).where(
            JobRecord.id == record.id).execute()
    response, families = scrape(client)
    assert value(families, "marketplace_queue_wait_seconds_past_hour", queue="default") == 20.0
    assert value(families, "marketplace_queue_wait_max_seconds_past_hour", queue="default") == 30.0
    assert value(families, "marketplace_queue_wait_seconds_past_hour", queue="low") == 0.0
