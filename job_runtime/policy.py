"""A job's retry policy: one small value that answers every retry question.

    RetryPolicy(tries=3, backoff=(10, 30, 60), max_exceptions=None, retry_until=None)

- tries: attempts a job may use. An attempt cut short by a dead worker does
  not count (the record's `lost`); see max_lost.
- backoff: seconds before the next attempt, one value per attempt; the last
  value repeats.
- max_exceptions: fail at this many exceptions, however many tries are left.
  A Release (rate limits, overlapping attempts) is not an exception.
- retry_until: seconds from dispatch during which the job is retried, however
  many attempts that takes; the deadline replaces `tries`.
- max_lost: fail a job whose worker died under it this many times (a job that
  takes its worker down with it every time); None uses the runtime's setting.

The runner asks the policy before an attempt (refusal), after an exception
(retry or fail), and when the sweeper finds an attempt's worker gone; the
dispatcher and `queue retry` ask it for the retry_until deadline.
"""

import dataclasses
import datetime
from typing import Optional, Tuple

from job_runtime import context


@dataclasses.dataclass(frozen=True)
class RetryPolicy:
    tries: int = 1
    backoff: Tuple[float, ...] = (0,)
    max_exceptions: Optional[int] = None
    retry_until: Optional[float] = None
    max_lost: Optional[int] = None

    def __post_init__(self):
        if self.tries < 1:
            raise ValueError("tries must be at least 1")
        backoff = self.backoff if isinstance(self.backoff, (list, tuple)) else (self.backoff,)
        object.__setattr__(self, "backoff", tuple(backoff) or (0,))

    def backoff_for(self, attempt):
        """Seconds before attempt `attempt + 1`; the last value of the list repeats."""
        index = min(max(attempt - 1, 0), len(self.backoff) - 1)
        return float(self.backoff[index] or 0)

    def deadline(self, start):
        """The retry_until deadline of a job first due at `start`, or None."""
        return start + datetime.timedelta(seconds=self.retry_until) if self.retry_until else None

    def refusal(self, attempts, lost, deadline, now):
        """Why attempt number `attempts` may not run ("is past ..."), or None when it may.

        `attempts` counts this attempt; `deadline` is the record's retry_until.
        """
        if deadline is None and attempts - lost > self.tries:
            return f"has been attempted too many times ({attempts})"
        if deadline is not None and now > deadline:
            return "is past its retry_until deadline"
        return None

    def retry_delay(self, attempts, lost, exceptions, deadline, now):
        """After an exception: seconds before the next attempt, or None to fail the job.

        `exceptions` counts this one; `attempts` and `lost` are the record's.
        """
        delay = self.backoff_for(attempts)
        if self.max_exceptions and exceptions >= self.max_exceptions:
            return None
        if deadline is not None:
            return None if now + datetime.timedelta(seconds=delay) > deadline else delay
        return None if attempts - lost >= self.tries else delay

    def lost_limit(self):
        return self.max_lost if self.max_lost is not None else context.state.settings.max_lost

    def fails_when_lost(self, lost):
        """Whether a job whose worker died, already lost `lost` times before, is failed now."""
        return lost + 1 >= self.lost_limit()
