"""Roll-ups of finished jobs (monitoring.metrics): per minute, per job and queue, and totals."""

import datetime
import uuid

from job_runtime.models import JobRecord
from job_runtime.monitoring import metrics
from job_runtime.monitoring.metrics import JobMinute, JobTotal, epoch_minute, minute_start
from job_runtime.tests.sample_jobs import make_effect

NOW = datetime.datetime(2025, 3, 14, 12, 30, 20)


def finished(name=make_effect.name, queue="default", state="completed", at=NOW, duration=0.2):
    """A finished record, as the runtime leaves one."""
    return JobRecord.create(uuid=str(uuid.uuid4()), name=name, queue=queue, payload="[[],{}]", state=state,
                            attempts=1, finished_at=at, duration=duration, created_at=at, available_at=at)


def minutes_ago(minutes, seconds=0):
    return NOW - datetime.timedelta(minutes=minutes, seconds=seconds)


def test_roll_up_counts_each_minute_job_and_queue_once():
    finished(at=minutes_ago(5, 10), duration=0.1)
    finished(at=minutes_ago(5, 15), duration=0.3)
    finished(state="failed", at=minutes_ago(5, 5), duration=2.0)
    finished(name="slow", queue="low", at=minutes_ago(3), duration=4.0)
    finished(state="cancelled", at=minutes_ago(3), duration=None)
    finished(at=NOW - datetime.timedelta(seconds=20))  # not settled yet: stays in the tail
    metrics.roll_up(NOW)
    assert metrics.watermark() == epoch_minute(NOW) - 1
    rows = {(minute_start(r.minute), r.name, r.queue): r for r in JobMinute.select()}
    five = minutes_ago(5).replace(second=0)
    fast = rows[(five, make_effect.name, "default")]
    assert (fast.completed, fast.failed, fast.duration_count, fast.duration_max) == (2, 1, 3, 2.0)
    assert round(fast.duration_sum, 6) == 2.4
    assert rows[(minutes_ago(3).replace(second=0), "slow", "low")].completed == 1
    assert len(rows) == 2  # the cancelled job counts for nothing, the fresh one is not rolled up
    # Running it again adds nothing.
    metrics.roll_up(NOW)
    assert JobMinute.select().count() == 2
    assert JobTotal.get(JobTotal.name == make_effect.name).completed == 2


def test_figures_add_the_live_tail_to_the_roll_ups():
    finished(at=minutes_ago(30))
    metrics.roll_up(NOW)
    finished(at=NOW - datetime.timedelta(seconds=5))
    finished(state="failed", at=NOW - datetime.timedelta(seconds=3), duration=1.0)
    summary = metrics.summary(NOW - datetime.timedelta(hours=1), now=NOW)
    assert (summary["completed"], summary["failed"], summary["processed"]) == (2, 1, 3)
    assert summary["duration_max"] == 1.0
    assert metrics.finished_since(NOW - datetime.timedelta(minutes=1)) == 2
    points = metrics.series(epoch_minute(NOW) - 59, epoch_minute(NOW) + 1, now=NOW)
    assert len(points) == 60 and sum(p["processed"] for p in points) == 3
    assert points[-1]["failed"] == 1 and points[-1]["completed"] == 1
    assert points[-31]["completed"] == 1 and points[-31]["avg_duration"] == 0.2


def test_series_buckets_several_minutes_and_fills_gaps_with_zero():
    for minutes in (100, 95, 40):
        finished(at=minutes_ago(minutes))
    metrics.roll_up(NOW)
    end = epoch_minute(NOW) + 1
    points = metrics.series(end - 180, end, step=15, now=NOW)
    assert all(p["minute"] % 15 == 0 for p in points)
    assert sum(p["processed"] for p in points) == 3
    assert sum(1 for p in points if p["processed"]) in (2, 3)
    assert all(p["avg_duration"] is None for p in points if not p["processed"])


def test_a_window_is_counted_once_when_two_processes_race():
    finished(at=minutes_ago(5))
    start = metrics._start_watermark(epoch_minute(NOW) - 1)
    # Two processes read the same watermark; the second one's compare-and-set finds it moved.
    assert metrics._roll_window(start, start + 4)
    assert not metrics._roll_window(start, start + 4)
    assert JobMinute.select().count() == 1 and JobTotal.get().completed == 1


def test_readers_catch_up_when_no_periodic_roll_up_ran():
    finished(at=minutes_ago(50))
    assert metrics.watermark() is None
    assert metrics.summary(NOW - datetime.timedelta(hours=1), now=NOW)["completed"] == 1
    assert metrics.watermark() == epoch_minute(NOW) - 1


def test_old_minutes_are_pruned_but_totals_stay():
    finished(at=NOW - datetime.timedelta(days=10))
    metrics.roll_up(NOW)
    assert JobMinute.select().count() == 0
    assert JobTotal.get().completed == 1


def waited(seconds, queue="default", at=NOW, state="completed"):
    """A finished record whose last attempt was claimed `seconds` after it was due."""
    due = at - datetime.timedelta(seconds=seconds + 0.5)
    return JobRecord.create(uuid=str(uuid.uuid4()), name=make_effect.name, queue=queue, payload="[[],{}]",
                            state=state, attempts=1, finished_at=at, duration=0.5, created_at=due,
                            available_at=due, reserved_at=due + datetime.timedelta(seconds=seconds))


def test_the_wait_of_finished_jobs_is_rolled_up_per_queue_and_minute():
    waited(10, at=minutes_ago(20))
    waited(30, at=minutes_ago(20, 5))
    waited(4, queue="high", at=minutes_ago(20))
    waited(2, at=NOW - datetime.timedelta(seconds=5))  # in the live tail
    finished(at=minutes_ago(20))  # never claimed in this table (no reserved_at): no wait known
    finished(state="cancelled", at=minutes_ago(20), duration=None)
    metrics.roll_up(NOW)
    row = JobMinute.get((JobMinute.queue == "default") & (JobMinute.minute == epoch_minute(minutes_ago(20))))
    assert (row.wait_count, round(row.wait_sum, 3), round(row.wait_max, 3)) == (2, 40.0, 30.0)
    start = epoch_minute(NOW) - 59
    default = metrics.series(start, epoch_minute(NOW) + 1, queue="default", now=NOW)
    assert round(default[-21]["avg_wait"], 3) == 20.0 and round(default[-21]["wait_max"], 3) == 30.0
    assert round(default[-1]["avg_wait"], 3) == 2.0 and default[-2]["avg_wait"] is None
    high = metrics.series(start, epoch_minute(NOW) + 1, queue="high", now=NOW)
    assert round(high[-21]["avg_wait"], 3) == 4.0
    hour = {r["queue"]: r for r in metrics.window(NOW - datetime.timedelta(hours=1), group=("queue",), now=NOW)}
    assert round(hour["default"]["avg_wait"], 3) == round((10 + 30 + 2) / 3, 3)


def test_a_claim_a_moment_before_its_due_time_waited_nothing():
    record = waited(0, at=minutes_ago(10))
    JobRecord.update(reserved_at=record.available_at - datetime.timedelta(seconds=0.5)).where(
        JobRecord.id == record.id).execute()
    metrics.roll_up(NOW)
    assert JobMinute.get().wait_max == 0.0 and JobMinute.get().wait_count == 1


def test_minutes_rolled_up_before_the_wait_was_recorded_have_none():
    JobMinute.create(minute=epoch_minute(minutes_ago(30)), name="old", queue="default", completed=3,
                     wait_sum=None, wait_count=None, wait_max=None)
    metrics.roll_up(NOW)
    points = metrics.series(epoch_minute(NOW) - 59, epoch_minute(NOW) + 1, now=NOW)
    assert points[-31]["completed"] == 3 and points[-31]["avg_wait"] is None


def _statistics_of_a_million_records(db):
    """The statistics ANALYZE writes for a table of a million records of a few kinds and states
    (the planner reads them from sqlite_stat1; ANALYZE sqlite_schema loads them again)."""
    db.execute_sql("ANALYZE")
    for index, stat in (("job_name_id", "1000000 125000 1"), ("job_finished_at", "1000000 1"),
                        ("job_uuid", "1000000 1"), ("job_state_queue_available_at", "1000000 300000 100000 1")):
        db.execute_sql("DELETE FROM sqlite_stat1 WHERE idx = ?", (index,))
        db.execute_sql("INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES ('job', ?, ?)", (index, stat))
    db.execute_sql("ANALYZE sqlite_schema")


def _plan_of_the_last_select(caplog, db, marker):
    sql, params = next(r.msg for r in reversed(caplog.records) if isinstance(r.msg, tuple) and marker in r.msg[0])
    return " ".join(str(row) for row in db.execute_sql(f"EXPLAIN QUERY PLAN {sql}", params))


def test_the_pending_jobs_list_reads_the_claims_index_not_every_record(caplog):
    import logging

    import pytest

    from job_runtime.context import db, is_sqlite
    from job_runtime.monitoring import dashboard

    if not is_sqlite():
        pytest.skip("the plan in question is SQLite's")
    for i in range(300):
        finished(at=NOW - datetime.timedelta(hours=i))
    waiting = JobRecord.create(uuid=str(uuid.uuid4()), name="waiting", queue="default", payload="[[],{}]",
                               available_at=NOW - datetime.timedelta(hours=400))
    _statistics_of_a_million_records(db)
    with caplog.at_level(logging.DEBUG, logger="peewee"):
        rows, _ = dashboard.jobs_page("pending")
    assert [row["uuid"] for row in rows] == [waiting.uuid]
    plan = _plan_of_the_last_select(caplog, db, "ORDER BY")
    assert "job_state_queue_available_at" in plan and "SCAN" not in plan, plan


def test_the_live_tail_is_read_through_the_range_on_finished_at(caplog):
    """Not through the (name, id) index, which reads every record in the table to group them."""
    import logging

    import pytest

    from job_runtime.context import db, is_sqlite

    if not is_sqlite():
        pytest.skip("the plan in question is SQLite's")
    for i in range(300):
        finished(name=f"job-{i % 6}", at=NOW - datetime.timedelta(hours=i), duration=0.1)
    _statistics_of_a_million_records(db)
    with caplog.at_level(logging.DEBUG, logger="peewee"):
        rows = metrics._raw(NOW - datetime.timedelta(minutes=90))
    assert sum(row["completed"] for row in rows) == 2
    plan = _plan_of_the_last_select(caplog, db, "GROUP BY")
    assert "job_finished_at" in plan and "SCAN" not in plan, plan
