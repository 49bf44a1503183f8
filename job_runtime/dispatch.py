"""Durable dispatch: the job's record is written, and its doorbell rung after the caller's commit.

    process_webhook.s(event.id).delay(30).on_queue("high").dispatch()
"""

import json
import logging
import uuid as uuidlib

from job_runtime import registry
from job_runtime.backends import QUEUES
from job_runtime.context import db
from job_runtime.doorbells import ring
from job_runtime.locks import acquire_lock
from job_runtime.models import JobRecord, JobTag, utcnow
from job_runtime.payload import encode_payload
from job_runtime.times import moment
from job_runtime.writes import sql, write_turn

log = logging.getLogger(__name__)


class PendingJob:
    """A job with its arguments and dispatch options, not yet on the queue."""

    def __init__(self, job_, args, kwargs):
        self.job = job_
        self.args = tuple(args)
        self.kwargs = dict(kwargs)
        self.queue = job_.queue
        self.available_at = None

    def delay(self, when):
        """Run no sooner than `when`: seconds, a timedelta or a datetime.

        A naive datetime is local time (what datetime.now() returns); give an
        aware one (tzinfo set) for any other zone.
        """
        self.available_at = moment(when)
        return self

    def on_queue(self, queue):
        if queue not in QUEUES:
            raise ValueError(f"queue must be one of {', '.join(QUEUES)}, not {queue!r}")
        self.queue = queue
        return self

    def spec(self):
        """A JSON form, for chains and batch callbacks."""
        delay = None
        if self.available_at is not None:
            delay = max(0.0, (self.available_at - utcnow()).total_seconds())
        return {"name": self.job.name, "args": list(self.args), "kwargs": self.kwargs,
                "queue": self.queue, "delay": delay}

    @classmethod
    def from_spec(cls, spec):
        pending = cls(registry.JOBS[spec["name"]], spec["args"], spec["kwargs"])
        pending.queue = spec.get("queue") or pending.queue
        if spec.get("delay"):
            pending.delay(spec["delay"])
        return pending

    def unique_lock_key(self):
        if self.job.unique_key is not None:
            suffix = str(self.job.unique_key(*self.args, **self.kwargs))
        else:
            suffix = json.dumps([self.args, self.kwargs], sort_keys=True, separators=(",", ":"))
        return f"unique:{self.job.name}:{suffix}"

    def dispatch(self, **record_fields):
        """Record the job and ring its doorbell after the caller's commit.

        Returns the job's uuid, or None when a unique job of the same key is
        already queued.
        """
        job_ = self.job
        now = utcnow()
        available_at = self.available_at or now
        tags = job_.tags_for(self.args, self.kwargs)
        fields = {
            "uuid": str(uuidlib.uuid4()), "name": job_.name, "queue": self.queue,
            "payload": encode_payload(self.args, self.kwargs, job_.encrypted), "encrypted": job_.encrypted,
            "available_at": available_at, "enqueued_at": now, "unique_key": None,
            "retry_until": job_.policy.deadline(available_at),
            "created_at": now, "tags": tags or None, **record_fields,
        }
        if job_.unique_for:
            # The lock and the record must be written together, or not at all.
            with db.atomic():
                fields["unique_key"] = self.unique_lock_key()
                if not acquire_lock(fields["unique_key"], fields["uuid"], job_.unique_for):
                    log.info("job %s not dispatched: a unique job with the same key is queued", job_.name)
                    return None
                insert_record(fields)
                insert_tags(fields["uuid"], tags)
        elif tags:
            # The record and its tags are written together.
            with db.atomic():
                insert_record(fields)
                insert_tags(fields["uuid"], tags)
        else:
            insert_record(fields)
        db.after_commit(lambda: ring(fields["uuid"], job_.name, self.queue, available_at))
        return fields["uuid"]


# Every column of a new record, in order, for the one INSERT that dispatch runs.
# It is written out in SQL because building it with peewee took longer than
# running it (as for the runner's claim and completion).
_INSERT_COLUMNS = ("uuid", "name", "queue", "payload", "encrypted", "state", "attempts", "exceptions", "lost",
                   "available_at", "enqueued_at", "unique_key", "retry_until", "chain_id", "chain_step",
                   "chain_total", "chain_rest", "batch_id", "created_at", "tags")
_INSERT_SQL = ('INSERT INTO "job" (' + ", ".join(f'"{c}"' for c in _INSERT_COLUMNS) + ") VALUES ("
               + ", ".join("?" for _ in _INSERT_COLUMNS) + ")")
_INSERT_DEFAULTS = {"state": "pending", "attempts": 0, "exceptions": 0, "lost": 0, "chain_id": None,
                    "chain_step": None, "chain_total": None, "chain_rest": None, "batch_id": None,
                    "tags": None}


def insert_record(fields):
    """INSERT one new job record; `fields` override the defaults of a fresh job."""
    values = {**_INSERT_DEFAULTS, **fields}
    params = [getattr(JobRecord, column).db_value(values[column]) for column in _INSERT_COLUMNS]
    with write_turn():
        db.execute_sql(sql(_INSERT_SQL), params)


# The tags' rows take the new record's id, which only the database knows; written out in
# SQL like the record's own INSERT (peewee built this one per tag, for every tagged job).
_INSERT_TAG_SQL = 'INSERT INTO "job_tag" ("tag", "job_id") SELECT ?, "id" FROM "job" WHERE "uuid" = ?'


def insert_tags(job_uuid, tags):
    """The search index's rows for a new record's tags (inside the record's transaction)."""
    statement = sql(_INSERT_TAG_SQL)
    for tag in tags:
        db.execute_sql(statement, (JobTag.tag.db_value(tag), job_uuid))


def dispatch_callback(spec, batch_id):
    """Dispatch a batch's callback (a job spec, or None), with the batch id first."""
    if spec:
        PendingJob.from_spec({**spec, "args": [batch_id, *spec.get("args", [])]}).dispatch()
