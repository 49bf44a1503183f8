"""The sweeper: the part of "nothing lost" that runs after the fact.

Every consumer runs it at start-up and then every sweep_seconds. It
1. takes back running jobs whose worker is gone (SIGKILL, OOM, a dead host) and
   puts them on the queue again, and
2. rings again the doorbell of pending jobs whose message is not on the queue
   (never delivered, or lost when Redis restarted without persistence).
Both are safe to run on several hosts at once: every change is guarded by the
record's state and reservation, and a duplicate doorbell is ignored by claim().
"""

import datetime
import logging
import os

from job_runtime import context, control, runner
from job_runtime.doorbells import enqueued_job_ids, ring
from job_runtime.models import JobRecord, WorkerRecord, utcnow

log = logging.getLogger(__name__)

# Pending jobs rung less than this long ago may be between commit and enqueue.
RING_GRACE_SECONDS = 5


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def parse_worker_id(worker_id):
    """host:pid:name -> (host, pid); (None, None) for ids not made by a consumer."""
    parts = (worker_id or "").split(":")
    if len(parts) < 3:
        return None, None
    try:
        return parts[0], int(parts[1])
    except ValueError:
        return None, None


def worker_gone(record, worker, now=None):
    """Whether the worker that claimed `record` can no longer finish it."""
    now = now or utcnow()
    stale = now - datetime.timedelta(seconds=context.state.settings.worker_stale_seconds)
    host, pid = parse_worker_id(record.reserved_by)
    if host is None:
        # Run in a web process or a test (immediate mode); only age tells.
        return record.reserved_at is not None and record.reserved_at < stale
    if host == context.state.settings.hostname and not _pid_alive(pid):
        return True
    if worker is None:
        return record.reserved_at is not None and record.reserved_at < stale
    if worker.stopped_at is not None or worker.last_beat_at < stale:
        return True
    # The worker is alive but reports another job (or none): this attempt's outcome
    # was lost, for example a database that stayed locked past every write retry.
    beat_margin = datetime.timedelta(seconds=3 * context.state.settings.heartbeat_seconds + 5)
    return (worker.current_job != record.uuid and record.reserved_at is not None
            and record.reserved_at < now - beat_margin and worker.last_beat_at > record.reserved_at + beat_margin)


def recover_dead_workers():
    """Put back every running job whose worker is gone; returns how many."""
    running = list(JobRecord.select().where(JobRecord.state == "running"))
    if not running:
        return 0
    workers = {w.id: w for w in WorkerRecord.select().where(
        WorkerRecord.id.in_({r.reserved_by for r in running if r.reserved_by}))}
    now = utcnow()
    recovered = 0
    for record in running:
        if worker_gone(record, workers.get(record.reserved_by), now):
            recovered += bool(runner.recover_lost(record))
    return recovered


def ring_missing(queue=None, limit=5000):
    """Ring pending jobs that have no doorbell on the queue; returns how many."""
    paused = control.paused_queues()
    cutoff = utcnow() - datetime.timedelta(seconds=RING_GRACE_SECONDS)
    query = JobRecord.select(JobRecord.uuid, JobRecord.name, JobRecord.queue, JobRecord.available_at).where(
        (JobRecord.state == "pending")
        & (JobRecord.enqueued_at.is_null() | (JobRecord.enqueued_at < cutoff)))
    if queue:
        query = query.where(JobRecord.queue == queue)
    if paused:
        query = query.where(JobRecord.queue.not_in(paused))
    candidates = list(query.limit(limit))
    if not candidates:
        return 0
    present = enqueued_job_ids()
    rung = 0
    now = utcnow()
    for record in candidates:
        if record.uuid in present:
            continue
        updated = JobRecord.update(enqueued_at=now).where(
            (JobRecord.uuid == record.uuid) & (JobRecord.state == "pending")).execute()
        if updated:
            ring(record.uuid, record.name, record.queue, record.available_at)
            rung += 1
    if rung:
        log.warning("rang %d job(s) whose message was missing from the queue", rung)
    return rung


def sweep():
    """One pass of both; returns (recovered, rung)."""
    recovered = recover_dead_workers()
    rung = ring_missing()
    return recovered, rung
