"""Alerts to a chat: a JSON POST of {"text": ...} to ALERT_WEBHOOK_URL (Slack's incoming
webhooks, and the many chats that take the same shape: Mattermost, Rocket.Chat, Discord's
/slack endpoint).

The POST is sent by a job (tasks.post_alert_to_chat), so a chat that is down is tried
again with the job's backoff instead of holding up the alert check. It waits at most
TIMEOUT_SECONDS and follows no redirect: the address is the one the settings name, and
a webhook that answers with a redirect is refused, not chased somewhere else.
"""

import json
import urllib.error
import urllib.request

TIMEOUT_SECONDS = 5
# The job that posts (declared in tasks.py under this name). The failed-job notice
# about its own failures goes by mail alone: a chat that is down would only be
# asked to carry the news of being down, failing again, without end.
JOB_NAME = "post_alert_to_chat"


class WebhookError(Exception):
    """The chat did not take the alert (the job retries)."""


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        raise WebhookError(f"the webhook answered {code} with a redirect to {newurl}; redirects are not followed")


_opener = urllib.request.build_opener(_RefuseRedirects)


def post(url, text, timeout=TIMEOUT_SECONDS):
    """POST {"text": text} as JSON to `url`; raises WebhookError unless the chat answers 2xx."""
    body = json.dumps({"text": text}).encode("utf-8")
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json", "User-Agent": "marketplace-alerts"})
    try:
        with _opener.open(request, timeout=timeout) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        raise WebhookError(f"the webhook answered {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise WebhookError(f"the webhook could not be reached: {reason}") from None
    if not 200 <= status < 300:
        raise WebhookError(f"the webhook answered {status}")
    return status


def message(subject, text):
    """The chat message of a notice: its subject in bold, then its text."""
    return f"*{subject}*\n{text}"
