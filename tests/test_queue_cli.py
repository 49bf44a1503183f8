"""`marketplace queue ...`: failed, retry, forget, flush, prune-failed, pause, continue,
restart, status and batches, as a user types them."""

import datetime
import json

from shop import cli
from job_runtime import runner
from job_runtime import control
from job_runtime.flow import batch
from job_runtime.models import FailedJob, JobRecord
from models import utcnow
from tests.sample_jobs import always_fail, effect_done, make_effect, step


def run(capsys, *argv):
    code = cli.main(["queue", *argv])
    out = capsys.readouterr().out
    return code, out


def fail_jobs(*keys):
    for key in keys:
        job_uuid = always_fail.dispatch(key)
        JobRecord.update(available_at=utcnow()).where(JobRecord.uuid == job_uuid).execute()
        runner.execute(job_uuid)
    return list(FailedJob.select().order_by(FailedJob.id))


def test_failed_lists_failures_as_a_table_and_as_json(capsys):
    code, out = run(capsys, "failed")
    assert code == 0 and "No failed jobs." in out
    fail_jobs("one", "two")
    code, out = run(capsys, "failed")
    assert "always_fail" in out and "ValueError: one cannot succeed" in out
    code, out = run(capsys, "failed", "--json")
    rows = json.loads(out)
    assert [r["message"] for r in rows] == ["one cannot succeed", "two cannot succeed"]
    assert rows[0]["attempts"] == 2 and rows[0]["queue"] == "default"


def test_retry_puts_a_failed_job_back_with_fresh_attempts(capsys, monkeypatch):
    failed = fail_jobs("again")[0]
    monkeypatch.setattr("tests.sample_jobs.always_fail.func", lambda key: make_effect.run_now(key))
    code, out = run(capsys, "retry", str(failed.id))
    assert code == 0 and "pushed back onto the queue" in out
    assert FailedJob.select().count() == 0
    record = JobRecord.get(JobRecord.uuid == failed.uuid)
    assert record.state == "completed" and record.attempts == 1
    assert effect_done("again")


def test_retry_all_range_and_queue(capsys):
    from tests.sample_jobs import runs

    failed = fail_jobs("a", "b", "c", "d")
    code, out = run(capsys, "retry", "--range", f"{failed[0].id}-{failed[1].id}")
    assert out.count("pushed back onto the queue") == 2
    # The job always fails, so a and b ran their two attempts again and failed again.
    assert [runs(k) for k in "abcd"] == [4, 4, 2, 2]
    run(capsys, "retry", "--queue", "default")
    assert [runs(k) for k in "abcd"] == [6, 6, 4, 4]
    run(capsys, "retry", "all")
    assert [runs(k) for k in "abcd"] == [8, 8, 6, 6]
    assert FailedJob.select().count() == 4
    assert all(r.attempts == 2 for r in JobRecord.select().where(JobRecord.name == "always_fail"))


def test_retry_refuses_what_is_not_an_id(capsys):
    try:
        cli.main(["queue", "retry", "abc"])
    except SystemExit as exc:
        assert "Not a failed-job id: abc" in str(exc)
    else:
        raise AssertionError("expected a clear refusal")


def test_forget_and_flush(capsys):
    failed = fail_jobs("f1", "f2", "f3")
    code, out = run(capsys, "forget", str(failed[0].id))
    assert code == 0 and FailedJob.select().count() == 2
    code, out = run(capsys, "forget", "999")
    assert code == 1 and "No failed job with id 999" in out
    FailedJob.update(failed_at=utcnow() - datetime.timedelta(hours=30)).where(FailedJob.id == failed[1].id).execute()
    code, out = run(capsys, "flush", "--hours", "24")
    assert "Deleted 1 failed job(s) older than 24 hours." in out
    code, out = run(capsys, "flush")
    assert FailedJob.select().count() == 0


def test_prune_failed_keeps_recent_failures(capsys):
    failed = fail_jobs("old", "new")
    FailedJob.update(failed_at=utcnow() - datetime.timedelta(hours=48)).where(FailedJob.id == failed[0].id).execute()
    code, out = run(capsys, "prune-failed", "--hours", "24")
    assert "Pruned 1" in out
    assert [f.message for f in FailedJob.select()] == ["new cannot succeed"]


def test_pause_holds_jobs_and_continue_rings_them_again(capsys):
    code, out = run(capsys, "pause", "default")
    assert "paused" in out and control.paused_queues() == {"default"}
    make_effect.dispatch("held")
    assert not effect_done("held")
    assert JobRecord.get().state == "pending"
    JobRecord.update(enqueued_at=utcnow() - datetime.timedelta(minutes=1)).execute()
    code, out = run(capsys, "continue", "default")
    assert "resumed (1 waiting job(s) queued again)" in out
    assert effect_done("held")


def test_restart_stamps_the_shared_storage(capsys):
    code, out = run(capsys, "restart")
    assert code == 0 and control.restart_stamp(max_age=0) is not None


def test_status_reports_depth_failed_and_workers(capsys):
    make_effect.s("later").delay(600).dispatch()
    make_effect.s("high").on_queue("high").delay(600).dispatch()
    fail_jobs("x")
    code, out = run(capsys, "status", "--json")
    report = json.loads(out)
    assert report["queues"]["default"]["scheduled"] == 1
    assert report["queues"]["high"]["scheduled"] == 2  # with the admins' failure alert, gathering
    assert report["failed"] == 1 and report["workers"] == []
    code, out = run(capsys, "status")
    assert "Failed jobs: 1" in out and "high" in out


def test_batches_lists_progress(capsys):
    batch([step.s("b1"), step.s("b2")], name="two steps").dispatch()
    code, out = run(capsys, "batches", "--json")
    (row,) = json.loads(out)
    assert (row["name"], row["total"], row["pending"], row["progress"], row["state"]) == (
        "two steps", 2, 0, 100, "completed")
    code, out = run(capsys, "batches")
    assert "two steps" in out and "100%" in out


def test_batches_cancel_by_id(capsys):
    batch_id = batch([step.s("c1").delay(600), step.s("c2").delay(600)], name="to cancel").dispatch()
    code, out = run(capsys, "batches", "cancel", batch_id)
    assert code == 0 and f"Batch {batch_id} cancelled" in out
    code, out = run(capsys, "batches", "cancel", batch_id)
    assert code == 1 and "already finished or been cancelled" in out
    code, out = run(capsys, "batches", "cancel", "no-such-batch")
    assert code == 1 and "No batch with id no-such-batch" in out


def test_clear_asks_first_and_force_deletes_the_pending_jobs(capsys, monkeypatch):
    waiting = [make_effect.s(f"w{i}").delay(600).dispatch() for i in range(2)]
    other = make_effect.s("high").on_queue("high").delay(600).dispatch()
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    code, out = run(capsys, "clear", "default")
    assert code == 1 and "Nothing was deleted" in out
    assert {JobRecord.get(JobRecord.uuid == u).state for u in waiting} == {"pending"}
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda question: "y")
    code, out = run(capsys, "clear", "default")
    assert code == 0 and "Deleted 2 pending job(s) from the default queue" in out
    assert {JobRecord.get(JobRecord.uuid == u).state for u in waiting} == {"cancelled"}
    code, out = run(capsys, "clear", "default", "--force")
    assert "No pending jobs on the default queue." in out
    code, out = run(capsys, "clear", "--force")
    assert code == 0 and JobRecord.get(JobRecord.uuid == other).state == "cancelled"


def test_monitor_exits_1_and_alerts_once_when_a_queue_is_too_deep(capsys, app_env, make_user):
    make_user("admin", email="ops@example.com")
    for i in range(3):
        make_effect.s(f"deep{i}").dispatch()  # immediate mode runs it: it is not waiting
    JobRecord.update(state="pending").execute()
    code, out = run(capsys, "monitor", "default:5,high:10")
    assert code == 0 and "default         3 waiting (limit 5)  ok" in out
    code, out = run(capsys, "monitor", "default:2,high:10", "--json")
    report = json.loads(out)
    assert code == 1 and not report["ok"] and report["alerted"] == ["default"]
    assert [(q["queue"], q["pending"], q["over"]) for q in report["queues"]] == [
        ("default", 3, True), ("high", 0, False)]
    alerts = [m for m in app_env.mails if "Too many jobs waiting on the default queue" in m["Subject"]]
    assert len(alerts) == 1 and "3 jobs are waiting on the default queue (the limit is 2)" in alerts[0].get_content()
    # The same incident, a minute later (cron): still failing, no second mail.
    code, out = run(capsys, "monitor", "default:2")
    assert code == 1 and "TOO DEEP" in out and "Alert sent" not in out
    assert len([m for m in app_env.mails if "Too many jobs" in m["Subject"]]) == 1


def test_monitor_refuses_what_it_cannot_read(capsys):
    for text in ("default", "nowhere:5", "default:many", ","):
        try:
            cli.main(["queue", "monitor", text])
        except SystemExit as exc:
            assert "QUEUE:LIMIT" in str(exc)
        else:
            raise AssertionError(f"expected a refusal of {text!r}")


def test_jobs_searches_by_tag_name_and_argument(capsys):
    from tests.sample_jobs import tagged_effect

    first = tagged_effect.dispatch(41, "first")
    second = tagged_effect.dispatch(42, "second")
    make_effect.dispatch("first-plain")
    code, out = run(capsys, "jobs", "--tag", "order:42", "--json")
    assert [row["uuid"] for row in json.loads(out)] == [second]
    code, out = run(capsys, "jobs", "--name", "tagged_effect", "--json")
    assert [row["uuid"] for row in json.loads(out)] == [second, first]
    code, out = run(capsys, "jobs", "--argument", "first", "--json")
    assert {row["name"] for row in json.loads(out)} == {"tagged_effect", "make_effect"}
    code, out = run(capsys, "jobs", "--tag", "order:41")
    assert "tagged_effect" in out and "order:41" in out
    code, out = run(capsys, "jobs", "--tag", "order:99")
    assert "No jobs matched." in out
    code, out = run(capsys, "jobs", "--state", "completed", "--json")
    assert len(json.loads(out)) == 3
