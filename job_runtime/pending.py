"""Jobs not started yet, by hand: clear a queue, delete a waiting job, run a scheduled one now.

    clear("default")      every pending job of the queue (due or scheduled) is dropped
    delete(job_uuid)      one pending job
    run_now(job_uuid)     a scheduled job becomes due at once

A dropped job is not deleted from the table: its record is marked cancelled,
with the reason, so the dashboard's history and the figures stay right and the
record is pruned like any finished one. Its doorbell may still be on the Huey
queue; rung, it finds no pending record to claim and does nothing. A dropped
job of a batch counts as a skipped one (as in a cancelled batch), so the
batch still finishes; a dropped chain step ends its chain.
"""

import logging

from job_runtime.backends import QUEUES
from job_runtime.context import db
from job_runtime.doorbells import ring
from job_runtime.locks import release_lock
from job_runtime.models import JobRecord, utcnow
from job_runtime.runner import batch_job_done

log = logging.getLogger(__name__)

CHUNK = 500
CLEARED = "Cleared from the queue before it ran"


def _drop(condition, reason):
    """Mark the pending records matching `condition` cancelled, in chunks; returns how many."""
    dropped = 0
    while True:
        with db.atomic():
            ids = [row.id for row in JobRecord.select(JobRecord.id)
                   .where(condition & (JobRecord.state == "pending")).limit(CHUNK)]
            if not ids:
                return dropped
            now = utcnow()
            # The state in the WHERE clause again: a worker may have claimed one meanwhile.
            rows = list(JobRecord.update(state="cancelled", finished_at=now, last_error=reason, reservation=None)
                        .where(JobRecord.id.in_(ids) & (JobRecord.state == "pending"))
                        .returning(JobRecord.uuid, JobRecord.unique_key, JobRecord.batch_id).execute())
            for row in rows:
                if row.unique_key:
                    release_lock(row.unique_key, row.uuid)
                if row.batch_id:
                    batch_job_done(row.batch_id, failed=False, job_uuid=row.uuid, cancelled=True)
            dropped += len(rows)


def pending_count(queue=None):
    """How many jobs clear(queue) would drop: pending ones, due or scheduled."""
    query = JobRecord.select().where(JobRecord.state == "pending")
    if queue:
        query = query.where(JobRecord.queue == queue)
    return query.count()


def clear(queue=None, reason=CLEARED):
    """Drop every pending job of `queue` (of every queue without one); returns how many."""
    if queue is not None and queue not in QUEUES:
        raise ValueError(f"unknown queue {queue!r}; the queues are {', '.join(QUEUES)}")
    condition = JobRecord.queue == queue if queue else JobRecord.id.is_null(False)
    dropped = _drop(condition, reason)
    log.warning("cleared %d pending job(s) from %s", dropped, f"the {queue} queue" if queue else "every queue")
    return dropped


def delete(job_uuid, reason="Deleted before it ran"):
    """Drop one pending job; False when it is not pending (running, finished or unknown)."""
    return _drop(JobRecord.uuid == job_uuid, reason) == 1


def run_now(job_uuid):
    """Make a pending job due now and ring its doorbell; False when it is not pending.

    The doorbell rung for its old time finds it done (or running) then, and does nothing.
    """
    now = utcnow()
    with db.atomic():
        changed = (JobRecord.update(available_at=now, enqueued_at=now)
                   .where((JobRecord.uuid == job_uuid) & (JobRecord.state == "pending")).execute())
        record = JobRecord.get_or_none(JobRecord.uuid == job_uuid) if changed else None
    if record is None:
        return False
    ring(record.uuid, record.name, record.queue)
    return True
