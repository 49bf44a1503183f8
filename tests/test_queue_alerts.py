"""Long-wait and failure-rate alerts (queue_alerts): one email per incident, again after the cool-down."""

import datetime

import pytest

import job_runtime
from shop import runtime
from shop import mail
from job_runtime.monitoring import alerts
from job_runtime import control
import tasks
from shop.errors import MailError
from job_runtime.models import JobRecord
from models import OutboundMail, utcnow
from tests.sample_jobs import always_fail, make_effect

MINUTE = datetime.timedelta(minutes=1)


@pytest.fixture
def admins(make_user):
    return [make_user("admin", email="ops@example.com"), make_user("admin", email="owner@example.com")]


def waiting_jobs(count=3, queue="default", waited=600):
    """Jobs due `waited` seconds ago that no worker has taken."""
    job_runtime.huey.immediate = False
    runtime.setup_job_runtime()
    uuids = [make_effect.s(f"wait-{queue}-{i}").on_queue(queue).dispatch() for i in range(count)]
    JobRecord.update(available_at=utcnow() - datetime.timedelta(seconds=waited)).where(
        JobRecord.uuid.in_(uuids)).execute()
    return uuids


def subjects(app_env):
    return [(m["To"], m["Subject"]) for m in app_env.mails]


def test_a_long_wait_mails_every_admin_once_per_incident(app_env, admins):
    app_env.reload(ALERT_WAIT_SECONDS="120", ALERT_COOLDOWN_MINUTES="30")
    waiting_jobs(waited=300)
    now = utcnow()
    sent = alerts.check(now)
    assert [a["kind"] for a in sent] == ["wait"] and sent[0]["queue"] == "default"
    assert subjects(app_env) == [("ops@example.com", "[Marketplace] Long wait on the default queue"),
                                 ("owner@example.com", "[Marketplace] Long wait on the default queue")]
    body = app_env.mails[0].get_content()
    assert "Jobs on the default queue have waited 5 min" in body and "3 waiting, 0 worker(s)" in body
    assert "http://127.0.0.1:8080/admin/queue" in body
    # Still waiting a minute later, and ten: nothing new inside the cool-down.
    assert alerts.check(now + MINUTE) == []
    assert alerts.check(now + 10 * MINUTE) == []
    assert len(app_env.mails) == 2
    # Still waiting after the cool-down: the admins hear of it again.
    assert [a["kind"] for a in alerts.check(now + 31 * MINUTE)] == ["wait"]
    assert len(app_env.mails) == 4


def test_a_wait_that_clears_and_comes_back_within_the_cool_down_is_not_mailed_again(app_env, admins):
    uuids = waiting_jobs(count=1, waited=600)
    now = utcnow()
    assert len(alerts.check(now)) == 1
    JobRecord.update(state="completed", finished_at=now).where(JobRecord.uuid.in_(uuids)).execute()
    assert alerts.check(now + MINUTE) == []  # the incident is over
    waiting_jobs(count=1, waited=600)
    assert alerts.check(now + 5 * MINUTE) == []  # back, but within the cool-down
    assert len(app_env.mails) == 2
    assert len(alerts.check(now + 31 * MINUTE)) == 1
    assert len(app_env.mails) == 4


def test_short_waits_and_paused_queues_raise_no_alert(app_env, admins):
    app_env.reload(ALERT_WAIT_SECONDS="120")
    waiting_jobs(queue="default", waited=60)
    waiting_jobs(queue="low", waited=900)
    control.pause("low")  # an admin paused it: its wait is on purpose
    assert alerts.check() == [] and app_env.mails == []


def test_each_queue_is_its_own_incident(app_env, admins):
    waiting_jobs(queue="default", waited=600)
    now = utcnow()
    alerts.check(now)
    waiting_jobs(queue="high", waited=600)
    sent = alerts.check(now + MINUTE)
    assert [(a["kind"], a["queue"]) for a in sent] == [("wait", "high")]
    assert len(app_env.mails) == 4


def test_a_jump_in_the_failure_rate_is_mailed_once(app_env, admins):
    app_env.reload(ALERT_FAILURE_RATE="20")
    for index in range(8):
        make_effect.dispatch(f"ok-{index}")
    for index in range(3):
        always_fail.dispatch(f"bad-{index}")
    now = utcnow()
    sent = alerts.check(now)
    assert [(a["kind"], a["queue"]) for a in sent] == [("failure-rate", "default")]
    assert sent[0]["value"] == 27.3
    message = app_env.mails[0]
    assert message["Subject"] == "[Marketplace] Jobs failing on the default queue"
    assert "27% of the jobs on the default queue failed in the last 5 minutes (3 of 11" in message.get_content()
    assert alerts.check(now + MINUTE) == []
    assert len(app_env.mails) == 2


def test_a_few_failures_among_few_jobs_are_no_incident(app_env, admins):
    app_env.reload(ALERT_FAILURE_RATE="20")
    make_effect.dispatch("ok")
    always_fail.dispatch("bad")  # 50%, but of two jobs
    assert alerts.check() == []
    for index in range(20):
        make_effect.dispatch(f"fine-{index}")
    always_fail.dispatch("bad-2")  # 2 of 23: under the limit
    assert alerts.check() == []


def test_a_check_that_crashes_while_mailing_sends_each_mail_once(app_env, admins, monkeypatch):
    waiting_jobs(waited=600)
    real_send = mail.send
    calls = {"n": 0}

    def flaky_send(key, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise MailError("SMTP 127.0.0.1:25: connection refused")
        return real_send(key, *args, **kwargs)

    monkeypatch.setattr(mail, "send", flaky_send)
    now = utcnow()
    with pytest.raises(MailError):
        alerts.check(now)
    assert len(app_env.mails) == 1
    # The job's retry (or the next minute's check) finishes the same alert, even once the wait is over.
    JobRecord.update(state="completed", finished_at=now).execute()
    sent = alerts.check(now + MINUTE)
    assert [a["kind"] for a in sent] == ["wait"]
    assert sorted(to for to, _ in subjects(app_env)) == ["ops@example.com", "owner@example.com"]
    assert OutboundMail.select().count() == 2
    assert alerts.check(now + 2 * MINUTE) == []


def test_the_periodic_job_runs_the_check(app_env, admins):
    waiting_jobs(waited=600)
    # Due every minute: Huey's scheduler dispatches it whatever the time.
    due = {task.name for task in job_runtime.huey.read_periodic(datetime.datetime(2025, 3, 14, 12, 34))}
    assert {"periodic:check_queue_alerts", "periodic:roll_up_job_metrics"} <= due
    tasks.check_queue_alerts.run_now()
    assert len(app_env.mails) == 2


def test_the_dashboard_shows_conditions_that_hold(client, login_as, admins):
    waiting_jobs(waited=600)
    login_as("admin")
    page = client.get("/admin/queue")
    banner = page.html.select_one(".queue-alert")
    assert banner is not None and "Long wait" in banner.text and "default queue have waited 10 min" in banner.text
