"""Pruning of the job runtime's tables, so they stay small however many jobs run.

Finished job records are kept job_retention_hours (the dashboard's
history), failed jobs failed_retention_hours; expired locks and counters,
and workers that stopped a day ago, go at once. Deletes run in chunks so a
large backlog never holds the database's write lock for long.
"""

import datetime
import time

from job_runtime import context
from job_runtime.models import Batch, FailedJob, JobCounter, JobLock, JobRecord, JobTag, WorkerRecord
from job_runtime.context import db
from job_runtime.models import utcnow

CHUNK = 2000
# Seconds between two chunks on SQLite: as long as a waiting writer sleeps between two tries.
PAUSE = 0.1


def _delete_in_chunks(model, condition, also=None):
    """Delete what matches in chunks; also(ids) deletes what goes with those rows, in their transaction."""
    removed = 0
    while True:
        with db.atomic():
            ids = [row.id for row in model.select(model.id).where(condition).limit(CHUNK)]
            if not ids:
                return removed
            if also is not None:
                also(ids)
            removed += model.delete().where(model.id.in_(ids)).execute()
        if len(ids) == CHUNK and context.is_sqlite():
            # SQLite has one write lock, and a writer waiting for it tries again after a few
            # milliseconds, then every 100 ms: chunk after chunk with no gap kept the shop's
            # writes waiting 2 s over a big backlog. A pause that long lets them in.
            time.sleep(PAUSE)


def _delete_tags(job_ids):
    JobTag.delete().where(JobTag.job_id.in_(job_ids)).execute()


def prune(now=None):
    """One pass; returns how many rows of each kind went."""
    now = now or utcnow()
    job_cutoff = now - datetime.timedelta(hours=context.state.settings.job_retention_hours)
    failed_cutoff = now - datetime.timedelta(hours=context.state.settings.failed_retention_hours)
    removed = {
        "jobs": _delete_in_chunks(JobRecord, JobRecord.state.in_(("completed", "cancelled", "failed"))
                                  & (JobRecord.finished_at < job_cutoff), also=_delete_tags),
        "failed_jobs": _delete_in_chunks(FailedJob, FailedJob.failed_at < failed_cutoff),
        "batches": Batch.delete().where(Batch.finished_at < job_cutoff).execute(),
        "locks": JobLock.delete().where(JobLock.expires_at < now).execute(),
        "counters": JobCounter.delete().where(JobCounter.expires_at < now).execute(),
        "workers": WorkerRecord.delete().where(
            WorkerRecord.last_beat_at < now - datetime.timedelta(days=1)).execute(),
    }
    return removed
