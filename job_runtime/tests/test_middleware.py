"""Middleware: rate limits, overlap locks with an expiry, exception throttling, counters."""

import datetime
import time

from job_runtime import locks  # internal: acquire_lock, release_lock
from job_runtime.middleware import increment
from job_runtime.models import JobLock, JobRecord, utcnow
from job_runtime.tests.sample_jobs import (
    calls_flaky_service,
    effect_done,
    exclusive,
    limited,
    mail_receipt,
    mail_reminder,
    runs,
)

# WithoutOverlapping's lock: "overlap:", the job's name and the key it was given.
EXCLUSIVE_LOCK = f"overlap:{exclusive.name}:shared"


def test_counters_count_within_a_window():
    first, left = increment("probe", 60)
    second, _ = increment("probe", 60)
    assert (first, second) == (1, 2) and 0 < left <= 60


def test_jobs_that_name_the_same_rate_limit_share_it():
    uuids = [mail_receipt.dispatch("m1"), mail_reminder.dispatch("m2"), mail_reminder.dispatch("m3"),
             mail_receipt.dispatch("m4")]
    states = [JobRecord.get(JobRecord.uuid == u).state for u in uuids]
    # Two attempts a minute between them: the first two ran, the other two wait for the next minute.
    assert states == ["completed", "completed", "pending", "pending"]
    assert effect_done("m1") and effect_done("m2") and not effect_done("m3") and not effect_done("m4")


def test_rate_limited_jobs_beyond_the_limit_are_released_to_the_next_window():
    uuids = [limited.dispatch(f"r{i}") for i in range(3)]
    states = [JobRecord.get(JobRecord.uuid == u) for u in uuids]
    assert [s.state for s in states] == ["completed", "completed", "pending"]
    third = states[2]
    assert third.exceptions == 0 and third.attempts == 1  # a release, not a failure
    assert 0 < (third.available_at - utcnow()).total_seconds() <= 2.1


def test_without_overlapping_releases_while_another_attempt_holds_the_lock():
    locks.acquire_lock(EXCLUSIVE_LOCK, "someone-else", 60)
    job_uuid = exclusive.dispatch("o1", 0)
    row = JobRecord.get(JobRecord.uuid == job_uuid)
    assert row.state == "pending" and row.exceptions == 0 and not effect_done("o1")


def test_an_expired_overlap_lock_cannot_block_forever():
    JobLock.create(key=EXCLUSIVE_LOCK, owner="a-crashed-worker",
                   expires_at=utcnow() - datetime.timedelta(seconds=1))
    exclusive.dispatch("o2", 0)
    assert effect_done("o2")
    assert not JobLock.select().where(JobLock.key == EXCLUSIVE_LOCK).exists()


def test_throttled_exceptions_hold_the_job_instead_of_burning_its_tries():
    job_uuid = calls_flaky_service.dispatch("f1")  # backoff 0: retried at once, in immediate mode
    row = JobRecord.get(JobRecord.uuid == job_uuid)
    # Two exceptions opened the breaker; the third attempt was held back, not run.
    assert runs("f1") == 2
    assert row.state == "pending" and row.exceptions == 2
    assert 25 < (row.available_at - utcnow()).total_seconds() <= 30


def test_lock_is_taken_by_one_owner_only():
    assert locks.acquire_lock("k", "a", 30)
    assert not locks.acquire_lock("k", "b", 30)
    assert not locks.release_lock("k", "b")
    assert locks.release_lock("k", "a")
    assert locks.acquire_lock("k", "b", 0.01)
    time.sleep(0.02)
    assert locks.acquire_lock("k", "c", 30)
