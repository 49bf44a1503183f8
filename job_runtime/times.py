"""Durations and moments as the runtime takes them: seconds, timedeltas or datetimes."""

import datetime

from job_runtime.models import utcnow


def as_seconds(value):
    """Seconds (a float) from a number or a timedelta; None stays None."""
    if value is None:
        return None
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    return float(value)


def moment(delay):
    """An absolute naive-UTC time from seconds, a timedelta or a datetime (None: now).

    A naive datetime is the local time of the process, as Python's own
    datetime.now() gives it; an aware one is converted from its time zone.
    """
    if delay is None:
        return utcnow()
    if isinstance(delay, datetime.datetime):
        # astimezone() reads a naive datetime as local time.
        return delay.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return utcnow() + datetime.timedelta(seconds=as_seconds(delay))
