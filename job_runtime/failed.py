"""The failed-job store: list, retry, forget, flush and prune (`queue failed`, `queue retry` ...)."""

import datetime

from job_runtime import registry
from job_runtime.context import db
from job_runtime.doorbells import ring
from job_runtime.models import Batch, FailedJob, JobRecord, utcnow


def listing(queue=None, limit=None):
    query = FailedJob.select().order_by(FailedJob.id)
    if queue:
        query = query.where(FailedJob.queue == queue)
    if limit:
        query = query.limit(limit)
    return list(query)


def describe(failed, show_payload=True):
    """A JSON-ready summary; encrypted payloads stay hidden."""
    payload = None
    if show_payload and not failed.encrypted:
        payload = failed.payload
    return {
        "id": failed.id, "uuid": failed.uuid, "job": failed.name, "queue": failed.queue,
        "exception": failed.exception_class, "message": failed.message,
        "attempts": failed.attempts, "failed_at": failed.failed_at.isoformat(timespec="seconds") + "Z",
        "payload": payload if not failed.encrypted else "(encrypted)",
        "chain_step": failed.chain_step, "chain_total": failed.chain_total, "batch_id": failed.batch_id,
    }


def select_ids(ids=None, all_=False, id_range=None, queue=None):
    """The failed-job ids named by `queue retry`'s arguments."""
    query = FailedJob.select(FailedJob.id).order_by(FailedJob.id)
    if queue:
        query = query.where(FailedJob.queue == queue)
    if id_range:
        low, high = id_range
        query = query.where(FailedJob.id.between(low, high))
    elif ids and not all_:
        query = query.where(FailedJob.id.in_([int(i) for i in ids]))
    elif not all_ and not queue:
        return []
    return [row.id for row in query]


def retry(failed_id):
    """Put one failed job back on its queue with fresh attempts; returns its uuid or None."""
    with db.atomic():
        failed = FailedJob.get_or_none(FailedJob.id == failed_id)
        if failed is None:
            return None
        # Taking the failed job out of the store first is the claim: of two retries of
        # it at once (a double click), the second deletes nothing and stops here, so the
        # job and its batch are put back once.
        if not FailedJob.delete().where(FailedJob.id == failed.id).execute():
            return None
        record = JobRecord.get_or_none(JobRecord.uuid == failed.uuid)
        now = utcnow()
        fields = dict(state="pending", attempts=0, exceptions=0, lost=0, available_at=now,
                      enqueued_at=now, reservation=None, reserved_by=None, reserved_at=None,
                      finished_at=None, last_error=None, last_traceback=None, retried_at=now)
        if record is None:  # pruned meanwhile: recreate it from the failed copy
            record = JobRecord.create(uuid=failed.uuid, name=failed.name, queue=failed.queue,
                                      payload=failed.payload, encrypted=failed.encrypted,
                                      chain_id=failed.chain_id, chain_step=failed.chain_step,
                                      chain_total=failed.chain_total, batch_id=failed.batch_id, **fields)
        else:
            JobRecord.update(**fields).where(JobRecord.id == record.id).execute()
        if record.retry_until is not None:
            # A fresh deadline from now; now itself for a job no longer declared with one.
            job_ = registry.declared(record.name)
            deadline = (job_.policy.deadline(now) if job_ else None) or now
            JobRecord.update(retry_until=deadline).where(JobRecord.id == record.id).execute()
        if failed.batch_id and Batch.update(pending_jobs=Batch.pending_jobs + 1, failed_jobs=Batch.failed_jobs - 1,
                                            finished_at=None).where(Batch.id == failed.batch_id).execute():
            # The batch waits for this job again, and no longer lists it as failed. The
            # counters' update holds the batch's row, so its list is read after any other
            # job's change to it. Its callbacks are stamped once dispatched
            # (runner.batch_job_done): none runs twice.
            batch = Batch.get_by_id(failed.batch_id)
            Batch.update(failed_job_ids=[i for i in batch.failed_job_ids or [] if i != failed.uuid]).where(
                Batch.id == batch.id).execute()
        name, queue, job_uuid = record.name, record.queue, record.uuid
        db.after_commit(lambda: ring(job_uuid, name, queue))
    return job_uuid


def forget(failed_id):
    return FailedJob.delete().where(FailedJob.id == failed_id).execute() > 0


def flush(hours=None):
    """Delete every failed job, or those older than `hours`."""
    query = FailedJob.delete()
    if hours is not None:
        query = query.where(FailedJob.failed_at < utcnow() - datetime.timedelta(hours=hours))
    return query.execute()


def prune(hours):
    return flush(hours)
