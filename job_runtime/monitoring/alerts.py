"""Long-wait, failure-rate and depth alerts: a notice to the admins, once per incident.

A periodic job of the application calls check() every minute; the conditions
it looks for (a long wait, a high failure rate) are conditions.py. `queue
monitor` reports the depth conditions it finds through report().

While a condition holds, the admins hear of it once, and again only after
alert_cooldown_minutes if it still holds (or comes back), like Horizon's
long-wait notifications. The decision to send is recorded before the notice
goes out, and the notices are keyed by that decision (the notifier sends each
key once), so a check that crashes halfway resends nothing twice and loses
nothing.
"""

import datetime
import json
import logging

from job_runtime import context, control
from job_runtime.models import QueueFlag, utcnow
from job_runtime.monitoring import dashboard
from job_runtime.monitoring.conditions import KINDS, conditions

log = logging.getLogger(__name__)


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


SUBJECTS = {"wait": "Long wait on the {} queue", "failure-rate": "Jobs failing on the {} queue",
            "depth": "Too many jobs waiting on the {} queue"}
WHAT = {"wait": "wait", "failure-rate": "failure rate", "depth": "depth"}


def _send(alert, stamp):
    """Tell the admins about `alert`; the keys depend only on the decision's stamp."""
    settings = context.state.settings
    subject = f"[{settings.app_name}] " + SUBJECTS[alert["kind"]].format(alert["queue"])
    where = [f"Watch the queues at {settings.dashboard_url}",
             f"and the failed jobs at {settings.dashboard_url}/failed."] if settings.dashboard_url else []
    text = "\n".join([
        alert["summary"], "",
        f"Noticed at {stamp[:19].replace('T', ' ')} UTC. You will not hear about this queue's "
        f"{WHAT[alert['kind']]} again for {settings.alert_cooldown_minutes} "
        "minutes, unless it is still a problem then.", "", *where,
    ])
    if context.state.notifier is None:
        log.warning("queue alert not sent (no notifier is set up): %s", alert["summary"])
        return 0
    return context.state.notifier(f"queue-alert:{alert['kind']}:{alert['queue']}:{stamp}", subject, text)


def check(now=None):
    """Tell the admins about conditions not reported within the cool-down; returns the alerts sent."""
    now = now or utcnow()
    return report(conditions(dashboard.current_queues(now), now), now)


def report(holding, now=None):
    """Send the conditions of `holding` not reported within the cool-down (and any decision
    recorded but not sent); returns the alerts sent."""
    now = now or utcnow()
    holding = {(c["kind"], c["queue"]): c for c in holding}
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
