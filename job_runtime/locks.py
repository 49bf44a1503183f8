"""Named locks with an owner and an expiry, on every backend (unique jobs,
WithoutOverlapping, periodic dispatch, exception throttles)."""

import datetime

from peewee import IntegrityError

from job_runtime.context import db
from job_runtime.models import JobLock, utcnow


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


def seconds_left(key):
    """Seconds until the lock `key` expires; 0 when it is free."""
    lock = JobLock.get_or_none(JobLock.key == key)
    if lock is None:
        return 0.0
    return max(0.0, (lock.expires_at - utcnow()).total_seconds())
