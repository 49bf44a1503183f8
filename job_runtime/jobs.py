"""The job runtime's front: one decorator to declare a job, and durable dispatch.

    @job(queue="high", tries=3, backoff=[10, 30, 60], timeout=60)
    def process_webhook(event_id): ...

    process_webhook.dispatch(event.id)                 # after the caller's commit
    process_webhook.s(event.id).delay(30).dispatch()   # or later, or on another queue

Huey carries only a doorbell: a message naming the JobRecord. The record is
committed first, so a message lost with a killed worker or a flushed Redis is
rung again by the sweeper (sweeper.py); a duplicate doorbell finds the record
already claimed and does nothing. Running an attempt is runner.py.
"""

import datetime
import json
import logging
import threading
import uuid as uuidlib

from huey import Huey
from huey.api import crontab  # noqa: F401  (re-exported for tasks.py)
from peewee import IntegrityError

from job_runtime import context
from job_runtime.models import JobLock, JobRecord
from job_runtime.context import db
from job_runtime.models import utcnow
from job_runtime.backends import (
    PRIORITIES,
    QUEUES,
    FilteredPostgresStorage,
    FilteredRedisStorage,
    FilteredSqliteStorage,
    NotSetUpStorage,
)

log = logging.getLogger("jobs")


# ---------------------------------------------------------------------------
# Errors a job (or its middleware) raises on purpose
# ---------------------------------------------------------------------------


class Release(Exception):
    """Put the job back on its queue after `delay` seconds; not counted as an exception."""

    def __init__(self, delay=0, reason="released"):
        super().__init__(reason)
        self.delay = delay


class Fail(Exception):
    """Fail the job now, without further attempts."""


class JobTimeout(Exception):
    """The attempt ran past the job's timeout and was stopped."""


class WorkerLost(Exception):
    """The worker running the attempt stopped (killed, crashed or its host went away)."""


class MaxAttemptsExceeded(Exception):
    """The job has used up its attempts."""


# ---------------------------------------------------------------------------
# The Huey instance, chosen by QUEUE_CONNECTION
# ---------------------------------------------------------------------------


class RuntimeHuey(Huey):
    """Huey, with the consumer of workers.py, and without Huey's revocation.

    A job is stopped through its record (a cancelled batch, Fail, a retry
    decision), never through Huey's revoke keys, so the two storage round trips
    Huey spends on them for every task (a read before, a delete after) are
    skipped.
    """

    def is_revoked(self, task, timestamp=None, peek=True):
        return False

    def delete(self, key):
        if key.startswith("r:"):  # Task.revoke_id
            return False
        return super().delete(key)

    def create_consumer(self, **options):
        # Imported here: workers.py builds on this module, not the other way round.
        from job_runtime.consumer import Consumer

        return Consumer(self, **options)


def _storage_settings():
    """(storage class, keyword arguments) for the configured QUEUE_CONNECTION."""
    if context.state.settings.queue_connection == "redis":
        return FilteredRedisStorage, {"url": context.state.settings.redis_url}
    if context.state.settings.queue_connection == "postgres":
        return FilteredPostgresStorage, {"dsn": context.state.settings.postgres_dsn}
    return FilteredSqliteStorage, {"filename": str(context.state.settings.sqlite_path)}


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


# ---------------------------------------------------------------------------
# Declaring jobs
# ---------------------------------------------------------------------------

REGISTRY = {}
_failure_listeners = []


def _seconds(value):
    if value is None:
        return None
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    return float(value)


def _when(delay):
    """An absolute naive-UTC time from seconds, a timedelta or a datetime."""
    if delay is None:
        return utcnow()
    if isinstance(delay, datetime.datetime):
        if delay.tzinfo is not None:
            delay = delay.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        return delay
    return utcnow() + datetime.timedelta(seconds=_seconds(delay))


class Job:
    """A declared job. Call `dispatch` to queue it, `run_now` to run its body here."""

    def __init__(self, func, name=None, queue="default", tries=1, backoff=0, timeout=60,
                 max_exceptions=None, retry_until=None, unique_for=None, unique_key=None,
                 encrypted=False, middleware=()):
        if queue not in QUEUES:
            raise ValueError(f"queue must be one of {', '.join(QUEUES)}, not {queue!r}")
        if tries < 1:
            raise ValueError("tries must be at least 1")
        self.func = func
        self.name = name or func.__name__
        self.queue = queue
        self.tries = tries
        self.backoff = list(backoff) if isinstance(backoff, (list, tuple)) else [backoff]
        self.timeout = _seconds(timeout)
        self.max_exceptions = max_exceptions
        self.retry_until = _seconds(retry_until)
        self.unique_for = _seconds(unique_for)
        self.unique_key = unique_key
        self.encrypted = encrypted
        self.middleware = list(middleware)
        self._failed_hooks = []
        self.__doc__ = func.__doc__
        self.__name__ = self.name
        if self.name in REGISTRY:
            raise ValueError(f"a job named {self.name!r} is already declared")
        REGISTRY[self.name] = self
        self.task = huey.task(name=self.name)(_ring_handler(self.name))

    def __repr__(self):
        return f"<Job {self.name} queue={self.queue} tries={self.tries}>"

    def s(self, *args, **kwargs):
        """A dispatch not yet made, for delay/on_queue, chains and batches."""
        return PendingJob(self, args, kwargs)

    def dispatch(self, *args, **kwargs):
        """Record the job and ring its doorbell after the caller's commit.

        Returns the job's uuid, or None when a unique job of the same key is
        already queued.
        """
        return PendingJob(self, args, kwargs).dispatch()

    def run_now(self, *args, **kwargs):
        """Run the body in this thread, without the queue (tests, the CLI)."""
        return self.func(*args, **kwargs)

    def failed(self, hook):
        """Register `hook(exc, *args, **kwargs)`, run once when the job finally fails."""
        self._failed_hooks.append(hook)
        return hook

    def backoff_for(self, attempt):
        """Seconds before attempt `attempt + 1`; the last value of a list repeats."""
        index = min(max(attempt - 1, 0), len(self.backoff) - 1)
        return float(self.backoff[index] or 0)


def job(**options):
    """Declare a job: @job(queue="high", tries=3, backoff=10, timeout=60)."""

    def decorator(func):
        return Job(func, **options)

    return decorator


def on_failure(listener):
    """Register `listener(failed_job)` for every job's final failure (alerts, metrics)."""
    _failure_listeners.append(listener)
    return listener


def periodic(schedule, **options):
    """Declare a job that Huey's scheduler dispatches on `schedule` (a crontab).

    Start only one consumer without -n. Should two schedulers run anyway, the
    job is still dispatched once per minute it is due: each dispatch first takes
    a lock named after that minute, which outlives the job (it expires after an
    hour and is pruned), so the second scheduler finds it taken.
    """

    def decorator(func):
        declared = Job(func, **options)

        def dispatch_periodic():
            slot = f"periodic:{declared.name}:{utcnow():%Y-%m-%dT%H:%M}"
            with db.atomic():
                if acquire_lock(slot, str(uuidlib.uuid4()), 3600):
                    declared.dispatch()
                else:
                    log.info("periodic job %s already dispatched for this minute", declared.name)

        huey.periodic_task(schedule, name=f"periodic:{declared.name}")(dispatch_periodic)
        return declared

    return decorator


# ---------------------------------------------------------------------------
# Dispatch
# ---------------------------------------------------------------------------


def _cipher():
    if context.state.cipher is None:
        raise RuntimeError("encrypted jobs need a cipher: pass one to job_runtime.setup()")
    return context.state.cipher


def encode_payload(args, kwargs, encrypted):
    try:
        text = json.dumps([list(args), kwargs], separators=(",", ":"))
    except TypeError as exc:
        raise TypeError(f"job arguments must be JSON values (ids, strings), not objects: {exc}") from None
    if encrypted:
        return _cipher().encrypt(text.encode("utf-8")).decode("ascii")
    return text


def decode_payload(payload, encrypted):
    if encrypted:
        payload = _cipher().decrypt(payload.encode("ascii")).decode("utf-8")
    args, kwargs = json.loads(payload)
    return tuple(args), kwargs


class PendingJob:
    """A job with its arguments and dispatch options, not yet on the queue."""

    def __init__(self, job_, args, kwargs):
        self.job = job_
        self.args = tuple(args)
        self.kwargs = dict(kwargs)
        self.queue = job_.queue
        self.available_at = None

    def delay(self, when):
        """Run no sooner than `when`: seconds, a timedelta or a datetime."""
        self.available_at = _when(when)
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
        pending = cls(REGISTRY[spec["name"]], spec["args"], spec["kwargs"])
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
        job_ = self.job
        now = utcnow()
        available_at = self.available_at or now
        fields = {
            "uuid": str(uuidlib.uuid4()), "name": job_.name, "queue": self.queue,
            "payload": encode_payload(self.args, self.kwargs, job_.encrypted), "encrypted": job_.encrypted,
            "available_at": available_at, "enqueued_at": now, "unique_key": None,
            "retry_until": (available_at + datetime.timedelta(seconds=job_.retry_until)
                            if job_.retry_until else None),
            "created_at": now, **record_fields,
        }
        if job_.unique_for:
            # The lock and the record must be written together, or not at all.
            with db.atomic():
                fields["unique_key"] = self.unique_lock_key()
                if not acquire_lock(fields["unique_key"], fields["uuid"], job_.unique_for):
                    log.info("job %s not dispatched: a unique job with the same key is queued", job_.name)
                    return None
                _insert_record(fields)
        else:
            _insert_record(fields)
        db.after_commit(lambda: ring(fields["uuid"], job_.name, self.queue, available_at))
        return fields["uuid"]


# Every column of a new record, in order, for the one INSERT that dispatch runs
# (written out for the same reason as the claim below).
_INSERT_COLUMNS = ("uuid", "name", "queue", "payload", "encrypted", "state", "attempts", "exceptions", "lost",
                   "available_at", "enqueued_at", "unique_key", "retry_until", "chain_id", "chain_step",
                   "chain_total", "chain_rest", "batch_id", "created_at")
_INSERT_SQL = ('INSERT INTO "job" (' + ", ".join(f'"{c}"' for c in _INSERT_COLUMNS) + ") VALUES ("
               + ", ".join("?" for _ in _INSERT_COLUMNS) + ")")
_INSERT_DEFAULTS = {"state": "pending", "attempts": 0, "exceptions": 0, "lost": 0, "chain_id": None,
                    "chain_step": None, "chain_total": None, "chain_rest": None, "batch_id": None}


def _insert_record(fields):
    values = {**_INSERT_DEFAULTS, **fields}
    params = [getattr(JobRecord, column).db_value(values[column]) for column in _INSERT_COLUMNS]
    with _write_turn():
        db.execute_sql(_sql(_INSERT_SQL), params)


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
        huey.enqueue(REGISTRY[name].task.s(job_uuid, priority=PRIORITIES[queue], eta=eta))
    except Exception:
        log.exception("could not enqueue job %s (%s); the sweeper will retry", job_uuid, name)


def _ring_handler(name):
    def handle_doorbell(job_uuid):
        # Imported here: job_runner builds on this module, not the other way round.
        from job_runtime import runner

        runner.execute(job_uuid)

    handle_doorbell.__name__ = name
    return handle_doorbell


# ---------------------------------------------------------------------------
# Locks (unique jobs and WithoutOverlapping) with an expiry on every backend
# ---------------------------------------------------------------------------


def acquire_lock(key, owner, seconds):
    """Take `key` for `owner` for `seconds`, or steal it if its holder's time ran out."""
    now = utcnow()
    expires = now + datetime.timedelta(seconds=seconds)
    with db.atomic():
        taken = (JobLock.update(owner=owner, expires_at=expires)
                 .where((JobLock.key == key) & (JobLock.expires_at <= now)).execute())
        if taken:
            return True
        try:
            with db.atomic():
                JobLock.create(key=key, owner=owner, expires_at=expires)
            return True
        except IntegrityError:
            return False


def release_lock(key, owner):
    return JobLock.delete().where((JobLock.key == key) & (JobLock.owner == owner)).execute() > 0


# ---------------------------------------------------------------------------
# Running an attempt
# ---------------------------------------------------------------------------

_local = threading.local()


def current():
    """The Attempt running in this thread, or None outside a job."""
    return getattr(_local, "attempt", None)


# The consumer installs its watchdog and bookkeeping here (workers.py).
attempt_started = []
attempt_finished = []


def worker_identity():
    return getattr(_local, "worker_id", None) or "local"


def set_worker_identity(worker_id):
    """Called by each consumer worker as it starts: host:pid:name."""
    _local.worker_id = worker_id


def _sql(statement):
    """`statement` with the database's parameter placeholder."""
    param = db.obj.param
    return statement if param == "?" else statement.replace("?", param)


# SQLite has one writer at a time, and a writer that finds the file locked sleeps
# at least a millisecond before trying again. The runtime's own short writes from
# this process's worker threads take turns on a lock instead, which costs
# microseconds; other processes still meet SQLite's busy timeout.
# The lock is only ever taken outside a transaction (or to open one), never by a
# thread that may already hold SQLite's own write lock, so the two cannot deadlock.
_sqlite_writes = threading.RLock()


class _NoLock:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


_no_lock = _NoLock()


def _write_turn():
    if db.obj.param != "?" or db.in_transaction():
        return _no_lock
    return _sqlite_writes
