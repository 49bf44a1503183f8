"""Alerts to a chat webhook (ALERT_WEBHOOK_URL): a JSON POST, Slack-compatible, sent by a
job with retries, with a short timeout and no redirects; against a real HTTP server on
loopback that the test starts."""

import datetime
import http.server
import json
import threading
import time

import pytest

import job_runtime
from job_runtime import runner as job_runner
from job_runtime.models import JobRecord
from job_runtime.monitoring import alerts
from models import utcnow
from shop import runtime
from shop.operations import alert_webhook
from tests.sample_jobs import make_effect


class Chat:
    """What the chat server received, and how it answers next."""

    def __init__(self):
        self.received = []  # (path, headers, body)
        self.answers = []  # (status, headers, delay) per request, then 200
        self.lock = threading.Lock()

    def answer(self):
        with self.lock:
            return self.answers.pop(0) if self.answers else (200, {}, 0)


@pytest.fixture
def chat():
    state = Chat()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            state.received.append((self.path, dict(self.headers), body))
            status, headers, delay = state.answer()
            time.sleep(delay)
            try:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
            except (BrokenPipeError, ConnectionResetError):
                pass

        do_GET = do_POST

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/alerts"
    yield state
    server.shutdown()
    server.server_close()


def test_post_sends_slack_shaped_json(chat):
    assert alert_webhook.post(chat.url, "Jobs are waiting") == 200
    ((path, headers, body),) = chat.received
    assert path == "/hooks/alerts" and headers["Content-Type"] == "application/json"
    assert json.loads(body) == {"text": "Jobs are waiting"}


def test_post_follows_no_redirect(chat):
    chat.answers.append((302, {"Location": "/elsewhere"}, 0))
    with pytest.raises(alert_webhook.WebhookError, match="redirect"):
        alert_webhook.post(chat.url, "x")
    assert [path for path, _, _ in chat.received] == ["/hooks/alerts"]


def test_post_gives_up_after_its_timeout(chat):
    chat.answers.append((200, {}, 3))
    started = time.monotonic()
    with pytest.raises(alert_webhook.WebhookError, match="could not be reached"):
        alert_webhook.post(chat.url, "x", timeout=0.5)
    assert time.monotonic() - started < 2


def test_an_error_answer_is_an_error(chat):
    chat.answers.append((500, {}, 0))
    with pytest.raises(alert_webhook.WebhookError, match="500"):
        alert_webhook.post(chat.url, "x")


def test_a_queue_alert_reaches_the_chat_and_the_admins(app_env, make_user, chat):
    make_user("admin", email="ops@example.com")
    app_env.reload(ALERT_WEBHOOK_URL=chat.url, ALERT_WAIT_SECONDS="60")
    job_runtime.huey.immediate = False
    runtime.setup_job_runtime()
    uuids = [make_effect.s(f"wait-{i}").dispatch() for i in range(2)]
    JobRecord.update(available_at=utcnow() - datetime.timedelta(seconds=300)).where(
        JobRecord.uuid.in_(uuids)).execute()
    sent = alerts.check()
    assert [a["kind"] for a in sent] == ["wait"]
    assert [m["Subject"] for m in app_env.mails] == ["[Marketplace] Long wait on the default queue"]
    assert chat.received == []  # not in the check: a job posts it
    (post,) = JobRecord.select().where(JobRecord.name == "post_alert_to_chat")
    assert post.queue == "high"
    job_runner.execute(post.uuid)
    ((_, _, body),) = chat.received
    text = json.loads(body)["text"]
    assert text.startswith("*[Marketplace] Long wait on the default queue*\n")
    assert "Jobs on the default queue have waited" in text
    assert JobRecord.get(JobRecord.uuid == post.uuid).state == "completed"


def test_a_chat_that_is_down_is_tried_again(app_env, make_user, chat):
    app_env.reload(ALERT_WEBHOOK_URL=chat.url)
    job_runtime.huey.immediate = False
    runtime.setup_job_runtime()
    chat.answers.append((503, {}, 0))
    assert runtime.notify_admins("test-notice", "Subject", "Body") == 1
    (post,) = JobRecord.select().where(JobRecord.name == "post_alert_to_chat")
    job_runner.execute(post.uuid)
    record = JobRecord.get(JobRecord.uuid == post.uuid)
    assert record.state == "pending" and "503" in record.last_error  # a retry, after its backoff
    JobRecord.update(available_at=utcnow()).where(JobRecord.uuid == post.uuid).execute()
    job_runner.execute(post.uuid)
    assert JobRecord.get(JobRecord.uuid == post.uuid).state == "completed" and len(chat.received) == 2


def test_without_a_webhook_no_post_is_queued(app_env, make_user):
    make_user("admin", email="ops@example.com")
    assert runtime.notify_admins("test-notice", "Subject", "Body") == 1
    assert not JobRecord.select().where(JobRecord.name == "post_alert_to_chat").exists()


def test_the_webhook_setting_must_be_a_url(app_env):
    from shop import config
    from shop.errors import ConfigError

    with pytest.raises(ConfigError, match="ALERT_WEBHOOK_URL must be an absolute http/https URL"):
        config.load_settings(dict(app_env.environ, ALERT_WEBHOOK_URL="hooks.example.com/x"), dotenv=False)


def test_the_chat_is_not_told_of_its_own_failed_posts_but_the_admins_are(app_env, make_user, chat):
    from shop.operations import failure_alerts

    make_user("admin", email="ops@example.com")
    app_env.reload(ALERT_WEBHOOK_URL=chat.url)
    job_runtime.huey.immediate = False
    runtime.setup_job_runtime()
    chat.answers += [(500, {}, 0)] * 6
    assert runtime.notify_admins("first-notice", "Subject", "Body") == 2  # one admin, one chat post
    (post,) = JobRecord.select().where(JobRecord.name == "post_alert_to_chat")
    for _ in range(6):
        JobRecord.update(available_at=utcnow()).where(JobRecord.uuid == post.uuid).execute()
        job_runner.execute(post.uuid)
    assert JobRecord.get(JobRecord.uuid == post.uuid).state == "failed" and len(chat.received) == 6
    assert failure_alerts.send_failure_alert() == 1
    assert any("1 job(s) failed" in m["Subject"] for m in app_env.mails)
    assert JobRecord.select().where(JobRecord.name == "post_alert_to_chat").count() == 1  # no new post
