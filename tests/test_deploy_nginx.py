"""deploy/nginx/marketplace.conf, run by Debian's nginx inside Debian's own
/etc/nginx/nginx.conf (its http block, with our site where sites-enabled/ is
included), on test ports with a certificate made by the test.

In front of the web unit's gunicorn it must serve the app, the static files and
thumbnails itself, pass the client's address, and hold uploads to the app's
limit. In front of a small upstream of the test's own, which records exactly
what reaches it, it must pass webhooks untouched and stream private files when
the app answers with X-Accel-Redirect.
"""

import getpass
import hashlib
import json
import os
import re
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote

import pytest

from shop import config
from tests.conftest import PASSWORD, free_port, marks_its_tests, missing_service, wait_for
from tests.deploy_support import (
    DEPLOY,
    Client,
    UnitProcess,
    app_paths,
    localize,
    localized_units,
    make_certificate,
    unit_settings,
    wait_for_http,
)

SITE = DEPLOY / "nginx" / "marketplace.conf"
DEBIAN_NGINX_CONF = Path("/etc/nginx/nginx.conf")


def need_nginx():
    if not Path("/usr/sbin/nginx").exists() or not DEBIAN_NGINX_CONF.exists():
        missing_service("nginx is not installed (make deps installs it)")


def main_config(folder, site):
    """Debian's nginx.conf with its paths moved into `folder` and `site` as the one site."""
    text = DEBIAN_NGINX_CONF.read_text()
    temp_paths = "".join(f"\t{kind}_temp_path {folder / kind};\n"
                         for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    user = f"user {getpass.getuser()};" if os.geteuid() == 0 else ""
    rules = [
        (r"^user\s+[^;]*;", user, True),
        (r"^pid\s+[^;]*;", f"pid {folder / 'nginx.pid'};", True),
        (r"^worker_processes\s+[^;]*;", "worker_processes 1;", False),
        (r"^(\s*)error_log\s+[^;]*;", rf"\1error_log {folder / 'error.log'};", False),
        (r"^(\s*)access_log\s+[^;]*;", rf"\1access_log {folder / 'access.log'};", False),
        (r"^(\s*)include /etc/nginx/conf\.d/\*\.conf;", "", False),
        (r"^(\s*)include /etc/nginx/sites-enabled/\*;", rf"\1include {site};\n{temp_paths}", True),
    ]
    for pattern, replacement, required in rules:
        text, count = re.subn(pattern, replacement, text, flags=re.M)
        assert count or not required, f"Debian's nginx.conf has no line matching {pattern}"
    path = folder / "nginx.conf"
    path.write_text(text)
    return path


class Nginx:
    """nginx with the shipped site, its upstream at `upstream_port`."""

    def __init__(self, folder, upstream_port, data_dir):
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.http_port, self.https_port = free_port(), free_port()
        self.cert, key = make_certificate(folder)
        site = localize(app_paths(SITE.read_text(), data_dir=data_dir), [
            ("listen 80;", f"listen 127.0.0.1:{self.http_port};", 1),
            ("listen [::]:80;", "", 1),
            ("listen 443 ssl http2;", f"listen 127.0.0.1:{self.https_port} ssl http2;", 1),
            ("listen [::]:443 ssl http2;", "", 1),
            ("server 127.0.0.1:8080;", f"server 127.0.0.1:{upstream_port};", 1),
            ("/etc/letsencrypt/live/shop.example.com/fullchain.pem", str(self.cert), 1),
            ("/etc/letsencrypt/live/shop.example.com/privkey.pem", str(key), 1),
        ])
        assert "/srv/marketplace" not in site
        (folder / "site.conf").write_text(site)
        self.conf = main_config(folder, folder / "site.conf")
        self.base = ["/usr/sbin/nginx", "-p", str(folder), "-c", str(self.conf), "-e", str(folder / "error.log")]
        self.process = None

    def test_config(self):
        return subprocess.run([*self.base, "-t"], capture_output=True, text=True)

    def start(self):
        self.process = subprocess.Popen([*self.base, "-g", "daemon off;"], stderr=subprocess.PIPE)
        wait_for(lambda: (self.folder / "nginx.pid").exists() or self.process.poll() is not None,
                 message="nginx to start")
        assert self.process.poll() is None, self.process.stderr.read().decode()
        return self

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(20)

    def https(self, **kwargs):
        return Client(self.https_port, self.cert, **kwargs)

    def http(self):
        return Client(self.http_port, None, tls=False)


@pytest.fixture
@marks_its_tests("consumer")
def nginx(tmp_path):
    started = []

    def start(upstream_port, data_dir):
        need_nginx()
        server = Nginx(tmp_path / f"nginx-{len(started) + 1}", upstream_port, data_dir)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def test_site_passes_nginx_t(nginx, app_env):
    server = nginx(free_port(), app_env.data_dir)
    result = server.test_config()
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr and "test is successful" in result.stderr


# ---------------------------------------------------------------------------
# In front of the app, as the web unit runs it
# ---------------------------------------------------------------------------


@pytest.fixture
@marks_its_tests("consumer")
def web_unit(app_env, tmp_path):
    """The web unit's gunicorn with the test's settings (plus `settings`); returns its port."""
    started = []

    def start(**settings):
        port = free_port()
        units = localized_units(app_env, tmp_path)
        started.append(UnitProcess(units / "marketplace-web.service",
                                   unit_settings(app_env, WEB_BIND=f"127.0.0.1:{port}", **settings),
                                   tmp_path / "web.log"))
        wait_for_http(Client(port, None, tls=False))
        return port

    yield start
    for web in started:
        web.stop()


def app_body_limit():
    """The app's own limit on a request body (marketplace._max_body_bytes)."""
    import marketplace

    return marketplace._max_body_bytes()


def zeros(total, piece=1024 * 1024):
    sent = 0
    while sent < total:
        size = min(piece, total - sent)
        sent += size
        yield bytes(size)


def cookies_of(headers):
    pairs = [line.split(";", 1)[0] for line in headers.get("set-cookie", "").split("\n") if line]
    return "; ".join(pairs)


def test_nginx_serves_the_app_static_files_and_thumbnails(app_env, web_unit, nginx):
    (app_env.data_dir / "media").mkdir(parents=True, exist_ok=True)
    thumbnail = bytes(range(256)) * 40
    (app_env.data_dir / "media" / "9c1e-160.webp").write_bytes(thumbnail)
    server = nginx(web_unit(), app_env.data_dir).start()
    client = server.https()

    status, headers, _ = server.http().request("GET", "/products?page=2")
    assert status == 301 and headers["location"] == "https://shop.example.com/products?page=2"

    status, headers, body = client.request("GET", "/healthz")
    assert status == 200 and json.loads(body)["database"]
    assert headers["strict-transport-security"].startswith("max-age=")

    status, headers, body = client.request("GET", "/")
    assert status == 200 and b"<html" in body.lower()
    assert "default-src 'self'" in headers["content-security-policy"]  # the app's own answer

    # Static files and thumbnails come from nginx itself: no app headers on them.
    status, headers, body = client.request("GET", "/static/style.css")
    assert status == 200 and body == (config.STATIC_DIR / "style.css").read_bytes()
    assert headers["content-type"].startswith("text/css") and "content-security-policy" not in headers
    status, headers, body = client.request("GET", "/media/9c1e-160.webp")
    assert status == 200 and body == thumbnail and "immutable" in headers["cache-control"]

    # Product files are never reachable from outside, only through X-Accel-Redirect.
    (app_env.data_dir / "products").mkdir(parents=True, exist_ok=True)
    (app_env.data_dir / "products" / "secret.zip").write_bytes(b"PK paid content")
    assert client.request("GET", "/_protected/secret.zip")[0] == 404


def test_the_app_sees_the_visitors_address(app_env, web_unit, nginx):
    from models import LoginAttempt

    server = nginx(web_unit(), app_env.data_dir).start()
    # The visitor connects from 127.0.0.7; nginx reaches gunicorn from 127.0.0.1.
    client = server.https(source_address="127.0.0.7")
    status, headers, body = client.request("GET", "/login")
    token = re.search(rb'name="csrf_token" value="([^"]+)"', body).group(1).decode()
    form = f"csrf_token={token}&email=nobody%40example.com&password=wrong-password"
    status, _, body = client.request("POST", "/login", body=form, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookies_of(headers)})
    assert status < 500 and b"email or password" in body.lower(), body[:500]
    assert "address:127.0.0.7" in [a.key for a in LoginAttempt.select()]


def test_uploads_up_to_the_apps_limit_reach_the_app(app_env, web_unit, nginx):
    server = nginx(web_unit(), app_env.data_dir).start()
    client = server.https()
    limit = app_body_limit()
    headers = {"Content-Type": "application/octet-stream", "Accept": "application/json"}

    # One byte over the app's limit still passes nginx: the app answers with its own message.
    status, _, body = client.request("POST", "/login", body=zeros(limit + 1),
                                     headers={**headers, "Content-Length": str(limit + 1)})
    assert status == 413 and b"The upload is too large" in body

    # Past nginx's own limit (the app's plus a margin), nginx refuses before reading the body.
    nginx_limit = int(re.search(r"^\s*client_max_body_size (\d+)m;", SITE.read_text(), re.M).group(1)) * 2**20
    assert limit < nginx_limit < limit + 2 * 2**20
    status, _, body = client.request("POST", "/login", body=b"",
                                     headers={**headers, "Content-Length": str(nginx_limit + 1)})
    assert status == 413 and b"nginx" in body


# ---------------------------------------------------------------------------
# Webhooks and downloads, against an upstream that records what reaches it
# ---------------------------------------------------------------------------


class Upstream(BaseHTTPRequestHandler):
    """Records each request exactly as it arrives and answers as told by its path."""

    protocol_version = "HTTP/1.1"
    seen = []

    def log_message(self, *args):
        pass

    def _answer(self, status, body=b"", headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        body = self.rfile.read(length) if length else b""
        self.seen.append({"target": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
                          "body": body})
        if self.path.startswith("/webhooks/paytm"):
            self._answer(500, b'{"error": "try again later"}', [("Content-Type", "application/json")])
        else:
            self._answer(200, b'{"received": true}', [("Content-Type", "application/json")])



@pytest.fixture
def upstream():
    Upstream.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Upstream)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_webhooks_reach_the_app_untouched(nginx, app_env, upstream):
    server = nginx(upstream.server_address[1], app_env.data_dir).start()
    client = server.https(source_address="127.0.0.9")
    # Bytes a signature covers: JSON with odd spacing, CRLFs, non-ASCII, trailing blanks.
    body = b'{"id": "evt_1",\r\n  "data":{"object" :"payment_intent", "name":"J\xc3\xb6rg"}  }  \n' * 700
    signature = "t=1700000000,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd"
    status, _, _ = client.request("POST", "/webhooks/stripe?source=%2Fcheckout&x=1", body=body, headers={
        "Content-Type": "application/json; charset=utf-8", "Stripe-Signature": signature})
    assert status == 200
    seen = Upstream.seen[-1]
    assert seen["target"] == "/webhooks/stripe?source=%2Fcheckout&x=1"
    assert hashlib.sha256(seen["body"]).digest() == hashlib.sha256(body).digest()
    assert seen["headers"]["stripe-signature"] == signature
    assert seen["headers"]["content-type"] == "application/json; charset=utf-8"
    assert seen["headers"]["content-length"] == str(len(body))
    assert seen["headers"]["x-real-ip"] == "127.0.0.9" and seen["headers"]["x-forwarded-proto"] == "https"
    assert seen["headers"]["host"] == "shop.example.com"

    # A chunked delivery reaches the app whole, with a Content-Length (the app refuses chunked bodies).
    status, _, _ = client.request("POST", "/webhooks/stripe", body=body, chunked=True,
                                  headers={"Stripe-Signature": signature})
    assert status == 200
    seen = Upstream.seen[-1]
    assert seen["body"] == body and seen["headers"]["content-length"] == str(len(body))
    assert "transfer-encoding" not in seen["headers"]

    # The app's error goes back to the provider as it is, so the provider retries.
    status, _, answer = client.request("POST", "/webhooks/paytm", body=b"ORDERID=42&STATUS=TXN_SUCCESS",
                                       headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 500 and answer == b'{"error": "try again later"}'
    assert Upstream.seen[-1]["body"] == b"ORDERID=42&STATUS=TXN_SUCCESS"

    # A webhook far larger than any provider sends stops at nginx.
    count = len(Upstream.seen)
    status, _, _ = client.request("POST", "/webhooks/stripe", body=b"",
                                  headers={"Content-Length": str(3 * 2**20)})
    assert status == 413 and len(Upstream.seen) == count


# ---------------------------------------------------------------------------
# The shop's own webhooks and downloads, through nginx
# ---------------------------------------------------------------------------


def log_in(client, email, password=PASSWORD):
    """Log in through nginx; returns the cookies to send."""
    _, headers, body = client.request("GET", "/login")
    cookies = cookies_of(headers)
    token = re.search(rb'name="csrf_token" value="([^"]+)"', body).group(1).decode()
    form = f"csrf_token={token}&email={quote(email)}&password={quote(password)}"
    status, headers, _ = client.request("POST", "/login", body=form, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookies})
    assert status == 303
    return "; ".join(filter(None, [cookies, cookies_of(headers)]))


def test_signed_webhooks_and_paid_downloads_work_through_nginx(app_env, web_unit, nginx, make_user):
    from shop.orders import cart
    from shop.orders import downloads
    from shop.orders import orders
    from models import DownloadLink, WebhookEvent
    from tests.shop_fixtures import STRIPE_KEY, STRIPE_WEBHOOK_SECRET, make_product, sign_stripe, stripe_event

    accel = config.read_dotenv(DEPLOY / "marketplace.env.example")["DOWNLOAD_ACCEL_PREFIX"]
    port = web_unit(STRIPE_SECRET_KEY=STRIPE_KEY, STRIPE_WEBHOOK_SECRET=STRIPE_WEBHOOK_SECRET,
                    DOWNLOAD_ACCEL_PREFIX=accel)
    server = nginx(port, app_env.data_dir).start()
    client = server.https()

    # Stripe signs the exact bytes; the app accepts them after nginx, whole or chunked.
    for n, chunked in ((1, False), (2, True)):
        body = json.dumps(stripe_event("checkout_session_completed", event_id=f"evt_through_nginx_{n}")).encode()
        status, _, answer = client.request("POST", "/webhooks/stripe", body=body, chunked=chunked, headers={
            "Content-Type": "application/json", "Stripe-Signature": sign_stripe(body.decode())})
        assert status == 200, answer
    assert WebhookEvent.select().count() == 2
    body = json.dumps(stripe_event("checkout_session_completed", event_id="evt_forged")).encode()
    status, _, _ = client.request("POST", "/webhooks/stripe", body=body, headers={
        "Content-Type": "application/json", "Stripe-Signature": sign_stripe(body.decode(), secret="whsec_other")})
    assert status == 400 and WebhookEvent.select().count() == 2

    # A customer's paid download: the app checks and counts the link, nginx sends the file.
    seller, customer = make_user("seller"), make_user("customer")
    content = os.urandom(200_000)
    product = make_product(seller, "Field recordings", 1500, content=content, file_name="Field recordings.zip")
    cart.add(customer, product.id)
    orders.mark_paid(orders.create_from_cart(customer, "test").id)
    url = downloads.url_for(DownloadLink.get())
    cookies = log_in(client, customer.email)
    status, headers, body = client.request("GET", url, headers={"Cookie": cookies})
    assert status == 200 and body == content
    assert headers["content-disposition"].startswith('attachment; filename="Field recordings.zip"')
    assert "x-accel-redirect" not in headers and DownloadLink.get().download_count == 1
    # A range request is one more counted download, so it gets the whole file.
    status, _, body = client.request("GET", url, headers={"Cookie": cookies, "Range": "bytes=0-9"})
    assert status == 200 and body == content and DownloadLink.get().download_count == 2
    # The file itself is never reachable from outside.
    assert client.request("GET", f"{accel}{product.file_path}", headers={"Cookie": cookies})[0] == 404
