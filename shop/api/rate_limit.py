"""The API's rate limit: API_RATE_LIMIT_PER_MINUTE requests per token per clock minute.

Counted by one INSERT ... ON CONFLICT per request, so requests sent at once each see
their own count, in every web process alike. Every answer carries RateLimit-Limit,
RateLimit-Remaining and RateLimit-Reset (seconds until the window ends); the request
past the limit gets 429 with Retry-After.
"""

import dataclasses
import datetime

from shop import config
from models import ApiRateWindow, db, utcnow
from shop.api.errors import ApiError

WINDOW_SECONDS = 60


@dataclasses.dataclass(frozen=True)
class Allowance:
    limit: int
    remaining: int
    reset: int

    def headers(self):
        return {"RateLimit-Limit": str(self.limit), "RateLimit-Remaining": str(self.remaining),
                "RateLimit-Reset": str(self.reset)}


def count_request(token_id, now=None):
    """Count one request of the token; returns its Allowance, or raises 429 past the limit."""
    now = now or utcnow()
    window = now.replace(second=0, microsecond=0)
    query = ApiRateWindow.insert(key=f"token:{token_id}:{window:%Y%m%d%H%M}", requests=1,
                                 window_started_at=window).on_conflict(
        conflict_target=[ApiRateWindow.key], update={ApiRateWindow.requests: ApiRateWindow.requests + 1},
    ).returning(ApiRateWindow.requests)
    with db.atomic():
        # Plain SQL: peewee reads RETURNING rows back only on PostgreSQL.
        (requests,) = db.execute_sql(*query.sql()).fetchone()
    limit = config.API_RATE_LIMIT_PER_MINUTE
    reset = max(1, WINDOW_SECONDS - int((now - window).total_seconds()))
    allowance = Allowance(limit, max(0, limit - requests), reset)
    if requests > limit:
        raise ApiError(429, "rate_limited", f"At most {limit} requests a minute per token; "
                                            f"try again in {reset} s.",
                       {**allowance.headers(), "Retry-After": str(reset)})
    return allowance


def prune(now=None):
    """Drop the windows that have ended."""
    cutoff = (now or utcnow()) - datetime.timedelta(seconds=2 * WINDOW_SECONDS)
    return ApiRateWindow.delete().where(ApiRateWindow.window_started_at < cutoff).execute()
