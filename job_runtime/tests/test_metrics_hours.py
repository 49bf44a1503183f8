"""The hourly roll-up (monitoring.metrics, JobHour): always the minutes added up by the hour,
and the figures of a day or a week read from it the same as from the minutes."""

import datetime
import random
import uuid

import pytest

from job_runtime import control
from job_runtime.models import JobHour, JobMinute, JobRecord, QueueFlag
from job_runtime.monitoring import metrics
from job_runtime.monitoring.metrics import epoch_minute

NOW = datetime.datetime(2025, 3, 14, 12, 30, 20)
NAMES = ("send_mail", "render_invoice", "sync_payouts")
QUEUES = ("high", "default", "low")
SUMS = ("completed", "failed", "duration_count", "wait_count")
FLOAT_SUMS = ("duration_sum", "wait_sum")
MAXES = ("duration_max", "wait_max")


def random_records(rng, count, since, until):
    """`count` finished (or cancelled) records at random moments in [since, until)."""
    span = (until - since).total_seconds()
    for _ in range(count):
        at = since + datetime.timedelta(seconds=rng.uniform(0, span))
        state = rng.choice(("completed", "completed", "completed", "failed", "cancelled"))
        due = at - datetime.timedelta(seconds=rng.uniform(0, 300))
        claimed = rng.random() < 0.8  # the others were never claimed in this table: no wait known
        JobRecord.create(uuid=str(uuid.uuid4()), name=rng.choice(NAMES), queue=rng.choice(QUEUES),
                         payload="[[],{}]", state=state, attempts=1, finished_at=at, created_at=due,
                         duration=None if state == "cancelled" else round(rng.uniform(0.001, 20.0), 3),
                         available_at=due,
                         reserved_at=due + datetime.timedelta(seconds=rng.uniform(0, 120)) if claimed else None)


def minutes_by_the_hour():
    """JobMinute added up in Python, {(hour, name, queue): figures}."""
    hours = {}
    for row in JobMinute.select():
        into = hours.setdefault((row.minute // 60, row.name, row.queue),
                                {**{f: 0 for f in SUMS + FLOAT_SUMS}, **{f: 0.0 for f in MAXES}})
        for field in SUMS + FLOAT_SUMS:
            into[field] += getattr(row, field) or 0
        for field in MAXES:
            into[field] = max(into[field], getattr(row, field) or 0.0)
    return hours


def assert_hours_are_the_minutes():
    expected = minutes_by_the_hour()
    found = {(row.hour, row.name, row.queue): row for row in JobHour.select()}
    assert set(found) == set(expected)
    for key, want in expected.items():
        row = found[key]
        assert [getattr(row, f) for f in SUMS + MAXES] == [want[f] for f in SUMS + MAXES], key
        assert [getattr(row, f) for f in FLOAT_SUMS] == pytest.approx([want[f] for f in FLOAT_SUMS]), key


@pytest.mark.parametrize("seed", range(6))
def test_the_hours_are_the_minutes_added_up_however_the_roll_ups_fall(seed):
    rng = random.Random(seed)
    start = NOW - datetime.timedelta(hours=5, minutes=rng.randrange(60))
    random_records(rng, 400, start, NOW)
    # Roll-ups at random moments, each run twice, windows ending inside hours and across them.
    moments = sorted(start + datetime.timedelta(minutes=rng.uniform(0, 330)) for _ in range(rng.randrange(1, 6)))
    for moment in moments + [NOW + datetime.timedelta(minutes=2)]:
        metrics.roll_up(moment)
        metrics.roll_up(moment)
        assert metrics.hours_watermark() == metrics.watermark()
        assert_hours_are_the_minutes()
    assert sum(row.completed + row.failed for row in JobHour.select()) == JobRecord.select().where(
        JobRecord.state.in_(("completed", "failed"))).count()


def test_a_window_two_processes_race_for_is_added_to_the_hours_once():
    random_records(random.Random(1), 50, NOW - datetime.timedelta(minutes=50), NOW - datetime.timedelta(minutes=2))
    start = metrics._start_watermark(epoch_minute(NOW) - 1)
    assert metrics._roll_window(start, epoch_minute(NOW) - 1)
    assert not metrics._roll_window(start, epoch_minute(NOW) - 1)
    assert_hours_are_the_minutes()


def test_minutes_rolled_up_without_their_hours_are_added_to_them_by_the_next_roll_up():
    rng = random.Random(7)
    random_records(rng, 200, NOW - datetime.timedelta(hours=3), NOW - datetime.timedelta(hours=1))
    metrics.roll_up(NOW - datetime.timedelta(minutes=50))
    # As a release that kept no hours leaves a shop: minutes, and neither hours nor their watermark.
    JobHour.delete().execute()
    QueueFlag.delete().where(QueueFlag.key == metrics.HOURS_WATERMARK).execute()
    random_records(rng, 100, NOW - datetime.timedelta(minutes=50), NOW - datetime.timedelta(minutes=2))
    metrics.roll_up(NOW)
    assert_hours_are_the_minutes()
    assert metrics.hours_watermark() == metrics.watermark()
    # Minutes added meanwhile by such a release, below a watermark it moved alone.
    mark = metrics.watermark()
    JobMinute.create(minute=mark, name="old", queue="default", completed=4, duration_sum=2.0, duration_count=4,
                     duration_max=1.0, wait_sum=None, wait_count=None, wait_max=None)
    control.set_flag(metrics.WATERMARK, mark + 1)
    metrics.roll_up(NOW + datetime.timedelta(minutes=5))
    assert_hours_are_the_minutes()
    assert JobHour.get(JobHour.name == "old").wait_count == 0


def test_figures_read_while_a_previous_release_rolls_up_minutes_alone(monkeypatch):
    """During an upgrade a consumer of the previous release moves the minutes' watermark and
    not the hours': the figures take hours only below the hours' own watermark."""
    random_records(random.Random(3), 500, NOW - datetime.timedelta(hours=30), NOW - datetime.timedelta(minutes=2))
    metrics.roll_up(NOW - datetime.timedelta(hours=20))
    with monkeypatch.context() as old_release:
        old_release.setattr(metrics, "_add_hours", lambda *args: None)
        metrics.roll_up(NOW)
    assert metrics.hours_watermark() < metrics.watermark() - 600
    since = NOW - datetime.timedelta(hours=24)
    read = metrics.summary(since, now=NOW)
    monkeypatch.setattr(metrics, "_rolled", metrics._rolled_minutes)
    assert read == pytest.approx(metrics.summary(since, now=NOW))


def test_a_window_partly_in_the_hours_already_adds_only_the_rest():
    random_records(random.Random(5), 120, NOW - datetime.timedelta(minutes=90), NOW - datetime.timedelta(minutes=2))
    metrics.roll_up(NOW - datetime.timedelta(minutes=40))
    # The hours' watermark ahead of the minutes' one (a watermark set back by hand).
    control.set_flag(metrics.WATERMARK, metrics.watermark() - 5)
    JobMinute.delete().where(JobMinute.minute >= metrics.watermark()).execute()
    metrics.roll_up(NOW)
    assert_hours_are_the_minutes()


def test_an_hour_is_pruned_once_its_last_minute_is():
    kept_from = epoch_minute(NOW) - metrics.MINUTE_RETENTION_DAYS * 1440
    for minute in (kept_from - 61, kept_from - 1, kept_from, kept_from + 60):
        JobRecord.create(uuid=str(uuid.uuid4()), name="old", queue="default", payload="[[],{}]",
                         state="completed", attempts=1, finished_at=metrics.minute_start(minute), duration=1.0,
                         created_at=metrics.minute_start(minute), available_at=metrics.minute_start(minute))
    metrics.roll_up(NOW - datetime.timedelta(days=1))
    assert JobHour.select().count() == len({m // 60 for m in (kept_from - 61, kept_from - 1, kept_from,
                                                              kept_from + 60)})
    metrics.roll_up(NOW)
    assert sorted(row.minute for row in JobMinute.select()) == [kept_from, kept_from + 60]
    # The hour of kept_from stays while any of its minutes does; the hours wholly before go.
    assert sorted(row.hour for row in JobHour.select()) == sorted({kept_from // 60, (kept_from + 60) // 60})


# ---------------------------------------------------------------------------
# Readers: the figures of a day and a week as the minutes give them
# ---------------------------------------------------------------------------


def from_the_minutes(start, end, key):
    """JobMinute's rows in [start, end) added up per key(row), as the readers' rows."""
    found = {}
    for row in JobMinute.select().where((JobMinute.minute >= start) & (JobMinute.minute < end)):
        into = found.setdefault(key(row), {**{f: 0 for f in SUMS + FLOAT_SUMS}, **{f: 0.0 for f in MAXES}})
        for field in SUMS + FLOAT_SUMS:
            into[field] += getattr(row, field) or 0
        for field in MAXES:
            into[field] = max(into[field], getattr(row, field) or 0.0)
    return {k: v for k, v in found.items() if v["completed"] or v["failed"]}


def assert_same_figures(rows, expected):
    assert set(rows) == set(expected)
    for key, want in expected.items():
        row = rows[key]
        assert [row[f] for f in SUMS + MAXES] == [want[f] for f in SUMS + MAXES], key
        assert [row[f] for f in FLOAT_SUMS] == pytest.approx([want[f] for f in FLOAT_SUMS]), key
        assert row["avg_duration"] == (pytest.approx(want["duration_sum"] / want["duration_count"])
                                       if want["duration_count"] else None)
        assert row["avg_wait"] == (pytest.approx(want["wait_sum"] / want["wait_count"])
                                   if want["wait_count"] else None)


@pytest.mark.parametrize("days, step, offset", [(1, 15, 0), (1, 15, 37), (7, 120, 0), (7, 120, 11)])
def test_the_figures_of_a_day_and_a_week_are_those_of_the_minutes(days, step, offset):
    now = NOW + datetime.timedelta(minutes=offset)
    random_records(random.Random(days * 100 + offset), 600, now - datetime.timedelta(days=days, hours=2),
                   now - datetime.timedelta(minutes=2))
    metrics.roll_up(now)
    mark = metrics.watermark()
    current = epoch_minute(now)
    end = current - current % step + step
    start = end - days * 1440
    since = metrics.minute_start(start)

    for group in (("name", "queue"), ("queue",), ()):
        rows = {tuple(r[g] for g in group): r for r in metrics.window(since, group=group, now=now)}
        assert_same_figures(rows, from_the_minutes(start, mark, lambda r: tuple(getattr(r, g) for g in group)))
    for name, queue in ((None, None), (NAMES[0], None), (None, "low"), (NAMES[1], "high")):
        points = metrics.series(start, end, step, name=name, queue=queue, now=now)
        assert [p["minute"] for p in points] == list(range(start, end, step))
        expected = from_the_minutes(start, mark, lambda r: r.minute // step * step if (
            (name is None or r.name == name) and (queue is None or r.queue == queue)) else None)
        expected.pop(None, None)
        assert_same_figures({p["minute"]: p for p in points if p["processed"]}, expected)
