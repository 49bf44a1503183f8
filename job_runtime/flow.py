"""Chains and batches of jobs.

    chain([process_webhook.s(event_id), generate_invoice.s(order_id),
           send_invoice_email.s(order_id)]).dispatch()

    batch([process_file_upload.s(p) for p in ids], name="thumbnails")
        .then(report_done.s()).catch(alert.s()).finally_(cleanup.s()).dispatch()

A chain stores the steps still to come on the running job's record; the next
step is dispatched in the same transaction that marks the step completed, so a
consumer restart cannot lose or repeat it. A failed step ends the chain, and
its failed-job record says which step it was.

Batch callbacks are jobs too; each receives the batch id as its first argument.
The counters change in single UPDATEs (runner.batch_job_done), so each callback
is dispatched exactly once even when the last jobs finish together on
different workers.
"""

import uuid

from job_runtime.context import db
from job_runtime.dispatch import dispatch_callback
from job_runtime.models import Batch, JobRecord, utcnow


class Chain:
    def __init__(self, steps):
        self.steps = list(steps)
        if not self.steps:
            raise ValueError("a chain needs at least one job")

    def dispatch(self):
        """Dispatch the first step; returns the chain id."""
        chain_id = str(uuid.uuid4())
        rest = [step.spec() for step in self.steps[1:]]
        self.steps[0].dispatch(chain_id=chain_id, chain_step=1, chain_total=len(self.steps),
                               chain_rest=rest or None)
        return chain_id


def chain(steps):
    return Chain(steps)


def chain_progress(chain_id):
    """The chain's records in step order: what ran, what runs, where it stopped."""
    return list(JobRecord.select().where(JobRecord.chain_id == chain_id).order_by(JobRecord.chain_step))


class PendingBatch:
    def __init__(self, pending_jobs, name="", allow_failures=False):
        self.jobs = list(pending_jobs)
        self.name = name
        self.allow_failures = allow_failures
        self.callbacks = {}

    def then(self, pending):
        """Dispatched once every job has succeeded."""
        self.callbacks["then"] = pending.spec()
        return self

    def catch(self, pending):
        """Dispatched at the first failure (after its last attempt)."""
        self.callbacks["catch"] = pending.spec()
        return self

    def finally_(self, pending):
        """Dispatched once every job has finished, whatever happened."""
        self.callbacks["finally"] = pending.spec()
        return self

    def dispatch(self):
        """Create the batch and dispatch its jobs in one transaction; returns the batch id."""
        batch_id = str(uuid.uuid4())
        with db.atomic():
            Batch.create(id=batch_id, name=self.name, total_jobs=len(self.jobs), pending_jobs=len(self.jobs),
                         allow_failures=self.allow_failures, callbacks=self.callbacks)
            for pending in self.jobs:
                pending.dispatch(batch_id=batch_id)
            if not self.jobs:
                now = utcnow()
                Batch.update(finished_at=now, then_at=now, finally_at=now).where(Batch.id == batch_id).execute()
                dispatch_callback(self.callbacks.get("then"), batch_id)
                dispatch_callback(self.callbacks.get("finally"), batch_id)
        return batch_id


def batch(pending_jobs, name="", allow_failures=False):
    return PendingBatch(pending_jobs, name=name, allow_failures=allow_failures)


def find_batch(batch_id):
    return Batch.get_or_none(Batch.id == batch_id)


def cancel(batch_id):
    """Cancel a batch: its jobs that have not started are skipped."""
    return Batch.update(cancelled_at=utcnow()).where(
        (Batch.id == batch_id) & Batch.cancelled_at.is_null() & Batch.finished_at.is_null()).execute() > 0


def recent_batches(limit=50):
    return list(Batch.select().order_by(Batch.created_at.desc()).limit(limit))


def batch_state(batch_):
    if batch_.cancelled_at and not batch_.finished_at:
        return "cancelling"
    if batch_.cancelled_at:
        return "cancelled"
    if batch_.finished_at:
        return "failed" if batch_.failed_jobs else "completed"
    return "running"


def describe_batch(batch_):
    done = batch_.total_jobs - batch_.pending_jobs
    return {
        "id": batch_.id, "name": batch_.name, "total": batch_.total_jobs, "pending": batch_.pending_jobs,
        "failed": batch_.failed_jobs, "processed": done,
        "progress": round(100 * done / batch_.total_jobs) if batch_.total_jobs else 100,
        "state": batch_state(batch_), "allow_failures": batch_.allow_failures,
        "created_at": batch_.created_at.isoformat(timespec="seconds") + "Z",
        "finished_at": batch_.finished_at.isoformat(timespec="seconds") + "Z" if batch_.finished_at else None,
        "failed_job_ids": batch_.failed_job_ids,
    }
