"""Job figures over time, without scanning the job table's history.

Finished jobs are rolled up into three small tables:

- JobMinute: one row per minute, job name and queue (completed, failed, runtime
  sum, count and maximum, and the same of their wait), for the dashboard's
  charts, tiles and alerts;
- JobHour: the same minutes added up by the hour, so the figures of a day or a
  week read whole hours and only the minutes at their edges;
- JobTotal: all-time counters per job name and queue, with a runtime histogram,
  for the counters of /metrics (Prometheus wants them never to go down, so they
  are not pruned).

The roll-up is incremental. A watermark (a minute, in the QueueFlag table) says
how far it has gone; each run aggregates the records that finished between the
watermark and a minute ago, through the index on finished_at, and moves the
watermark on. The minute of settling is there because a consumer's
CompletionWriter stamps finished_at a few milliseconds before it commits.

Readers add the tail after the watermark, a minute or two of records, straight
from the job table (through the same index), so every figure is live to the
second while no reader ever scans history.

A job's wait is how long its last attempt waited between becoming due
(available_at) and being claimed (reserved_at); it is counted in the minute the
job finished, which for most jobs is the minute it was claimed. Minutes rolled
up before the wait was recorded have none (NULL) and count for nothing in it. A failure counts once it is rolled
up; one retried within that minute or two leaves the tail, and only its later
outcome is counted.

A window is counted exactly once even when several processes roll up at the
same moment: the aggregate is read first, and then, in one transaction, the
watermark is moved from the value the run started from (a compare-and-set)
together with the rows it adds. The loser's compare-and-set changes nothing
and its rows are not written.

The hours are added in the same transaction as their minutes. They have a
watermark of their own, which moves with the minutes' one: when it lags behind
(minutes rolled up by a release that kept no hours, or a shop whose job_hour
table is new), the minutes in between are added to the hours from JobMinute
first, so the hours always hold exactly the minutes below the watermark.
"""

import datetime

from peewee import EXCLUDED, SQL, Case, fn

from job_runtime import control
from job_runtime.context import db, is_sqlite
from job_runtime.models import JobHour, JobMinute, JobRecord, JobTotal, QueueFlag, utcnow

FINISHED = ("completed", "failed")
# Upper bounds (seconds) of the runtime histogram buckets; +Inf is implied.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
SETTLE_SECONDS = 60
# A long catch-up (a first run over an old table) goes in windows this long. The
# aggregate is read before the transaction that writes, so a long window costs
# reading time, not time holding the database's write lock.
CHUNK_MINUTES = 60
MINUTE_RETENTION_DAYS = 8
# Readers roll up themselves when no periodic run has done it for this long
# (a consumer started with -n, or none at all), so the tail stays short.
CATCH_UP_LAG_MINUTES = 10
WATERMARK = "metrics:rolled-up-to"
# The first minute not added to JobHour yet (shop/migrations/0024_job_hours.py writes it too).
HOURS_WATERMARK = "metrics:hours-to"
NO_END = datetime.datetime(9999, 12, 31)


# ---------------------------------------------------------------------------
# Minutes
# ---------------------------------------------------------------------------


def epoch_minute(moment):
    """The minute (since the Unix epoch) a naive-UTC datetime falls in."""
    return int(moment.replace(tzinfo=datetime.timezone.utc).timestamp() // 60)


def minute_start(minute):
    """The naive-UTC datetime a minute starts at."""
    return datetime.datetime.fromtimestamp(minute * 60, datetime.timezone.utc).replace(tzinfo=None)


def _waited():
    """SQL for a finished record's wait in seconds (claims may run a second early: never below 0)."""
    if is_sqlite():
        seconds = '(julianday("reserved_at") - julianday("available_at")) * 86400.0'
    else:
        seconds = 'CAST(EXTRACT(EPOCH FROM ("reserved_at" - "available_at")) AS DOUBLE PRECISION)'
    return SQL(f'CASE WHEN "reserved_at" IS NULL THEN NULL WHEN {seconds} < 0 THEN 0.0 ELSE {seconds} END')


def _finished_minute():
    """SQL for the minute a record finished in (the fraction of a second is cut first,
    because SQLite's strftime rounds it to the millisecond and could tip 59.9999 s over)."""
    if is_sqlite():
        return SQL("CAST(strftime('%s', substr(\"finished_at\", 1, 19)) AS INTEGER) / 60")
    return SQL('CAST(FLOOR(EXTRACT(EPOCH FROM "finished_at") / 60) AS BIGINT)')


# ---------------------------------------------------------------------------
# Aggregates of the job table (the roll-up and the live tail)
# ---------------------------------------------------------------------------

_SUMS = ("completed", "failed", "duration_sum", "duration_count", "wait_sum", "wait_count")
_MAXES = ("duration_max", "wait_max")


def _raw(start, end=None, group=("name", "queue"), buckets=False, name=None, queue=None):
    """Finished records in [start, end), aggregated by `group` (name, queue, minute).

    The WHERE clause names no state on purpose: finished_at is only set on
    finished records, and a condition on state would tempt SQLite's planner to
    the claim's (state, ...) index, a scan of every completed record, instead
    of the range on finished_at. Cancelled records match and count for nothing.
    """
    columns = {"name": JobRecord.name, "queue": JobRecord.queue, "minute": _finished_minute()}
    done = JobRecord.state.in_(FINISHED)
    fields = [columns[g].alias(g) for g in group]
    fields += [
        fn.SUM(Case(None, [(JobRecord.state == "completed", 1)], 0)).alias("completed"),
        fn.SUM(Case(None, [(JobRecord.state == "failed", 1)], 0)).alias("failed"),
        fn.SUM(Case(None, [(done, JobRecord.duration)], None)).alias("duration_sum"),
        fn.COUNT(Case(None, [(done, JobRecord.duration)], None)).alias("duration_count"),
        fn.MAX(Case(None, [(done, JobRecord.duration)], None)).alias("duration_max"),
        fn.SUM(Case(None, [(done, _waited())], None)).alias("wait_sum"),
        fn.COUNT(Case(None, [(done, _waited())], None)).alias("wait_count"),
        fn.MAX(Case(None, [(done, _waited())], None)).alias("wait_max"),
    ]
    if buckets:
        fields += [fn.SUM(Case(None, [(done & (JobRecord.duration <= bound), 1)], 0)).alias(f"le{i}")
                   for i, bound in enumerate(BUCKETS)]
    # The live tail has no end, but the range is bounded above all the same: with only
    # a lower bound, SQLite's planner guesses a quarter of the table matches and reads
    # all of it through the (name, id) index to save the GROUP BY's sort (1.5 s a page
    # at a million records); two bounds make it take the range on finished_at.
    condition = (JobRecord.finished_at >= start) & (JobRecord.finished_at < (end or NO_END))
    if name:
        condition &= JobRecord.name == name
    if queue:
        condition &= JobRecord.queue == queue
    query = JobRecord.select(*fields).where(condition)
    if group:
        query = query.group_by(*[columns[g] for g in group])
    rows = [_clean(row) for row in query.dicts()]
    return [row for row in rows if row["completed"] or row["failed"]]


def _clean(row):
    for key in _SUMS:
        row[key] = row.get(key) or 0
    for key in _MAXES:
        row[key] = row.get(key) or 0.0
    if "minute" in row:
        row["minute"] = int(row["minute"])
    return row


# ---------------------------------------------------------------------------
# The roll-up
# ---------------------------------------------------------------------------


def watermark():
    """The first minute not rolled up yet, or None before the first roll-up."""
    value = control.get_flag(WATERMARK)
    return int(value) if value is not None else None


def _start_watermark(upto):
    """Set the watermark for the first time: the first finished record's minute."""
    first = JobRecord.select(fn.MIN(JobRecord.finished_at)).scalar()
    if isinstance(first, str):  # SQLite returns MIN() over a datetime as text
        first = datetime.datetime.fromisoformat(first)
    start = min(epoch_minute(first), upto) if first else upto
    with db.atomic():
        QueueFlag.insert(key=WATERMARK, value=str(start), updated_at=utcnow()).on_conflict_ignore().execute()
    return watermark()


def _move_watermark(old, new):
    return QueueFlag.update(value=str(new), updated_at=utcnow()).where(
        (QueueFlag.key == WATERMARK) & (QueueFlag.value == str(old))).execute() == 1


def _add_totals(rows):
    """Add one window's per-job figures to JobTotal (inside the window's transaction)."""
    for row in rows:
        counts = [int(row.get(f"le{i}") or 0) for i in range(len(BUCKETS))]
        total = JobTotal.get_or_none((JobTotal.name == row["name"]) & (JobTotal.queue == row["queue"]))
        if total is None:
            JobTotal.create(name=row["name"], queue=row["queue"], completed=row["completed"],
                            failed=row["failed"], duration_sum=row["duration_sum"] or 0.0,
                            duration_count=row["duration_count"], le_counts=counts)
            continue
        old = total.le_counts or [0] * len(BUCKETS)
        JobTotal.update(
            completed=JobTotal.completed + row["completed"], failed=JobTotal.failed + row["failed"],
            duration_sum=JobTotal.duration_sum + (row["duration_sum"] or 0.0),
            duration_count=JobTotal.duration_count + row["duration_count"],
            le_counts=[a + b for a, b in zip(old, counts)],
        ).where(JobTotal.id == total.id).execute()


def _roll_window(start, end):
    """Aggregate minutes [start, end) and record them; False if another run took the window."""
    since, until = minute_start(start), minute_start(end)
    minutes = _raw(since, until, group=("minute", "name", "queue"))
    totals = _raw(since, until, group=("name", "queue"), buckets=True)
    with db.atomic():
        if not _move_watermark(start, end):
            return False
        for offset in range(0, len(minutes), 200):
            JobMinute.insert_many([
                {"minute": row["minute"], "name": row["name"], "queue": row["queue"],
                 "completed": row["completed"], "failed": row["failed"], "duration_sum": row["duration_sum"] or 0.0,
                 "duration_count": row["duration_count"], "duration_max": row["duration_max"],
                 "wait_sum": row["wait_sum"] or 0.0, "wait_count": row["wait_count"], "wait_max": row["wait_max"]}
                for row in minutes[offset:offset + 200]
            ]).on_conflict(
                # Not expected (windows do not overlap), but adding is the right answer if it happens.
                conflict_target=[JobMinute.minute, JobMinute.name, JobMinute.queue],
                update={JobMinute.completed: JobMinute.completed + EXCLUDED.completed,
                        JobMinute.failed: JobMinute.failed + EXCLUDED.failed,
                        JobMinute.duration_sum: JobMinute.duration_sum + EXCLUDED.duration_sum,
                        JobMinute.duration_count: JobMinute.duration_count + EXCLUDED.duration_count,
                        JobMinute.wait_sum: JobMinute.wait_sum + EXCLUDED.wait_sum,
                        JobMinute.wait_count: JobMinute.wait_count + EXCLUDED.wait_count},
            ).execute()
        _add_hours(start, end, minutes)
        _add_totals(totals)
    return True


def _hour_rows(minutes):
    """Rows of minutes (with "minute", "name", "queue") added up into rows by the hour."""
    hours = {}
    for row in minutes:
        key = (row["minute"] // 60, row["name"], row["queue"])
        into = hours.get(key)
        if into is None:
            hours[key] = {"hour": key[0], "name": key[1], "queue": key[2],
                          **{f: row[f] or 0 for f in _SUMS}, **{f: row[f] or 0.0 for f in _MAXES}}
            continue
        for field in _SUMS:
            into[field] += row[field] or 0
        for field in _MAXES:
            into[field] = max(into[field], row[field] or 0.0)
    return list(hours.values())


def _upsert_hours(rows):
    """Add rows to JobHour: an hour's minutes arrive in several windows, so a row already there grows."""
    greatest = fn.MAX if is_sqlite() else fn.GREATEST  # SQLite's two-argument MAX is its GREATEST
    update = {getattr(JobHour, f): getattr(JobHour, f) + getattr(EXCLUDED, f) for f in _SUMS}
    update.update({getattr(JobHour, f): greatest(getattr(JobHour, f), getattr(EXCLUDED, f)) for f in _MAXES})
    for offset in range(0, len(rows), 200):
        JobHour.insert_many(rows[offset:offset + 200]).on_conflict(
            conflict_target=[JobHour.hour, JobHour.name, JobHour.queue], update=update).execute()


def hours_watermark():
    """The first minute not added to JobHour yet, or None before the hours were first added to."""
    value = control.get_flag(HOURS_WATERMARK)
    return int(value) if value is not None else None


def _add_hours(start, end, minutes):
    """Add the window [start, end)'s minutes to JobHour (inside the window's transaction)."""
    done = hours_watermark()
    if done is not None and done >= end:
        return
    if done is None or done < start:
        # Minutes rolled up without their hours: add them from JobMinute first.
        since = done if done is not None else 0
        caught_up = [dict(row, minute=row["bucket"]) for row in
                     _rolled_minutes(since, start, ("bucket", "name", "queue"), step=60)]
        _upsert_hours(_hour_rows(caught_up))
    elif done > start:
        minutes = [row for row in minutes if row["minute"] >= done]  # the hours hold those before already
    _upsert_hours(_hour_rows(minutes))
    control.set_flag(HOURS_WATERMARK, end)


def roll_up(now=None):
    """Roll finished jobs up to a minute ago; returns how many minutes were added."""
    now = now or utcnow()
    upto = epoch_minute(now - datetime.timedelta(seconds=SETTLE_SECONDS))
    start = watermark()
    if start is None:
        start = _start_watermark(upto)
    added = 0
    while start < upto:
        end = min(start + CHUNK_MINUTES, upto)
        if _roll_window(start, end):
            added += end - start
        start = watermark()
    kept_from = epoch_minute(now) - MINUTE_RETENTION_DAYS * 1440
    JobMinute.delete().where(JobMinute.minute < kept_from).execute()
    # An hour goes once the last of its minutes has gone.
    JobHour.delete().where(JobHour.hour < kept_from // 60).execute()
    return added


def ensure_recent(now=None):
    """Roll up here when nothing else has for a while, so the live tail stays short."""
    now = now or utcnow()
    mark = watermark()
    if mark is None or mark < epoch_minute(now) - CATCH_UP_LAG_MINUTES:
        roll_up(now)
    return watermark()


# ---------------------------------------------------------------------------
# Figures for readers: roll-ups up to the watermark, the job table after it
# ---------------------------------------------------------------------------


def _merge(rows, group):
    merged = {}
    for row in rows:
        key = tuple(row[g] for g in group)
        into = merged.get(key)
        if into is None:
            merged[key] = dict(row)
            continue
        for field in _SUMS:
            into[field] += row[field] or 0
        for field in _MAXES:
            into[field] = max(into[field] or 0.0, row[field] or 0.0)
    for row in merged.values():
        row["processed"] = row["completed"] + row["failed"]
        row["avg_duration"] = row["duration_sum"] / row["duration_count"] if row["duration_count"] else None
        row["avg_wait"] = row["wait_sum"] / row["wait_count"] if row["wait_count"] else None
    return list(merged.values())


def _rolled(start_minute, end_minute, group, name=None, queue=None, step=None):
    """Rows of the roll-ups of minutes [start_minute, end_minute), per `group`, to be _merge()d:
    whole hours from JobHour, the minutes before the first and after the last from JobMinute.

    Hours serve only buckets that hold whole hours (the week's chart of 2 hours, not the
    day's of 15 minutes), and a range that holds a whole hour.
    """
    # Only the hours below the hours' watermark are whole: during an upgrade a consumer of
    # the previous release rolls minutes up without adding them to the hours.
    first_hour, end_hour = -(-start_minute // 60), min(end_minute, hours_watermark() or 0) // 60
    by_the_hour = set(group) <= {"name", "queue", "bucket"} and ("bucket" not in group or step % 60 == 0)
    if not by_the_hour or first_hour >= end_hour:
        return _rolled_minutes(start_minute, end_minute, group, name, queue, step)
    rows = _aggregate(JobHour, "hour", 60, first_hour, end_hour, group, name, queue, step)
    if start_minute < first_hour * 60:
        rows += _rolled_minutes(start_minute, first_hour * 60, group, name, queue, step)
    if end_hour * 60 < end_minute:
        rows += _rolled_minutes(end_hour * 60, end_minute, group, name, queue, step)
    return rows


def _rolled_minutes(start_minute, end_minute, group, name=None, queue=None, step=None):
    return _aggregate(JobMinute, "minute", 1, start_minute, end_minute, group, name, queue, step)


def _aggregate(model, unit, minutes_per_unit, start, end, group, name=None, queue=None, step=None):
    """The rows of `model` (JobMinute or JobHour) in units [start, end), summed per `group`;
    a bucket is named by its first minute."""
    fields = []
    group_by = []
    for g in group:
        if g == "bucket":
            # Written out, not bound: PostgreSQL only matches a GROUP BY expression
            # to the selected one when they are the same text, parameters included.
            first_minute = f'"{unit}" * {minutes_per_unit}' if minutes_per_unit != 1 else f'"{unit}"'
            expression = SQL(f'({first_minute} / {int(step)}) * {int(step)}')
            fields.append(expression.alias("bucket"))
            group_by.append(expression)
        else:
            fields.append(getattr(model, g).alias(g))
            group_by.append(getattr(model, g))
    fields += [fn.SUM(model.completed).alias("completed"), fn.SUM(model.failed).alias("failed"),
               fn.SUM(model.duration_sum).alias("duration_sum"),
               fn.SUM(model.duration_count).alias("duration_count"),
               fn.MAX(model.duration_max).alias("duration_max"),
               fn.SUM(model.wait_sum).alias("wait_sum"), fn.SUM(model.wait_count).alias("wait_count"),
               fn.MAX(model.wait_max).alias("wait_max")]
    column = getattr(model, unit)
    condition = (column >= start) & (column < end)
    if name:
        condition &= model.name == name
    if queue:
        condition &= model.queue == queue
    query = model.select(*fields).where(condition)
    if group_by:
        query = query.group_by(*group_by)
    rows = [_clean(row) for row in query.dicts()]
    if not group:
        rows = [row for row in rows if row["completed"] or row["failed"]]
    return rows


def window(since, group=("name", "queue"), name=None, queue=None, now=None):
    """Figures of the jobs that finished since `since` (a datetime), per `group`.

    Each row: the group's fields, completed, failed, processed (both),
    duration_sum/count/max and avg_duration (None when nothing ran), and
    wait_sum/count/max and avg_wait (None when no wait is known).
    """
    mark = ensure_recent(now)
    start = epoch_minute(since)
    rows = []
    if start < mark:
        rows += _rolled(start, mark, group, name, queue)
    rows += _raw(max(since, minute_start(mark)), group=group, name=name, queue=queue)
    return _merge(rows, group)


def summary(since, name=None, queue=None, now=None):
    """One row for everything that finished since `since`."""
    rows = window(since, group=(), name=name, queue=queue, now=now)
    if rows:
        return rows[0]
    return {"completed": 0, "failed": 0, "processed": 0, "duration_sum": 0.0, "duration_count": 0,
            "duration_max": 0.0, "avg_duration": None, "wait_sum": 0.0, "wait_count": 0, "wait_max": 0.0,
            "avg_wait": None}


def series(start_minute, end_minute, step=1, name=None, queue=None, now=None):
    """Buckets of `step` minutes from start_minute to end_minute (exclusive), zero-filled.

    Each: {"minute", "completed", "failed", "processed", "duration_sum", "duration_count",
    "avg_duration", "duration_max", "wait_sum", "wait_count", "avg_wait", "wait_max"}; the sums
    let a reader average
    over several buckets per job (weighted by how many ran), not per bucket.
    """
    mark = ensure_recent(now)
    start_minute -= start_minute % step
    buckets = {}
    rolled_end = min(mark, end_minute)
    rows = _rolled(start_minute, rolled_end, ("bucket",), name, queue, step) if start_minute < rolled_end else []
    tail_start = minute_start(max(start_minute, mark))
    for row in _raw(tail_start, minute_start(end_minute), group=("minute",), name=name, queue=queue):
        row["bucket"] = row.pop("minute") // step * step
        rows.append(row)
    for row in _merge(rows, ("bucket",)):
        buckets[int(row["bucket"])] = row
    points = []
    for minute in range(start_minute, end_minute, step):
        row = buckets.get(minute)
        points.append({
            "minute": minute, "at": minute_start(minute),
            "completed": row["completed"] if row else 0, "failed": row["failed"] if row else 0,
            "processed": row["processed"] if row else 0,
            "duration_sum": row["duration_sum"] if row else 0.0,
            "duration_count": row["duration_count"] if row else 0,
            "wait_sum": row["wait_sum"] if row else 0.0,
            "wait_count": row["wait_count"] if row else 0,
            "avg_duration": row["avg_duration"] if row else None,
            "duration_max": row["duration_max"] if row else 0.0,
            "avg_wait": row["avg_wait"] if row else None,
            "wait_max": row["wait_max"] if row else 0.0,
        })
    return points


def totals(now=None):
    """All-time figures per job name and queue, with cumulative histogram counts (for /metrics)."""
    mark = ensure_recent(now)
    merged = {}
    for total in JobTotal.select():
        merged[(total.name, total.queue)] = {
            "name": total.name, "queue": total.queue, "completed": total.completed, "failed": total.failed,
            "duration_sum": total.duration_sum, "duration_count": total.duration_count,
            "le_counts": list(total.le_counts or [0] * len(BUCKETS)),
        }
    for row in _raw(minute_start(mark), group=("name", "queue"), buckets=True):
        counts = [int(row.get(f"le{i}") or 0) for i in range(len(BUCKETS))]
        into = merged.setdefault((row["name"], row["queue"]), {
            "name": row["name"], "queue": row["queue"], "completed": 0, "failed": 0, "duration_sum": 0.0,
            "duration_count": 0, "le_counts": [0] * len(BUCKETS)})
        into["completed"] += row["completed"]
        into["failed"] += row["failed"]
        into["duration_sum"] += row["duration_sum"] or 0.0
        into["duration_count"] += row["duration_count"]
        into["le_counts"] = [a + b for a, b in zip(into["le_counts"], counts)]
    return sorted(merged.values(), key=lambda r: (r["name"], r["queue"]))


def finished_since(moment):
    """How many jobs finished (completed or failed) since `moment`: the live jobs-per-minute."""
    # Counted with CASE rather than filtered on state, for the reason given in _raw().
    counted = (JobRecord.select(fn.SUM(Case(None, [(JobRecord.state.in_(FINISHED), 1)], 0)))
               .where(JobRecord.finished_at >= moment).scalar())
    return int(counted or 0)

