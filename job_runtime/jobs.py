"""Declaring jobs: one decorator for a job, one for a periodic job, and a listener for failures.

    @job(queue="high", tries=3, backoff=[10, 30, 60], timeout=60)
    def process_webhook(event_id): ...

    process_webhook.dispatch(event.id)                 # after the caller's commit
    process_webhook.s(event.id).delay(30).dispatch()   # or later, or on another queue

Each job is a Huey task whose message is only a doorbell naming the job's
record (doorbells.py); its handler runs one attempt (runner.py). Dispatch is
dispatch.py; the retry policy is policy.py.
"""

import dataclasses
import logging
import uuid as uuidlib

from peewee import DatabaseError

from job_runtime import registry, runner
from job_runtime.backends import QUEUES
from job_runtime.context import db
from job_runtime.dispatch import PendingJob
from job_runtime.doorbells import huey
from job_runtime.locks import acquire_lock
from job_runtime.models import utcnow
from job_runtime.policy import RetryPolicy
from job_runtime.times import as_seconds

log = logging.getLogger(__name__)


# What a job that names no tries or timeout gets, unless the consumer was given
# others (`queue work --tries N --timeout S`, apply_defaults()).
DEFAULT_TRIES = 1
DEFAULT_TIMEOUT = 60
# A tag is stored in a CharField.
MAX_TAG_LENGTH = 255


class Job:
    """A declared job. Call `dispatch` to queue it, `run_now` to run its body here.

    tags: what the job concerns, for the dashboard and the search of jobs: a
    list of strings, or a function of the job's arguments that returns one,
    `tags=lambda order_id: [f"order:{order_id}"]`. An encrypted job has none:
    tags are shown and searched, and would give away what encryption hides.
    """

    def __init__(self, func, name=None, queue="default", tries=None, backoff=0, timeout=None,
                 max_exceptions=None, retry_until=None, unique_for=None, unique_key=None,
                 encrypted=False, middleware=(), tags=None):
        if queue not in QUEUES:
            raise ValueError(f"queue must be one of {', '.join(QUEUES)}, not {queue!r}")
        if encrypted and tags:
            raise ValueError("an encrypted job cannot have tags: they would show what its arguments hide")
        self.func = func
        self.name = name or func.__name__
        self.queue = queue
        # Whether the declaration named them: only those it left out take the consumer's defaults.
        self.sets_tries = tries is not None
        self.sets_timeout = timeout is not None
        self.policy = RetryPolicy(tries=DEFAULT_TRIES if tries is None else tries, backoff=backoff,
                                  max_exceptions=max_exceptions, retry_until=as_seconds(retry_until))
        self.timeout = as_seconds(DEFAULT_TIMEOUT if timeout is None else timeout)
        self.tags = tags
        self.unique_for = as_seconds(unique_for)
        self.unique_key = unique_key
        self.encrypted = encrypted
        self.middleware = list(middleware)
        # hook(exc, *args, **kwargs), run once when the job finally fails (see failed()).
        self.failed_hooks = []
        self.__doc__ = func.__doc__
        self.__name__ = self.name
        if self.name in registry.JOBS:
            raise ValueError(f"a job named {self.name!r} is already declared")
        registry.JOBS[self.name] = self
        self.task = huey.task(name=self.name)(_doorbell_handler(self.name))

    def __repr__(self):
        return f"<Job {self.name} queue={self.queue} tries={self.policy.tries}>"

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
        self.failed_hooks.append(hook)
        return hook

    def tags_for(self, args, kwargs):
        """The tags of a dispatch with these arguments: distinct strings, in the order given.

        A tag function that raises is logged and the job goes without tags: a
        label is never a reason to lose a job. A database error is the
        exception: it has spoiled the caller's transaction (on PostgreSQL), so
        it goes up as any failed write of the dispatch would.
        """
        if not self.tags:
            return []
        try:
            found = self.tags(*args, **kwargs) if callable(self.tags) else self.tags
            tags = [str(tag)[:MAX_TAG_LENGTH] for tag in found if tag is not None and str(tag)]
        except DatabaseError:
            raise
        except Exception:
            log.exception("the tags of job %s could not be worked out; dispatching it without", self.name)
            return []
        return list(dict.fromkeys(tags))


def _doorbell_handler(name):
    def handle_doorbell(job_uuid):
        runner.execute(job_uuid)

    handle_doorbell.__name__ = name
    return handle_doorbell


def job(**options):
    """Declare a job: @job(queue="high", tries=3, backoff=10, timeout=60)."""

    def decorator(func):
        return Job(func, **options)

    return decorator


def apply_defaults(tries=None, timeout=None):
    """Give every declared job that names no tries (or timeout) these instead.

    A consumer calls it once its jobs are declared (`queue work --tries N
    --timeout S`); a job that names its own keeps them.
    """
    for declared in registry.JOBS.values():
        if tries is not None and not declared.sets_tries:
            declared.policy = dataclasses.replace(declared.policy, tries=tries)
        if timeout is not None and not declared.sets_timeout:
            declared.timeout = as_seconds(timeout)


def on_failure(listener):
    """Register `listener(failed_job)` for every job's final failure (alerts, metrics)."""
    registry.FAILURE_LISTENERS.append(listener)
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
