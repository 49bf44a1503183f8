"""The alert conditions that hold now: long waits, failure rates and deep queues, per queue.

- wait: the oldest due job of a queue that is not paused has waited longer
  than alert_wait_seconds;
- failure rate: of the jobs the queue finished in the last FAILURE_WINDOW
  minutes (at least FAILURE_MIN_JOBS of them), more than alert_failure_rate
  percent failed;
- depth: more jobs are due on a queue than the limit `queue monitor` was
  given for it (depth(); there is no standing limit, so the dashboard never
  shows this one).

The dashboard shows the first two while they hold; alerts.py tells the admins of them.
"""

import datetime

from job_runtime import context
from job_runtime.models import utcnow
from job_runtime.monitoring import metrics
from job_runtime.monitoring.formatting import duration

FAILURE_WINDOW_MINUTES = 5
FAILURE_MIN_JOBS = 10
KINDS = ("wait", "failure-rate", "depth")


def conditions(queues, now=None):
    """The alert conditions that hold now, from the dashboard's per-queue rows.

    Each: {"kind", "queue", "value", "threshold", "summary"}.
    """
    now = now or utcnow()
    settings = context.state.settings
    found = []
    for queue in queues:
        if not queue["paused"] and queue["pending"] and queue["oldest_wait"] > settings.alert_wait_seconds:
            found.append({
                "kind": "wait", "queue": queue["name"], "value": queue["oldest_wait"],
                "threshold": settings.alert_wait_seconds,
                "summary": (f"Jobs on the {queue['name']} queue have waited {duration(queue['oldest_wait'])} "
                            f"(the limit is {duration(settings.alert_wait_seconds)}); "
                            f"{queue['pending']} waiting, {queue['workers']} worker(s) taking them."),
            })
    since = now - datetime.timedelta(minutes=FAILURE_WINDOW_MINUTES)
    for row in metrics.window(since, group=("queue",), now=now):
        processed, failed = row["processed"], row["failed"]
        if processed < FAILURE_MIN_JOBS:
            continue
        rate = 100.0 * failed / processed
        if rate > settings.alert_failure_rate:
            found.append({
                "kind": "failure-rate", "queue": row["queue"], "value": round(rate, 1),
                "threshold": settings.alert_failure_rate,
                "summary": (f"{rate:.0f}% of the jobs on the {row['queue']} queue failed in the last "
                            f"{FAILURE_WINDOW_MINUTES} minutes ({failed} of {processed}; "
                            f"the limit is {settings.alert_failure_rate:g}%)."),
            })
    return found


def depth(workload, limits):
    """The depth conditions: queues with more due jobs than their limit.

    workload: stats.workload()'s figures; limits: {queue: most jobs allowed to wait}.
    """
    found = []
    for queue, limit in limits.items():
        figures = workload.get(queue) or {"pending": 0, "oldest_pending_seconds": 0.0}
        if figures["pending"] > limit:
            found.append({
                "kind": "depth", "queue": queue, "value": figures["pending"], "threshold": limit,
                "summary": (f"{figures['pending']} jobs are waiting on the {queue} queue (the limit is {limit}); "
                            f"the oldest has waited {duration(figures['oldest_pending_seconds'])}."),
            })
    return found
