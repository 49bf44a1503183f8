"""The Huey instance, on the queue the settings name, and the doorbells it carries.

Huey carries only a doorbell: a message naming a JobRecord. The record is
committed first, so a message lost with a killed worker or a flushed Redis is
rung again by the sweeper (sweeper.py); a duplicate doorbell finds the record
already claimed and does nothing.
"""

import datetime
import logging

from huey import Huey
from huey.utils import load_class

from job_runtime import context, registry
from job_runtime.backends import (
    PRIORITIES,
    FilteredPostgresStorage,
    FilteredRedisStorage,
    FilteredSqliteStorage,
    NotSetUpStorage,
)
from job_runtime.models import utcnow

log = logging.getLogger("job_runtime.doorbells")


class RuntimeHuey(Huey):
    """Huey, with the runtime's consumer, and without Huey's revocation.

    A job is stopped through its record (a cancelled batch, Fail, a retry
    decision), never through Huey's revoke keys, so the two storage round trips
    Huey spends on them for every task (a read before, a delete after) are
    skipped.

    `huey_consumer` asks the instance for its consumer (create_consumer). The
    consumer class is named here, not imported: the consumer module builds on
    everything else in the runtime, this module included, and a web process,
    which declares and dispatches jobs through this instance, never loads it.
    It is loaded by its dotted name when a consumer is made, the way
    huey_consumer loads the instance itself (huey.utils.load_class).
    """

    consumer_class = "job_runtime.consumer.Consumer"

    def is_revoked(self, task, timestamp=None, peek=True):
        return False

    def delete(self, key):
        if key.startswith("r:"):  # Task.revoke_id
            return False
        return super().delete(key)

    def create_consumer(self, **options):
        return load_class(self.consumer_class)(self, **options)


def _storage_settings():
    """(storage class, keyword arguments) for the configured queue connection."""
    settings = context.state.settings
    if settings.queue_connection == "redis":
        return FilteredRedisStorage, {"url": settings.redis_url}
    if settings.queue_connection == "postgres":
        return FilteredPostgresStorage, {"dsn": settings.postgres_dsn}
    return FilteredSqliteStorage, {"filename": str(settings.sqlite_path)}


def connect_queue():
    """Point `huey` at the queue the settings name (setup() calls this)."""
    storage_class, kwargs = _storage_settings()
    huey.name = context.state.settings.queue_name
    huey.storage_class = storage_class
    huey.storage_kwargs = kwargs
    huey.storage = huey.create_storage()


# Jobs are declared on this instance when their modules are imported, before
# setup() has said where the queue is; until then its storage refuses work.
huey = RuntimeHuey("jobs", results=False, utc=True, storage_class=NotSetUpStorage)


def ring(job_uuid, name, queue, available_at=None):
    """Put the doorbell for one record on the Huey queue (or its schedule).

    A failure here is logged, not raised: the record is committed, and the
    sweeper rings it again once the queue is reachable.
    """
    try:
        eta = None
        if available_at and available_at > utcnow():
            # Aware, because Huey drops the microseconds of a naive eta.
            eta = available_at.replace(tzinfo=datetime.timezone.utc)
        huey.enqueue(registry.JOBS[name].task.s(job_uuid, priority=PRIORITIES[queue], eta=eta))
    except Exception:
        log.exception("could not enqueue job %s (%s); the sweeper will retry", job_uuid, name)


def enqueued_job_ids():
    """The ids named by every doorbell on the queue and in its schedule."""
    ids = set()
    for task in huey.pending() + huey.scheduled():
        if task.args:
            ids.add(task.args[0])
    return ids
