"""Emails to the admins when jobs fail: one message per burst, not one per failure."""

from shop import config
from job_runtime import control
from job_runtime.models import FailedJob
from shop.operations import alert_webhook
from shop.runtime import notify_admins

LAST_REPORTED = "alerts:failed-jobs:last-id"
MAX_LISTED = 20


def send_failure_alert():
    """Mail every admin the failed jobs not reported yet; returns how many were reported."""
    last_id = int(control.get_flag(LAST_REPORTED, 0))
    failures = list(FailedJob.select().where(FailedJob.id > last_id).order_by(FailedJob.id))
    if not failures:
        return 0
    newest = failures[-1].id
    lines = [f"{len(failures)} job(s) failed after their last attempt on {config.APP_NAME}:", ""]
    for failed in failures[:MAX_LISTED]:
        lines.append(f"  #{failed.id}  {failed.failed_at:%Y-%m-%d %H:%M} UTC  {failed.queue:<7}  {failed.name}")
        lines.append(f"        {failed.exception_class}: {failed.message[:300]}")
    if len(failures) > MAX_LISTED:
        lines.append(f"  ... and {len(failures) - MAX_LISTED} more.")
    lines += ["", f"Inspect and retry them at {config.APP_URL}/admin/queue/failed,",
              "or with `marketplace queue failed` and `marketplace queue retry ID`."]
    subject = f"[{config.APP_NAME}] {len(failures)} job(s) failed"
    # Not to the chat when only its own posts failed (see alert_webhook.JOB_NAME).
    to_chat = any(failed.name != alert_webhook.JOB_NAME for failed in failures)
    notify_admins(f"failed-jobs:{last_id}-{newest}", subject, "\n".join(lines), channels=to_chat)
    control.set_flag(LAST_REPORTED, newest)
    return len(failures)
