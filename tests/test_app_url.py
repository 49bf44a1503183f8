"""APP_URL and this server: derived from WEB_BIND when unset, checked when the server
starts (a warning, never a refusal), and the order page and the admins told when test
payments cannot get back to the shop."""

import datetime
import logging
import subprocess

import pytest

import tasks
from job_runtime.policy import RetryPolicy
from job_runtime.models import FailedJob
from models import Notification, Order, SimulatedPayment, utcnow
from shop import config
from shop.operations import reachability
from tests.conftest import base_environ, cli_process, free_port, login, wait_for
from tests.shop_fixtures import add_to_cart, checkout


# ---------------------------------------------------------------------------
# The setting
# ---------------------------------------------------------------------------


def settings_of(tmp_path, **changes):
    environ = base_environ(tmp_path)
    environ.pop("APP_URL")
    environ.update(changes)
    return config.load_settings({k: v for k, v in environ.items() if v is not None}, dotenv=False)


@pytest.mark.parametrize("bind, url", [("127.0.0.1:9123", "http://127.0.0.1:9123"),
                                       ("0.0.0.0:8000", "http://127.0.0.1:8000"),
                                       ("[::1]:8000", "http://[::1]:8000"),
                                       ("unix:/run/marketplace.sock", "http://127.0.0.1:8080")])
def test_app_url_follows_web_bind_when_unset(tmp_path, bind, url):
    assert settings_of(tmp_path, WEB_BIND=bind).APP_URL == url
    assert settings_of(tmp_path, WEB_BIND=bind, APP_URL="https://shop.example.com").APP_URL == \
        "https://shop.example.com"


@pytest.mark.parametrize("app_url, bind, mismatch", [
    ("http://127.0.0.1:8080", "127.0.0.1:9000", True),      # WEB_BIND changed, APP_URL left as it was
    ("http://localhost:8080", "0.0.0.0:8081", True),
    ("http://127.0.0.1:8080", "192.0.2.10:8080", True),     # not listening on the loopback at all
    ("http://127.0.0.1:8080", "127.0.0.1:8080", False),
    ("http://localhost:8080", "0.0.0.0:8080", False),
    ("http://127.0.0.1", "127.0.0.1:80", False),
    ("https://shop.example.com", "127.0.0.1:8080", False),  # behind a reverse proxy: only the probe can tell
    ("http://127.0.0.1:8080", "unix:/run/marketplace.sock", False),
])
def test_a_loopback_app_url_must_name_the_address_served(app_url, bind, mismatch):
    problem = reachability.address_mismatch(app_url, bind)
    assert bool(problem) is mismatch
    if mismatch:
        assert app_url in problem and bind in problem


# ---------------------------------------------------------------------------
# The probe of a running server
# ---------------------------------------------------------------------------


def test_healthz_answers_with_this_servers_identity(live_app):
    assert reachability.probe(live_app.url) is None
    assert "another server" in reachability.probe(live_app.url, server_id="someone-else")
    closed = f"http://127.0.0.1:{free_port()}"
    assert "could not be reached" in reachability.probe(closed, timeout=1)


def test_the_probe_warns_loudly_and_gives_up(caplog):
    closed = f"http://127.0.0.1:{free_port()}"
    with caplog.at_level(logging.WARNING, logger=reachability.__name__):
        problem = reachability.check_once_serving(closed, wait=0)
    assert problem and "APP_URL does not reach this server" in caplog.text and closed in caplog.text


@pytest.mark.consumer
def test_serve_warns_when_app_url_leads_elsewhere(app_env, tmp_path):
    port, elsewhere = free_port(), free_port()
    log_path = tmp_path / "serve.log"
    with open(log_path, "wb") as log:
        web = cli_process(app_env, "serve", "--bind", f"127.0.0.1:{port}", "--workers", "1",
                          environ_overrides={"APP_URL": f"http://127.0.0.1:{elsewhere}"},
                          stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_for(lambda: log_path.read_text().count("APP_URL does not reach this server") >= 2,
                     timeout=40, message="both warnings (before and once serving)")
            output = log_path.read_text()
            assert f"listens on 127.0.0.1:{port}" in output and f"http://127.0.0.1:{elsewhere}/healthz" in output
            assert web.poll() is None  # a warning, never a refusal
        finally:
            web.terminate()
            web.wait(30)


@pytest.mark.consumer
def test_serve_is_quiet_when_app_url_reaches_it(app_env, tmp_path):
    port = free_port()
    log_path = tmp_path / "serve.log"
    with open(log_path, "wb") as log:
        web = cli_process(app_env, "serve", "--bind", f"127.0.0.1:{port}", "--workers", "2",
                          environ_overrides={"APP_URL": f"http://127.0.0.1:{port}"},
                          stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_for(lambda: "reaches this server" in log_path.read_text(), timeout=40,
                     message="the probe to succeed")
            assert "APP_URL does not reach this server" not in log_path.read_text()
        finally:
            web.terminate()
            web.wait(30)


# ---------------------------------------------------------------------------
# A test payment that cannot get back to the shop
# ---------------------------------------------------------------------------


@pytest.fixture
def clicked_pay(client, make_user, two_sellers, monkeypatch):
    """A customer clicked Pay on the test page, and the event went nowhere: APP_URL leads
    to a closed port and the delivery gives up at its first attempt."""
    monkeypatch.setattr(tasks.deliver_test_event, "policy", RetryPolicy(tries=1))
    config_url = f"http://127.0.0.1:{free_port()}"
    customer = make_user("customer")
    login(client, customer)
    add_to_cart(client, two_sellers["presets"])
    page = checkout(client, "test").follow()
    return {"order": Order.get(), "page": page, "url": config_url, "customer": customer}


def click_pay(clicked):
    form = next(f for f in clicked["page"].forms.values() if f.action == f"/pay/test/{clicked['order'].id}")
    return form.submit(name="action", value="pay")


def test_the_order_page_says_so_when_the_payment_is_overdue(client, clicked_pay, app_env):
    app_env.reload(APP_URL=clicked_pay["url"])
    order = clicked_pay["order"]
    click_pay(clicked_pay)
    assert Order.get_by_id(order.id).status == "pending"
    status = client.get(f"/orders/{order.id}/status.json").json
    assert status["late"] is False and status["heading"] == "Processing your payment…"
    SimulatedPayment.update(created_at=utcnow() - datetime.timedelta(seconds=90)).execute()
    status = client.get(f"/orders/{order.id}/status.json").json
    assert status["late"] is True and status["heading"] == "Payment not confirmed yet"
    assert clicked_pay["url"] in status["message"] and "APP_URL" in status["message"]
    page = client.get(f"/orders/{order.id}/success")
    assert "Payment not confirmed yet" in page.text
    assert page.html.select_one("[data-role=retry]").get("hidden") is None  # "Back to your cart"


def test_another_gateways_overdue_payment_tells_the_customer_what_to_do(client, make_user, two_sellers):
    customer = make_user("customer")
    login(client, customer)
    add_to_cart(client, two_sellers["presets"])
    checkout(client, "test")
    order = Order.get()
    Order.update(gateway="stripe", created_at=utcnow() - datetime.timedelta(minutes=5)).execute()
    status = client.get(f"/orders/{order.id}/status.json").json
    assert status["late"] and "has not been confirmed yet" in status["message"]
    assert "APP_URL" not in status["message"]


def test_an_undelivered_test_event_is_shown_to_the_admins(client, clicked_pay, make_user, app_env):
    admin = make_user("admin")
    app_env.reload(APP_URL=clicked_pay["url"])
    click_pay(clicked_pay)
    assert FailedJob.get().name == "deliver_test_event"
    (notice,) = Notification.select().where(Notification.user == admin)
    assert clicked_pay["order"].reference in notice.data["message"]
    assert clicked_pay["url"] in notice.data["message"]
    assert "APP_URL" in notice.data["detail"]
    assert Notification.select().where(Notification.user == clicked_pay["customer"]).count() == 0
    mails = [m for m in app_env.mails if m["To"] == admin.email]
    assert len(mails) == 1 and "could not reach the shop" in mails[0]["Subject"]
    client.reset()
    login(client, admin)
    assert "could not reach the shop" in client.get("/notifications").text
