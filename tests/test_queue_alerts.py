"""The shop's queue alerts: the runtime's notices (long waits, failure rates) and the
failed-job emails go to every admin. (When an alert is due, once per incident, is
tested in the runtime's own tests, job_runtime/tests/test_alerts.py.)"""

import datetime

import pytest

import job_runtime
from shop import runtime
from shop import mail
from job_runtime.monitoring import alerts
import tasks
from shop.errors import MailError
from job_runtime import runner as job_runner
from job_runtime.models import JobRecord
from models import OutboundMail, User, utcnow
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


# ---------------------------------------------------------------------------
# Failed jobs: one email to the admins about a burst
# ---------------------------------------------------------------------------


def run_due(job_uuid):
    """Make a retried job due now and run its next attempt (the consumer's scheduler would)."""
    JobRecord.update(available_at=utcnow()).where(JobRecord.uuid == job_uuid).execute()
    job_runner.execute(job_uuid)


def test_admins_are_emailed_once_about_a_burst_of_failures(app_env, make_user):
    admin = make_user("admin")
    make_user("customer")
    for key in ("one", "two"):
        run_due(always_fail.dispatch(key))
    alert = JobRecord.get(JobRecord.name == "alert_admins_of_failures")
    assert alert.state == "pending" and alert.available_at > utcnow()  # gathers the burst first
    assert JobRecord.select().where(JobRecord.name == "alert_admins_of_failures").count() == 1
    run_due(alert.uuid)
    messages = app_env.mails
    assert len(messages) == 1
    assert messages[0]["To"] == admin.email and "2 job(s) failed" in messages[0]["Subject"]
    body = messages[0].get_content()
    assert "always_fail" in body and "ValueError: one cannot succeed" in body
    assert "marketplace queue retry" in body


def test_no_admins_no_alert_mail(app_env):
    run_due(always_fail.dispatch("quiet"))
    alert = JobRecord.get(JobRecord.name == "alert_admins_of_failures")
    run_due(alert.uuid)
    assert JobRecord.get(JobRecord.uuid == alert.uuid).state == "completed"
    assert app_env.mails == [] and not User.select().exists()
