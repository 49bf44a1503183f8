"""Long-wait and failure-rate alerts: an email to the admins, once per incident.

A periodic job (tasks.check_queue_alerts, every minute) looks at each queue:

- wait: the oldest due job of a queue that is not paused has waited longer
  than ALERT_WAIT_SECONDS;
- failure rate: of the jobs the queue finished in the last FAILURE_WINDOW
  minutes (at least FAILURE_MIN_JOBS of them), more than ALERT_FAILURE_RATE
  percent failed.

While a condition holds, the admins hear of it once, and again only after
ALERT_COOLDOWN_MINUTES if it still holds (or comes back), like Horizon's
long-wait notifications. The decision to send is recorded before the mail goes
out, and the mails are keyed by that decision (mail.send is idempotent per
key), so a check that crashes halfway resends nothing twice and loses nothing.
"""

import datetime
import json
import logging

from job_runtime import context
from job_runtime import control
from job_runtime.monitoring import dashboard
from job_runtime.monitoring import metrics
from job_runtime.models import QueueFlag
from job_runtime.models import utcnow

log = logging.getLogger("jobs.alerts")

FAILURE_WINDOW_MINUTES = 5
FAILURE_MIN_JOBS = 10
KINDS = ("wait", "failure-rate")


def _human_seconds(seconds):
    seconds = int(round(seconds))
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min" + (f" {seconds % 60} s" if seconds % 60 else "")
    return f"{seconds // 3600} h" + (f" {seconds % 3600 // 60} min" if seconds % 3600 // 60 else "")


def conditions(queues, now=None):
    """The alert conditions that hold now, from the dashboard's per-queue rows.

    Each: {"kind", "queue", "value", "threshold", "summary"}.
    """
    now = now or utcnow()
    found = []
    for queue in queues:
        if not queue["paused"] and queue["pending"] and queue["oldest_wait"] > context.state.settings.alert_wait_seconds:
            found.append({
                "kind": "wait", "queue": queue["name"], "value": queue["oldest_wait"],
                "threshold": context.state.settings.alert_wait_seconds,
                "summary": (f"Jobs on the {queue['name']} queue have waited {_human_seconds(queue['oldest_wait'])} "
                            f"(the limit is {_human_seconds(context.state.settings.alert_wait_seconds)}); "
                            f"{queue['pending']} waiting, {queue['workers']} worker(s) taking them."),
            })
    since = now - datetime.timedelta(minutes=FAILURE_WINDOW_MINUTES)
    for row in metrics.window(since, group=("queue",), now=now):
        processed, failed = row["processed"], row["failed"]
        if processed < FAILURE_MIN_JOBS:
            continue
        rate = 100.0 * failed / processed
        if rate > context.state.settings.alert_failure_rate:
            found.append({
                "kind": "failure-rate", "queue": row["queue"], "value": round(rate, 1),
                "threshold": context.state.settings.alert_failure_rate,
                "summary": (f"{rate:.0f}% of the jobs on the {row['queue']} queue failed in the last "
                            f"{FAILURE_WINDOW_MINUTES} minutes ({failed} of {processed}; "
                            f"the limit is {context.state.settings.alert_failure_rate:g}%)."),
            })
    return found


# ---------------------------------------------------------------------------
# Incidents: last-sent stamps and the outbox, in QueueFlag
# ---------------------------------------------------------------------------


def _key(kind, queue):
    return f"alerts:{kind}:{queue}"


def _state(kind, queue):
    raw = control.get_flag(_key(kind, queue))
    return json.loads(raw) if raw else {}


def _save(kind, queue, state):
    control.set_flag(_key(kind, queue), json.dumps(state, sort_keys=True))


def _parse(stamp):
    return datetime.datetime.fromisoformat(stamp) if stamp else None


def _send(alert, stamp):
    """Mail every admin about `alert`; the keys depend only on the decision's stamp."""
    subject = (f"[{context.state.settings.app_name}] Long wait on the {alert['queue']} queue" if alert["kind"] == "wait"
               else f"[{context.state.settings.app_name}] Jobs failing on the {alert['queue']} queue")
    settings = context.state.settings
    where = [f"Watch the queues at {settings.dashboard_url}",
             f"and the failed jobs at {settings.dashboard_url}/failed."] if settings.dashboard_url else []
    text = "\n".join([
        alert["summary"], "",
        f"Noticed at {stamp[:19].replace('T', ' ')} UTC. You will not hear about this queue's "
        f"{'wait' if alert['kind'] == 'wait' else 'failure rate'} again for {settings.alert_cooldown_minutes} "
        "minutes, unless it is still a problem then.", "", *where,
    ])
    if context.state.notifier is None:
        log.warning("queue alert not sent (no notifier is set up): %s", alert["summary"])
        return 0
    return context.state.notifier(f"queue-alert:{alert['kind']}:{alert['queue']}:{stamp}", subject, text)


def check(now=None):
    """Mail the admins about conditions not reported within the cool-down; returns the alerts sent."""
    now = now or utcnow()
    queues = dashboard.current_queues(now)
    holding = {(c["kind"], c["queue"]): c for c in conditions(queues, now)}
    cooldown = datetime.timedelta(minutes=context.state.settings.alert_cooldown_minutes)
    sent = []
    keys = set(holding) | _keys_with_outbox()
    for kind, queue in sorted(keys):
        state = _state(kind, queue)
        outbox = state.get("outbox")
        if outbox is None:
            alert = holding.get((kind, queue))
            if alert is None:
                continue
            last = _parse(state.get("last_sent"))
            if last is not None and now - last < cooldown:
                continue
            # Record the decision first: a crash after this point resends the same mails, keyed alike.
            outbox = {"stamp": now.isoformat(), "alert": alert}
            _save(kind, queue, {"last_sent": now.isoformat(), "outbox": outbox})
        _send(outbox["alert"], outbox["stamp"])
        _save(kind, queue, {"last_sent": outbox["stamp"]})
        log.warning("queue alert sent: %s", outbox["alert"]["summary"])
        sent.append(outbox["alert"])
    return sent


def _keys_with_outbox():
    """(kind, queue) of decisions recorded but not yet marked sent."""
    found = set()
    for flag in QueueFlag.select().where(QueueFlag.key.startswith("alerts:")):
        parts = flag.key.split(":", 2)
        if len(parts) == 3 and parts[1] in KINDS and '"outbox"' in flag.value:
            found.add((parts[1], parts[2]))
    return found
