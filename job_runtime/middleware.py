"""Job middleware, as Laravel has it: each wraps an attempt and may release the job.

    @job(middleware=[RateLimited("mail", allow=10, every=60),
                     WithoutOverlapping(lambda order_id: f"order:{order_id}")])

A key is a string, or a function of the job's arguments that returns one.
RateLimited's key names a limit: every job that uses the same key shares it, as
Laravel's named rate limiters are shared (two jobs that send mail through one
provider share its limit). WithoutOverlapping and ThrottlesExceptions keep a
key per job: the same key on two jobs makes two locks, two throttles.

State lives in the application database, which every consumer on every host
shares, so a limit holds across processes and hosts. A release (`Release`) puts
the job back with a delay and is not counted as an exception, so
`max_exceptions` still means what it says.
"""

import datetime
import time

from job_runtime.context import db
from job_runtime.errors import Fail, Release
from job_runtime.locks import acquire_lock, release_lock, seconds_left
from job_runtime.models import JobCounter, utcnow


def _key(key, attempt):
    return key(*attempt.args, **attempt.kwargs) if callable(key) else key


def _job_key(key, attempt):
    """The key of one job: the same key on another job is another key."""
    return f"{attempt.name}:{_key(key, attempt)}"


def increment(key, seconds):
    """Add one to `key`'s counter in the current window of `seconds`; returns (count, seconds left)."""
    now = time.time()
    window = int(now // seconds)
    left = (window + 1) * seconds - now
    expires = utcnow() + datetime.timedelta(seconds=left + 1)
    with db.atomic():
        rows = list(JobCounter.insert(key=key, window=window, count=1, expires_at=expires)
                    .on_conflict(conflict_target=[JobCounter.key, JobCounter.window],
                                 update={JobCounter.count: JobCounter.count + 1})
                    .returning(JobCounter.count).execute())
    return rows[0].count, left


class RateLimited:
    """At most `allow` attempts per `every` seconds under the limit `key`; the rest wait
    for the next window.

    The key names the limit, whatever job uses it: RateLimited("mail", allow=10,
    every=60) on two jobs lets ten attempts of the two together through each minute.
    A function of the job's arguments gives one limit per value it returns.
    """

    def __init__(self, key, allow, every):
        self.key, self.allow, self.every = key, allow, every

    def handle(self, attempt, proceed):
        count, left = increment("rate:" + _key(self.key, attempt), self.every)
        if count > self.allow:
            raise Release(delay=round(left + 0.05, 3), reason="rate limited")
        return proceed()


class WithoutOverlapping:
    """One attempt at a time per key of this job. The lock expires, so a crashed holder cannot block forever.

    `expire_after` defaults to the job's timeout plus a minute: no live attempt holds
    it longer than that, since the watchdog stops attempts at their timeout.
    """

    def __init__(self, key, release_after=5, expire_after=None):
        self.key, self.release_after, self.expire_after = key, release_after, expire_after

    def handle(self, attempt, proceed):
        lock = "overlap:" + _job_key(self.key, attempt)
        expire = self.expire_after or ((attempt.job.timeout or 3600) + 60)
        if not acquire_lock(lock, attempt.reservation, expire):
            raise Release(delay=self.release_after, reason="another attempt holds the lock")
        try:
            return proceed()
        finally:
            release_lock(lock, attempt.reservation)


class ThrottlesExceptions:
    """After `max_exceptions` exceptions within `decay` seconds, hold the job's attempts for `decay`
    (counted per key of this job).

    For jobs that call a service that is down: instead of burning their tries
    against it, they wait until it has had time to recover.
    """

    def __init__(self, key, max_exceptions=10, decay=600):
        self.key, self.max_exceptions, self.decay = key, max_exceptions, decay

    def handle(self, attempt, proceed):
        key = _job_key(self.key, attempt)
        breaker = "throttle-open:" + key
        held_for = seconds_left(breaker)
        if held_for > 0:
            raise Release(delay=held_for, reason="exceptions are throttled")
        try:
            return proceed()
        except (Release, Fail):
            raise
        except Exception:
            count, _ = increment("throttle:" + key, self.decay)
            if count >= self.max_exceptions:
                acquire_lock(breaker, attempt.reservation, self.decay)
            raise
