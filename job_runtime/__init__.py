"""A job runtime on Huey: durable jobs, retries by policy, timeouts that hold,
chains, batches, middleware, a failed-job store and worker control.

It imports nothing of the application that uses it. The application declares
its jobs with `job` and `periodic`, and calls `setup()` once per process with
its database and settings:

    import job_runtime

    @job_runtime.job(queue="high", tries=3, backoff=[10, 30, 60], timeout=60)
    def process_webhook(event_id): ...

    job_runtime.setup(database, job_runtime.RuntimeSettings(queue_connection="redis"))
    process_webhook.dispatch(event.id)

The consumer is `huey_consumer <module>.huey`, where <module> imports the jobs
and calls setup(). This module is the public API; nothing outside the package
needs a name from its submodules' underscores.

The package, bottom up; a module imports only those listed before it:
  context, models, errors, times, registry, thread_state  what setup() gave, the tables, the basics
  policy                    RetryPolicy: every retry decision
  compat, backends          Huey's and peewee's internals; Huey storages per queue connection
  doorbells                 the Huey instance and the doorbells it carries
  payload, locks, writes    job arguments, named locks, the hot writes
  control                   paused queues and restarts
  dispatch, runner, jobs    dispatch a job, run an attempt, declare jobs
  flow, middleware, failed  chains and batches, middleware, the failed-job store
  pending                   jobs not started, by hand: clear a queue, delete, run now
  workers, stats            live workers and queue figures (read by the web side)
  sweeper, consumer, cli    recovery, huey_consumer's consumer, the queue commands
  killable, retention       child processes for heavy work, pruning
  monitoring/               dashboard, metrics, alerts, the search of jobs, Prometheus:
                            what the web side mounts; it never loads the consumer
"""

from huey import crontab  # the schedules of periodic(): periodic(crontab(minute="*/10"))

from job_runtime import context, doorbells
from job_runtime.backends import QUEUES
from job_runtime.context import Cipher, Notifier, RuntimeSettings
from job_runtime.dispatch import PendingJob
from job_runtime.doorbells import huey
from job_runtime.errors import Fail, JobTimeout, MaxAttemptsExceeded, Release, WorkerLost
from job_runtime.flow import batch, chain
from job_runtime.jobs import Job, job, on_failure, periodic
from job_runtime.middleware import RateLimited, ThrottlesExceptions, WithoutOverlapping
from job_runtime.models import MODELS
from job_runtime.policy import RetryPolicy
from job_runtime.thread_state import current


def setup(database, settings=None, cipher=None, notifier=None, open_database=None, startup_check=None):
    """Give the runtime what it needs; call again to point it elsewhere (tests).

    database: a peewee Database (or a proxy of one) holding the runtime's tables
        (MODELS) beside the application's.
    settings: a RuntimeSettings.
    cipher: an object with encrypt(bytes) and decrypt(bytes), for encrypted jobs.
    notifier: notifier(key, subject, text) -> count, for queue alerts.
    open_database: open_database(asynchronous_commit) reopens the database in a
        consumer process, which on PostgreSQL asks for asynchronous commits.
    startup_check: startup_check() is called once when a consumer starts, before
        any worker; it raises SystemExit to refuse (a schema the code does not fit).
    """
    state = context.state
    state.settings = settings or RuntimeSettings()
    state.cipher = cipher
    state.notifier = notifier
    state.open_database = open_database
    state.startup_check = startup_check
    context.db.initialize(database)
    doorbells.connect_queue()
    state.ready = True


__all__ = [
    "Cipher", "Fail", "Job", "JobTimeout", "MODELS", "MaxAttemptsExceeded", "Notifier", "PendingJob",
    "QUEUES", "RateLimited", "Release", "RetryPolicy", "RuntimeSettings", "ThrottlesExceptions", "WithoutOverlapping",
    "WorkerLost", "batch", "chain", "crontab", "current", "huey", "job", "on_failure", "periodic", "setup",
]
