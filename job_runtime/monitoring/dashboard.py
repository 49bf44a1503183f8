"""What the queue dashboard shows, gathered from the runtime's tables and the roll-ups.

Every query here is bounded: the workload reads only pending and running
records (through the index the claim uses), history comes from metrics.py's
roll-ups, and lists read the newest rows by primary key or through the partial
indexes on chains and batches. So the page costs the same with a thousand job
records or a million.
"""

import datetime

from job_runtime import control, flow, stats
from job_runtime.backends import QUEUES
from job_runtime.models import Batch, FailedJob, JobRecord, utcnow
from job_runtime.monitoring import metrics
from job_runtime.monitoring.conditions import conditions
from job_runtime.payload import decode_payload
from job_runtime.workers import heartbeat_age, is_stale, recent_workers

JOB_STATES = ("pending", "scheduled", "running", "completed", "failed", "cancelled")
# A state filter that matches nothing among the newest rows stops after reading this many.
SCAN_LIMIT = 20000


def _iso(moment):
    return moment.isoformat(timespec="seconds") + "Z" if moment else None


# ---------------------------------------------------------------------------
# Workers
# ---------------------------------------------------------------------------


def workers(now=None):
    """Workers that have not stopped and beat within the last hour; `stale` past the limit."""
    now = now or utcnow()
    result = []
    for w in recent_workers(now):
        result.append({
            "id": w.id, "host": w.host, "pid": w.pid, "consumer_pid": w.consumer_pid,
            "name": w.id.rsplit(":", 1)[-1], "queues": [q for q in (w.queues or "").split(",") if q],
            "started_at": _iso(w.started_at), "current_job": w.current_job, "current_job_name": w.current_job_name,
            "jobs_done": w.jobs_done, "rss_bytes": w.rss_bytes, "last_beat_at": _iso(w.last_beat_at),
            "heartbeat_age": round(heartbeat_age(w, now), 1), "stale": is_stale(w, now),
        })
    return result


def _serves(worker, queue):
    return not worker["queues"] or queue in worker["queues"]


# ---------------------------------------------------------------------------
# The overview
# ---------------------------------------------------------------------------


def merge_by(rows, key):
    """Merge per-(name, queue) rows into per-`key` rows."""
    merged = {}
    for row in rows:
        into = merged.setdefault(row[key], {key: row[key], "processed": 0, "failed": 0, "duration_sum": 0.0,
                                            "duration_count": 0, "duration_max": 0.0, "wait_sum": 0.0,
                                            "wait_count": 0, "wait_max": 0.0})
        into["processed"] += row["processed"]
        into["failed"] += row["failed"]
        into["duration_sum"] += row["duration_sum"] or 0.0
        into["duration_count"] += row["duration_count"]
        into["duration_max"] = max(into["duration_max"], row["duration_max"] or 0.0)
        into["wait_sum"] += row.get("wait_sum") or 0.0
        into["wait_count"] += row.get("wait_count") or 0
        into["wait_max"] = max(into["wait_max"], row.get("wait_max") or 0.0)
    for into in merged.values():
        into["avg_duration"] = into["duration_sum"] / into["duration_count"] if into["duration_count"] else None
        into["avg_wait"] = into["wait_sum"] / into["wait_count"] if into["wait_count"] else None
    return merged


def queue_rows(workload, paused, live, hour_by_queue):
    """Per queue: depth, waits, workers and the estimated wait (pending x average runtime / workers)."""
    rows = []
    for name in sorted(workload, key=lambda q: QUEUES.index(q) if q in QUEUES else len(QUEUES)):
        figures = workload[name]
        serving = sum(1 for w in live if _serves(w, name))
        avg = (hour_by_queue.get(name) or {}).get("avg_duration")
        if figures["pending"] == 0:
            estimate = 0.0
        elif serving == 0 or avg is None:
            estimate = None  # unknown: no worker takes this queue, or nothing ran on it lately
        else:
            estimate = figures["pending"] * avg / serving
        rows.append({
            "name": name, "paused": name in paused, "pending": figures["pending"],
            "scheduled": figures["scheduled"], "running": figures["running"],
            "oldest_wait": round(figures["oldest_pending_seconds"], 1), "workers": serving,
            "avg_runtime": avg, "estimated_wait": estimate,
            "processed_past_hour": (hour_by_queue.get(name) or {}).get("processed", 0),
        })
    return rows


def current_queues(now=None):
    """The per-queue rows alone (for the alert check)."""
    now = now or utcnow()
    live = [w for w in workers(now) if not w["stale"]]
    hour = metrics.window(now - datetime.timedelta(hours=1), group=("queue",), now=now)
    return queue_rows(stats.workload(), set(control.paused_queues()), live,
                      {row["queue"]: row for row in hour})


def overview(now=None):
    """Everything the dashboard's live sections show, as JSON-ready values."""
    now = now or utcnow()
    # Counted before the hour, so that jobs finishing meanwhile cannot make the last
    # minute show more jobs than the hour.
    per_minute = metrics.finished_since(now - datetime.timedelta(minutes=1))
    all_workers = workers(now)
    live = [w for w in all_workers if not w["stale"]]
    hour = metrics.window(now - datetime.timedelta(hours=1), now=now)
    by_job = merge_by(hour, "name")
    paused = set(control.paused_queues())
    queues = queue_rows(stats.workload(), paused, live, merge_by(hour, "queue"))

    waiting = [q for q in queues if q["pending"] and q["oldest_wait"] > 0]
    longest = max(waiting, key=lambda q: q["oldest_wait"], default=None)
    timed = [j for j in by_job.values() if j["avg_duration"] is not None]
    slowest = max(timed, key=lambda j: j["avg_duration"], default=None)
    busiest = max(by_job.values(), key=lambda j: j["processed"], default=None)
    week = metrics.summary(now - datetime.timedelta(days=7), now=now)
    if not live:
        status = "inactive"
    elif paused >= set(QUEUES):
        status = "paused"
    else:
        status = "running"
    tiles = {
        "jobs_per_minute": per_minute,
        "jobs_past_hour": sum(j["processed"] for j in by_job.values()),
        "failed_past_7_days": week["failed"],
        "failed_stored": FailedJob.select().count(),
        "status": status,
        "paused_queues": [q for q in QUEUES if q in paused],
        "workers_alive": len(live),
        "hosts_alive": len({w["host"] for w in live}),
        "processes_alive": len({(w["host"], w["pid"]) for w in live}),
        "longest_wait": {"seconds": longest["oldest_wait"], "queue": longest["name"]} if longest else None,
        "slowest_job": {"name": slowest["name"], "avg_duration": slowest["avg_duration"],
                        "max_duration": slowest["duration_max"]} if slowest else None,
        "busiest_job": {"name": busiest["name"], "processed": busiest["processed"]}
        if busiest and busiest["processed"] else None,
    }
    return {
        "generated_at": _iso(now),
        "tiles": tiles,
        "queues": queues,
        "workers": all_workers,
        "recent_jobs": recent_jobs(limit=12),
        "batches": [flow.describe_batch(b) for b in running_batches()],
        "alerts": conditions(queues, now=now),
    }


def chart_minutes(minutes=60, step=1, now=None):
    """The first and the end minute of the last `minutes` minutes in buckets of `step`,
    the bucket `now` is in the last one."""
    current = metrics.epoch_minute(now or utcnow())
    end = current - current % step + step
    return end - minutes, end


def period_start(minutes=60, step=1, now=None):
    """When the chart of the last `minutes` minutes begins, so the tables beside it count
    the same jobs as the chart."""
    return metrics.minute_start(chart_minutes(minutes, step, now)[0])


def throughput(minutes=60, step=1, name=None, queue=None, now=None):
    """The chart series of the last `minutes` minutes in buckets of `step`, the current one last."""
    now = now or utcnow()
    start, end = chart_minutes(minutes, step, now)
    return metrics.series(start, end, step, name=name, queue=queue, now=now)


# ---------------------------------------------------------------------------
# Jobs
# ---------------------------------------------------------------------------


def display_state(record, now=None):
    """The state as the dashboard names it: pending jobs due later are "scheduled"."""
    now = now or utcnow()
    if record.state == "pending" and record.available_at and record.available_at > now:
        return "scheduled"
    return record.state


def job_row(record, now=None):
    return {
        "uuid": record.uuid, "name": record.name, "queue": record.queue,
        "state": display_state(record, now), "attempts": record.attempts, "duration": record.duration,
        "created_at": _iso(record.created_at), "available_at": _iso(record.available_at),
        "finished_at": _iso(record.finished_at), "last_error": record.last_error,
        "chain_id": record.chain_id, "chain_step": record.chain_step, "chain_total": record.chain_total,
        "batch_id": record.batch_id, "tags": record.tags or [],
    }


# The columns of a job list's rows (job_row); search.py reads the same.
LIST_COLUMNS = (JobRecord.id, JobRecord.uuid, JobRecord.name, JobRecord.queue, JobRecord.state,
                JobRecord.attempts, JobRecord.duration, JobRecord.created_at, JobRecord.available_at,
                JobRecord.finished_at, JobRecord.last_error, JobRecord.chain_id, JobRecord.chain_step,
                JobRecord.chain_total, JobRecord.batch_id, JobRecord.tags)


def recent_jobs(limit=12):
    now = utcnow()
    query = JobRecord.select(*LIST_COLUMNS).order_by(JobRecord.id.desc()).limit(limit)
    return [job_row(r, now) for r in query]


def jobs_page(state=None, queue=None, before=None, limit=50):
    """Newest jobs first, optionally of one state and queue, older than id `before`.

    Pending, scheduled and running jobs are few and found through the claim's
    index. For finished states the newest rows are read by primary key in
    slices, at most SCAN_LIMIT of them per page, so a rare state on a table of
    a million rows costs a bounded scan instead of a sort of every match.
    Returns (rows, next_before): next_before is the id to continue from, or None.
    """
    now = utcnow()
    base = JobRecord.select(*LIST_COLUMNS)
    if state in ("pending", "scheduled", "running"):
        query = base.where(JobRecord.state == ("running" if state == "running" else "pending"))
        if queue:
            query = query.where(JobRecord.queue == queue)
        if state == "pending":
            query = query.where(JobRecord.available_at <= now)
        elif state == "scheduled":
            query = query.where(JobRecord.available_at > now)
        if before:
            query = query.where(JobRecord.id < before)
        # id + 0: the order must not be the primary key's, or SQLite's planner (which
        # guesses a third of the table per state) reads every record newest first looking
        # for pending ones, instead of the few the claim's index holds.
        rows = list(query.order_by((JobRecord.id + 0).desc()).limit(limit + 1))
        more = len(rows) > limit
        rows = rows[:limit]
        return [job_row(r, now) for r in rows], (rows[-1].id if more and rows else None)

    found = []
    cursor = before
    scanned = 0
    slice_size = limit + 1 if state is None and not queue else 2000
    while len(found) <= limit and scanned < SCAN_LIMIT:
        # Only the columns the filter needs, so a long scan builds no models.
        query = JobRecord.select(JobRecord.id, JobRecord.state, JobRecord.queue).order_by(JobRecord.id.desc())
        if cursor:
            query = query.where(JobRecord.id < cursor)
        chunk = list(query.limit(slice_size).tuples())
        scanned += len(chunk)
        for record_id, record_state, record_queue in chunk:
            cursor = record_id
            if (state is None or record_state == state) and (not queue or record_queue == queue):
                found.append(record_id)
                if len(found) > limit:
                    break
        if len(chunk) < slice_size and len(found) <= limit:
            cursor = None  # the oldest record has been read
            break
    more = len(found) > limit
    found = found[:limit]
    records = {r.id: r for r in base.where(JobRecord.id.in_(found))} if found else {}
    rows = [job_row(records[i], now) for i in found if i in records]
    if more:
        return rows, found[-1]
    # Otherwise the scan stopped at its limit (older matches may exist: go on from
    # where it stopped) or read the oldest record (cursor is None).
    return rows, cursor


def job_detail(job_uuid):
    """A job's record, its arguments (hidden when encrypted) and its failure, or None."""
    record = JobRecord.get_or_none(JobRecord.uuid == job_uuid)
    failed = FailedJob.get_or_none(FailedJob.uuid == job_uuid)
    if record is None and failed is None:
        return None
    source = record or failed
    detail = {
        "uuid": job_uuid, "name": source.name, "queue": source.queue, "encrypted": source.encrypted,
        "record": job_row(record) if record else None,
        "arguments": None, "arguments_error": None, "failure": None,
    }
    if record is not None:
        detail["record"].update({
            "exceptions": record.exceptions, "lost": record.lost, "enqueued_at": _iso(record.enqueued_at),
            "reserved_at": _iso(record.reserved_at), "reserved_by": record.reserved_by,
            "retry_until": _iso(record.retry_until),
        })
    if not source.encrypted:
        try:
            args, kwargs = decode_payload(source.payload, False)
            detail["arguments"] = {"args": list(args), "kwargs": kwargs}
        except ValueError as exc:
            detail["arguments_error"] = f"The arguments cannot be read: {exc}"
    if failed is not None:
        detail["failure"] = failed_row(failed, with_traceback=True)
    return detail


# ---------------------------------------------------------------------------
# Failed jobs, batches, chains
# ---------------------------------------------------------------------------


def failed_row(failed, with_traceback=False):
    row = {
        "id": failed.id, "uuid": failed.uuid, "name": failed.name, "queue": failed.queue,
        "exception": failed.exception_class, "message": failed.message, "attempts": failed.attempts,
        "failed_at": _iso(failed.failed_at), "encrypted": failed.encrypted, "batch_id": failed.batch_id,
        "chain_step": failed.chain_step, "chain_total": failed.chain_total,
    }
    if with_traceback:
        row["traceback"] = failed.traceback
        if not failed.encrypted:
            try:
                args, kwargs = decode_payload(failed.payload, False)
                row["arguments"] = {"args": list(args), "kwargs": kwargs}
            except ValueError:
                row["arguments"] = None
    return row


def failed_page(page=1, per_page=50, queue=None):
    query = FailedJob.select().order_by(FailedJob.id.desc())
    if queue:
        query = query.where(FailedJob.queue == queue)
    total = query.count()
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    rows = [failed_row(f) for f in query.paginate(page, per_page)]
    return {"rows": rows, "total": total, "page": page, "pages": pages}


def running_batches(limit=10):
    return list(Batch.select().where(Batch.finished_at.is_null()).order_by(Batch.created_at.desc()).limit(limit))


def batches(limit=50):
    return [flow.describe_batch(b) for b in flow.recent_batches(limit)]


def batch_detail(batch_id, limit=500):
    found = flow.find_batch(batch_id)
    if found is None:
        return None
    now = utcnow()
    members = (JobRecord.select(*LIST_COLUMNS).where(JobRecord.batch_id == batch_id)
               .order_by(JobRecord.id).limit(limit))
    return {"batch": flow.describe_batch(found), "jobs": [job_row(r, now) for r in members]}


def chains(limit=30):
    """The newest chains with their current step (the furthest step dispatched so far).

    Chains are found among the newest SCAN_LIMIT job records, read by primary
    key (a GROUP BY over every chained record would grow with the table), and
    their steps through the partial index on chain_id.
    """
    from peewee import fn

    found = []
    cursor = None
    scanned = 0
    while len(found) < limit and scanned < SCAN_LIMIT:
        query = JobRecord.select(JobRecord.id, JobRecord.chain_id).order_by(JobRecord.id.desc()).limit(2000)
        if cursor:
            query = query.where(JobRecord.id < cursor)
        chunk = list(query.tuples())
        scanned += len(chunk)
        for record_id, chain_id in chunk:
            cursor = record_id
            if chain_id and chain_id not in found:
                found.append(chain_id)
                if len(found) == limit:
                    break
        if len(chunk) < 2000:
            break
    if not found:
        return []
    now = utcnow()
    last_ids, firsts = {}, {}
    for row in (JobRecord.select(JobRecord.chain_id, fn.MAX(JobRecord.id).alias("last_id"),
                                 fn.MIN(JobRecord.created_at).alias("first"))
                .where(JobRecord.chain_id.in_(found)).group_by(JobRecord.chain_id)):
        last_ids[row.chain_id], firsts[row.chain_id] = row.last_id, row.first
    records = {r.chain_id: r for r in JobRecord.select(*LIST_COLUMNS).where(JobRecord.id.in_(list(last_ids.values())))}
    result = []
    for chain_id in found:
        record = records.get(chain_id)
        if record is None:
            continue
        row = job_row(record, now)
        state = row["state"]
        if state == "completed" and (record.chain_step or 0) >= (record.chain_total or 0):
            chain_state = "completed"
        elif state in ("failed", "cancelled"):
            chain_state = state
        else:
            # Pending, scheduled or running; a completed middle step's successor is
            # dispatched in the same transaction, so it is only seen for an instant.
            chain_state = "running"
        first = firsts.get(chain_id)
        if isinstance(first, str):
            first = datetime.datetime.fromisoformat(first)
        result.append({"chain_id": chain_id, "step": record.chain_step, "total": record.chain_total,
                       "current": row, "state": chain_state, "started_at": _iso(first)})
    return result


def chain_detail(chain_id):
    now = utcnow()
    steps = [job_row(r, now) for r in flow.chain_progress(chain_id)]
    return steps or None
