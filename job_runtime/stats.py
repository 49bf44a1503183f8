"""Figures about the queues, from the job records: for `queue status`, the dashboard and /metrics."""

import datetime

from peewee import Case, fn

from job_runtime import control
from job_runtime.backends import QUEUES
from job_runtime.models import Batch, FailedJob, JobRecord, utcnow
from job_runtime.workers import live_workers


def _as_datetime(value):
    # SQLite returns MIN() over a datetime column as text.
    return datetime.datetime.fromisoformat(value) if isinstance(value, str) else value


def workload():
    """Per queue: pending (due now), scheduled (due later), running, and the oldest due job's wait."""
    now = utcnow()
    figures = {queue: {"pending": 0, "scheduled": 0, "running": 0, "oldest_pending_seconds": 0.0}
               for queue in QUEUES}
    due = JobRecord.available_at <= now
    rows = (JobRecord.select(JobRecord.queue, JobRecord.state,
                             fn.COUNT(JobRecord.id).alias("n"),
                             fn.SUM(Case(None, [(due, 1)], 0)).alias("due"),
                             fn.MIN(Case(None, [(due, JobRecord.available_at)], None)).alias("oldest"))
            .where(JobRecord.state.in_(("pending", "running")))
            .group_by(JobRecord.queue, JobRecord.state)
            .dicts())
    for row in rows:
        queue = figures.setdefault(row["queue"], {"pending": 0, "scheduled": 0, "running": 0,
                                                  "oldest_pending_seconds": 0.0})
        if row["state"] == "running":
            queue["running"] += row["n"]
            continue
        queue["pending"] += int(row["due"] or 0)
        queue["scheduled"] += row["n"] - int(row["due"] or 0)
        if row["oldest"] is not None:
            queue["oldest_pending_seconds"] = max(0.0, (now - _as_datetime(row["oldest"])).total_seconds())
    return figures


def status():
    paused = control.paused_queues()
    queues = workload()
    for name, figures in queues.items():
        figures["paused"] = name in paused
    workers = [{
        "id": w.id, "host": w.host, "pid": w.pid, "queues": w.queues or "all",
        "current_job": w.current_job_name, "jobs_done": w.jobs_done,
        "rss_mb": round(w.rss_bytes / 1048576, 1),
        "last_beat": w.last_beat_at.isoformat(timespec="seconds") + "Z",
    } for w in sorted(live_workers(), key=lambda w: w.id)]
    return {
        "queues": queues,
        "failed": FailedJob.select().count(),
        "workers": workers,
        "batches_running": Batch.select().where(Batch.finished_at.is_null()
                                                & Batch.cancelled_at.is_null()).count(),
        "restart_requested_at": control.restart_stamp(max_age=0),
    }
