"""Every job, listener and periodic task. `huey_consumer tasks.huey -w 4` runs them.

Jobs are thin: they take ids, load their rows and call the service that does
the work. This module never imports marketplace: the consumer must not build
the web app.
"""

import logging

import models
from jobs import crontab, huey, job, on_failure, periodic  # noqa: F401  (huey is what huey_consumer loads)

if models.db.obj is None:
    models.init_db()

log = logging.getLogger("tasks")


# ---------------------------------------------------------------------------
# The job runtime's own upkeep
# ---------------------------------------------------------------------------


@periodic(crontab(minute="*/10"), queue="low", tries=2, timeout=300)
def prune_job_records():
    """Drop finished job records, old failed jobs, expired locks and counters."""
    import job_retention

    removed = job_retention.prune()
    log.info("pruned %s", ", ".join(f"{n} {kind}" for kind, n in removed.items()))


@periodic(crontab(minute="17"), queue="low", tries=2, timeout=120)
def prune_sessions():
    """Drop expired sessions and old failed-login records."""
    import accounts

    accounts.prune_sessions()


@job(queue="high", tries=5, backoff=[30, 60, 300], timeout=60, unique_for=300, unique_key=lambda: "all")
def alert_admins_of_failures():
    """One email to the admins about the jobs that failed since the last one."""
    import job_alerts

    job_alerts.send_failure_alert()


@on_failure
def _queue_failure_alert(failed):
    # Waiting a minute gathers a burst of failures into one email; the alert job
    # is unique, so later failures in the window add to the same email.
    if failed.name != alert_admins_of_failures.name:
        alert_admins_of_failures.s().delay(60).dispatch()


# ---------------------------------------------------------------------------
# Jobs of other modules named by JOB_MODULES
# ---------------------------------------------------------------------------

import importlib  # noqa: E402

import config  # noqa: E402

for _module in config.JOB_MODULES:
    importlib.import_module(_module)
