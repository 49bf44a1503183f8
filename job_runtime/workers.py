"""The consumers' workers as their heartbeats describe them: which are alive, which went quiet.

The consumer writes the heartbeats (consumer.py); `queue status`, the dashboard
and /metrics read them here, so a web process never loads the consumer, and
"alive" means one thing everywhere: not stopped, and a heartbeat within
worker_stale_seconds.
"""

import datetime

from job_runtime import context
from job_runtime.models import WorkerRecord, utcnow

# Stale workers (no heartbeat within worker_stale_seconds) stay listed this
# long, marked as such, before the dashboard's list forgets them.
STALE_WORKERS_SHOWN_FOR = datetime.timedelta(hours=1)


def heartbeat_age(worker, now=None):
    """Seconds since the worker's last heartbeat (never negative)."""
    return max(0.0, ((now or utcnow()) - worker.last_beat_at).total_seconds())


def is_stale(worker, now=None):
    """Whether the worker has not beaten within worker_stale_seconds."""
    return heartbeat_age(worker, now) > context.state.settings.worker_stale_seconds


def recent_workers(now=None):
    """Workers that have not stopped and beat within STALE_WORKERS_SHOWN_FOR, stale ones included."""
    now = now or utcnow()
    return list(WorkerRecord.select()
                .where(WorkerRecord.stopped_at.is_null()
                       & (WorkerRecord.last_beat_at > now - STALE_WORKERS_SHOWN_FOR))
                .order_by(WorkerRecord.host, WorkerRecord.pid, WorkerRecord.id))


def live_workers(now=None):
    """Workers that have not stopped and beat within worker_stale_seconds."""
    now = now or utcnow()
    return [worker for worker in recent_workers(now) if not is_stale(worker, now)]
