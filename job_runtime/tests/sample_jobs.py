"""Jobs that exist only for the runtime's tests; app.py declares them in the consumers too.

Each records what it did in SampleRun (one row per run, to count runs) and
SampleEffect (unique by key: the effect a user would see, made once). The
tables are the tests' own, on the runtime's database handle, beside the
runtime's tables (MODELS).

Every job is named sample_<function>: an application's own test jobs may be
declared in the same process (one test run covers both) under the plain names.
"""

import datetime
import time

from peewee import CharField, DateTimeField, DoubleField, IntegerField, IntegrityError, Model

import job_runtime
from job_runtime import context


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


class BaseModel(Model):
    class Meta:
        database = context.db
        legacy_table_names = False


class SampleRun(BaseModel):
    key = CharField(index=True)
    job = CharField()
    attempt = IntegerField()
    worker = CharField(null=True)
    at = DateTimeField(default=utcnow)
    # DoubleField: PostgreSQL's FloatField is a 4-byte REAL, which rounds a unix time to 128 s.
    started = DoubleField(default=time.time)


class SampleEffect(BaseModel):
    key = CharField(unique=True)
    at = DateTimeField(default=utcnow)


class SampleSpan(BaseModel):
    """When an attempt ran, to check that attempts under one lock never overlap."""

    key = CharField(index=True)
    started = DoubleField()
    finished = DoubleField()


MODELS = [SampleRun, SampleEffect, SampleSpan]


def sample_job(**options):
    """job_runtime.job, named sample_<function>."""

    def decorator(func):
        return job_runtime.job(name=f"sample_{func.__name__}", **options)(func)

    return decorator


def _run(key, name):
    attempt = job_runtime.current()
    SampleRun.create(key=key, job=name, attempt=attempt.attempts if attempt else 0,
                     worker=attempt.worker_id if attempt else None)


def _effect(key):
    try:
        with context.db.atomic():
            SampleEffect.create(key=key)
    except IntegrityError:
        pass  # made by an earlier run: doing it again changes nothing


def runs(key):
    return SampleRun.select().where(SampleRun.key == key).count()


def effect_done(key):
    return SampleEffect.select().where(SampleEffect.key == key).exists()


@sample_job(tries=3)
def make_effect(key):
    _run(key, "make_effect")
    _effect(key)


@sample_job(tries=3, timeout=120)
def slow_effect(key, seconds):
    _run(key, "slow_effect")
    time.sleep(seconds)
    _effect(key)


@sample_job(tries=4, backoff=[0.2, 0.4])
def fail_first(key, failures):
    _run(key, "fail_first")
    if SampleRun.select().where(SampleRun.key == key).count() <= failures:
        raise RuntimeError(f"failure {failures} of {key}")
    _effect(key)


@sample_job(tries=2, backoff=0)
def always_fail(key):
    _run(key, "always_fail")
    raise ValueError(f"{key} cannot succeed")


@always_fail.failed
def always_fail_failed(exc, key):
    # Runs in the consumer; the test sees it through the effect it leaves.
    _effect(f"failed-hook:{key}:{type(exc).__name__}")


@sample_job(tries=2, timeout=1, backoff=0)
def spin(key, seconds):
    """Pure Python work: a timeout interrupts it at once."""
    _run(key, "spin")
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass
    _effect(key)


@sample_job(tries=2, timeout=1, backoff=0)
def block(key, seconds):
    """Blocked in a C call (sleep): only the watchdog's give-up frees the worker."""
    _run(key, "block")
    started = time.time()
    try:
        time.sleep(seconds)
    finally:
        # When the attempt really stopped: the next one must not start before.
        SampleSpan.create(key=key, started=started, finished=time.time())
    _effect(key)


@sample_job(retry_until=2, backoff=0.2)
def fail_until_late(key):
    """Fails each attempt; a busy worker picks its retry up after the deadline."""
    _run(key, "fail_until_late")
    raise LookupError(f"{key} is not there yet")


@fail_until_late.failed
def fail_until_late_failed(exc, key):
    _effect(f"failed-hook:{key}:{type(exc).__name__}")


@sample_job(tries=1)
def fail_once(key):
    """Fails its first run only: retried from the failed store, it succeeds."""
    _run(key, "fail_once")
    if runs(key) == 1:
        raise RuntimeError(f"{key} fails the first time")
    _effect(key)


@sample_job(tries=1)
def logged_step(key):
    _effect(key)


@sample_job(tries=10)
def release_once(key, delay):
    _run(key, "release_once")
    if runs(key) == 1:
        raise job_runtime.Release(delay)
    _effect(key)


@sample_job(tries=5)
def fail_now(key):
    _run(key, "fail_now")
    raise job_runtime.Fail("this input can never work")


@sample_job(tries=1, encrypted=True)
def secret_effect(key, secret):
    _run(key, "secret_effect")
    _effect(f"{key}:{len(secret)}")


# ---------------------------------------------------------------------------
# Middleware
# ---------------------------------------------------------------------------


@sample_job(tries=20, timeout=30, middleware=[job_runtime.WithoutOverlapping("shared", release_after=0.2)])
def exclusive(key, seconds):
    started = time.time()
    time.sleep(seconds)
    SampleSpan.create(key=key, started=started, finished=time.time())
    _effect(key)


@sample_job(tries=20, middleware=[job_runtime.RateLimited("shared", allow=2, every=2)])
def limited(key):
    _run(key, "limited")
    SampleSpan.create(key=key, started=time.time(), finished=time.time())
    _effect(key)


# Two jobs that send through one mail provider share its limit, named "mail".
@sample_job(tries=20, middleware=[job_runtime.RateLimited("mail", allow=2, every=60)])
def mail_receipt(key):
    _effect(key)


@sample_job(tries=20, middleware=[job_runtime.RateLimited("mail", allow=2, every=60)])
def mail_reminder(key):
    _effect(key)


@sample_job(tries=10, backoff=0,
            middleware=[job_runtime.ThrottlesExceptions("flaky-service", max_exceptions=2, decay=30)])
def calls_flaky_service(key):
    _run(key, "calls_flaky_service")
    raise ConnectionError("the service is down")


# ---------------------------------------------------------------------------
# Chains and batches
# ---------------------------------------------------------------------------


@sample_job(tries=1)
def step(key):
    _run(key, "step")
    _effect(key)


@sample_job(tries=1)
def failing_step(key):
    _run(key, "failing_step")
    raise RuntimeError(f"step {key} broke")


@sample_job(tries=1)
def batch_callback(batch_id, name):
    _run(f"{name}:{batch_id}", "batch_callback")
    _effect(f"{name}:{batch_id}")


# ---------------------------------------------------------------------------
# Periodic dispatch
# ---------------------------------------------------------------------------


# Every ten minutes; the consumers of the tests start with -n, so only a test
# that asks Huey's scheduler itself ever dispatches it.
@job_runtime.periodic(job_runtime.crontab(minute="*/10"), name="sample_every_ten_minutes")
def every_ten_minutes():
    _run("every-ten-minutes", "every_ten_minutes")
