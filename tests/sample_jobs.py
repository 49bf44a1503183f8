"""Sample jobs for the shop's tests of its queue pages, commands, deployment and
hosts (the consumer loads them via JOB_MODULES). The job runtime's own tests
have their own, in job_runtime/tests/sample_jobs.py.

Each records what it did in SampleRun (one row per run, to count runs) and
SampleEffect (unique by key: the effect a user would see, made once).
"""

import time

from peewee import CharField, DateTimeField, DoubleField, IntegerField, IntegrityError

from job_runtime import killable
from job_runtime import control
from job_runtime import crontab, current, job, periodic
from models import BaseModel, db, utcnow


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


def _run(key, name):
    attempt = current()
    SampleRun.create(key=key, job=name, attempt=attempt.attempts if attempt else 0,
                     worker=attempt.worker_id if attempt else None)


def _effect(key):
    try:
        with db.atomic():
            SampleEffect.create(key=key)
    except IntegrityError:
        pass  # made by an earlier run: doing it again changes nothing


def runs(key):
    return SampleRun.select().where(SampleRun.key == key).count()


def effect_done(key):
    return SampleEffect.select().where(SampleEffect.key == key).exists()


@job(tries=3)
def make_effect(key):
    _run(key, "make_effect")
    _effect(key)


@job(tries=3, timeout=120)
def slow_effect(key, seconds):
    _run(key, "slow_effect")
    time.sleep(seconds)
    _effect(key)


@job(tries=4, backoff=[0.2, 0.4])
def fail_first(key, failures):
    _run(key, "fail_first")
    if SampleRun.select().where(SampleRun.key == key).count() <= failures:
        raise RuntimeError(f"failure {failures} of {key}")
    _effect(key)



@job(tries=2, backoff=0)
def always_fail(key):
    _run(key, "always_fail")
    raise ValueError(f"{key} cannot succeed")


@always_fail.failed
def always_fail_failed(exc, key):
    # Runs in the consumer; the test sees it through the effect it leaves.
    _effect(f"failed-hook:{key}:{type(exc).__name__}")


@job(tries=2, timeout=1, backoff=0)
def spin(key, seconds):
    """Pure Python work: a timeout interrupts it at once."""
    _run(key, "spin")
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass
    _effect(key)


@job(tries=2, timeout=1, backoff=0)
def block(key, seconds):
    """Blocked in a C call (sleep): the watchdog hands its worker slot to a fresh thread, and
    the attempt's timeout is recorded when the call returns."""
    _run(key, "block")
    time.sleep(seconds)
    _effect(key)


@job(tries=1, encrypted=True)
def secret_effect(key, secret):
    _run(key, "secret_effect")
    _effect(f"{key}:{len(secret)}")


# ---------------------------------------------------------------------------
# Chains and batches
# ---------------------------------------------------------------------------


@job(tries=1)
def step(key):
    _run(key, "step")
    _effect(key)


@job(tries=1)
def failing_step(key):
    _run(key, "failing_step")
    raise RuntimeError(f"step {key} broke")


# ---------------------------------------------------------------------------
# Deployment: periodic dispatch across hosts, and killable work under the units
# ---------------------------------------------------------------------------

# The sample periodic job runs only while this flag is set, so consumers in
# other tests never dispatch it and their counts of jobs stay their own.
PERIODIC_SWITCH = "sample:periodic"
_every_minute = crontab(minute="*")


def _every_minute_when_switched_on(moment):
    if not _every_minute(moment):
        return False
    try:
        return control.get_flag(PERIODIC_SWITCH) is not None
    finally:
        if not db.is_closed():
            db.close()


@periodic(_every_minute_when_switched_on)
def tick():
    _run("tick", "tick")


def sum_of_squares(n):
    """Runs in killable's child process."""
    return sum(i * i for i in range(n))


@job(tries=1, timeout=30)
def crunch(key, n):
    _effect(f"{key}:{killable.call(sum_of_squares, n)}")


@job(tries=1)
def say(key):
    """A line at INFO and one at WARNING from inside a job, for the logging tests."""
    import logging

    logging.getLogger("tests.sample_jobs").info("saying %s", key)
    logging.getLogger("tests.sample_jobs").warning("warning about %s", key)


# ---------------------------------------------------------------------------
# Consumer defaults (`queue work --tries N --timeout S`) and tags
# ---------------------------------------------------------------------------


@job()
def undeclared_fail(key, seconds=0):
    """Names no tries and no timeout: the consumer's --tries and --timeout apply."""
    _run(key, "undeclared_fail")
    time.sleep(seconds)
    raise ValueError(f"{key} cannot succeed")


@job(tags=lambda order_id, key: [f"order:{order_id}"])
def tagged_effect(order_id, key):
    _run(key, "tagged_effect")
    _effect(key)
