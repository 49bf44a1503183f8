"""Long-wait and failure-rate alerts (monitoring.alerts): one notice per incident,
again after the cool-down, through the notifier the application set up.
(How the shop mails its admins is tested in the shop's tests.)"""

import datetime

import pytest

import job_runtime
from job_runtime import control
from job_runtime.models import JobRecord, utcnow
from job_runtime.monitoring import alerts
from job_runtime.tests.sample_jobs import always_fail, make_effect

MINUTE = datetime.timedelta(minutes=1)


@pytest.fixture
def notices(runtime):
    """The notifier's notices (subject, text), as sent."""
    return runtime.notifier


def waiting_jobs(runtime, count=3, queue="default", waited=600):
    """Jobs due `waited` seconds ago that no worker has taken."""
    job_runtime.huey.immediate = False
    runtime.setup()
    uuids = [make_effect.s(f"wait-{queue}-{i}").on_queue(queue).dispatch() for i in range(count)]
    JobRecord.update(available_at=utcnow() - datetime.timedelta(seconds=waited)).where(
        JobRecord.uuid.in_(uuids)).execute()
    return uuids


def subjects(notifier):
    return [subject for subject, _ in notifier.notices]


def test_a_long_wait_is_notified_once_per_incident(runtime, notices):
    runtime.reload(alert_wait_seconds=120, alert_cooldown_minutes=30)
    waiting_jobs(runtime, waited=300)
    now = utcnow()
    sent = alerts.check(now)
    assert [a["kind"] for a in sent] == ["wait"] and sent[0]["queue"] == "default"
    assert subjects(notices) == ["[Sample shop] Long wait on the default queue"]
    text = notices.notices[0][1]
    assert "Jobs on the default queue have waited 5 min" in text and "3 waiting, 0 worker(s)" in text
    assert "http://127.0.0.1:8080/jobs" in text and "http://127.0.0.1:8080/jobs/failed" in text
    # Still waiting a minute later, and ten: nothing new inside the cool-down.
    assert alerts.check(now + MINUTE) == []
    assert alerts.check(now + 10 * MINUTE) == []
    assert len(notices.calls) == 1
    # Still waiting after the cool-down: it is notified again, as a new notice.
    assert [a["kind"] for a in alerts.check(now + 31 * MINUTE)] == ["wait"]
    assert len(notices.calls) == 2 and len(notices.notices) == 2


def test_a_wait_that_clears_and_comes_back_within_the_cool_down_is_not_notified_again(runtime, notices):
    uuids = waiting_jobs(runtime, count=1, waited=600)
    now = utcnow()
    assert len(alerts.check(now)) == 1
    JobRecord.update(state="completed", finished_at=now).where(JobRecord.uuid.in_(uuids)).execute()
    assert alerts.check(now + MINUTE) == []  # the incident is over
    waiting_jobs(runtime, count=1, waited=600)
    assert alerts.check(now + 5 * MINUTE) == []  # back, but within the cool-down
    assert len(notices.notices) == 1
    assert len(alerts.check(now + 31 * MINUTE)) == 1
    assert len(notices.notices) == 2


def test_short_waits_and_paused_queues_raise_no_alert(runtime, notices):
    runtime.reload(alert_wait_seconds=120)
    waiting_jobs(runtime, queue="default", waited=60)
    waiting_jobs(runtime, queue="low", waited=900)
    control.pause("low")  # someone paused it: its wait is on purpose
    assert alerts.check() == [] and notices.calls == []


def test_each_queue_is_its_own_incident(runtime, notices):
    waiting_jobs(runtime, queue="default", waited=600)
    now = utcnow()
    alerts.check(now)
    waiting_jobs(runtime, queue="high", waited=600)
    sent = alerts.check(now + MINUTE)
    assert [(a["kind"], a["queue"]) for a in sent] == [("wait", "high")]
    assert subjects(notices) == ["[Sample shop] Long wait on the default queue",
                                 "[Sample shop] Long wait on the high queue"]


def test_a_jump_in_the_failure_rate_is_notified_once(runtime, notices):
    runtime.reload(alert_failure_rate=20)
    for index in range(8):
        make_effect.dispatch(f"ok-{index}")
    for index in range(3):
        always_fail.dispatch(f"bad-{index}")
    now = utcnow()
    sent = alerts.check(now)
    assert [(a["kind"], a["queue"]) for a in sent] == [("failure-rate", "default")]
    assert sent[0]["value"] == 27.3
    subject, text = notices.notices[0]
    assert subject == "[Sample shop] Jobs failing on the default queue"
    assert "27% of the jobs on the default queue failed in the last 5 minutes (3 of 11" in text
    assert alerts.check(now + MINUTE) == []
    assert len(notices.calls) == 1


def test_a_few_failures_among_few_jobs_are_no_incident(runtime, notices):
    runtime.reload(alert_failure_rate=20)
    make_effect.dispatch("ok")
    always_fail.dispatch("bad")  # 50%, but of two jobs
    assert alerts.check() == []
    for index in range(20):
        make_effect.dispatch(f"fine-{index}")
    always_fail.dispatch("bad-2")  # 2 of 23: under the limit
    assert alerts.check() == []


def test_a_check_that_crashes_while_notifying_sends_the_same_notice_again(runtime, notices):
    waiting_jobs(runtime, waited=600)
    notices.fail_on = {1}
    now = utcnow()
    with pytest.raises(ConnectionError):
        alerts.check(now)
    assert notices.notices == []
    # The job's retry (or the next minute's check) finishes the same alert, even once the wait is over.
    JobRecord.update(state="completed", finished_at=now).execute()
    sent = alerts.check(now + MINUTE)
    assert [a["kind"] for a in sent] == ["wait"]
    (first_key, *_), (second_key, *_) = notices.calls
    assert first_key == second_key  # keyed by the decision: a notifier that remembers keys sends it once
    assert len(notices.notices) == 1
    assert alerts.check(now + 2 * MINUTE) == []


def test_without_a_notifier_an_alert_is_logged(runtime, caplog):
    waiting_jobs(runtime, waited=600)
    job_runtime.setup(runtime.database, runtime.settings)
    sent = alerts.check()
    assert [a["kind"] for a in sent] == ["wait"]
    assert "no notifier is set up" in caplog.text


def test_a_deep_queue_is_notified_once_per_incident_and_the_periodic_check_leaves_it(runtime, notices):
    from job_runtime import stats
    from job_runtime.monitoring import conditions

    runtime.reload(alert_cooldown_minutes=30)
    waiting_jobs(runtime, count=4, waited=5)
    limits = {"default": 3, "high": 10}
    now = utcnow()
    over = conditions.depth(stats.workload(), limits)
    assert [(c["queue"], c["value"], c["threshold"]) for c in over] == [("default", 4, 3)]
    assert [a["queue"] for a in alerts.report(over, now)] == ["default"]
    assert subjects(notices) == ["[Sample shop] Too many jobs waiting on the default queue"]
    assert "4 jobs are waiting on the default queue (the limit is 3)" in notices.notices[0][1]
    assert "this queue's depth again for 30 minutes" in notices.notices[0][1]
    assert alerts.report(over, now + MINUTE) == [] and alerts.check(now + MINUTE) == []
    assert len(notices.notices) == 1
    assert [a["queue"] for a in alerts.report(over, now + 31 * MINUTE)] == ["default"]
    assert conditions.depth(stats.workload(), {"default": 4}) == []
