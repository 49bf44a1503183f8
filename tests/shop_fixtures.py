"""Fixtures and helpers for the checkout, payment and fulfilment tests.

- make_product: an approved product with a real file under UPLOADS_DIR.
- live_app: the WSGI app served over real HTTP on a free port (APP_URL points at it),
  for the test gateway's webhook deliveries, browsers and consumer processes.
- stripe_api: localstripe (a local Stripe API) plus a small server of our own in front
  of it for what localstripe lacks: Checkout Sessions, each request checked.
- paytm_api: a local Paytm server that checks every checksum with paytmchecksum.
- signed Stripe events from the fixtures in tests/fixtures/stripe, signed with stripe's
  own helper.

tests/conftest.py loads this module as a plugin (pytest_plugins), so every test file
has its fixtures; test files import only its helpers and constants.
"""

import copy
import json
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
import stripe
from paytmchecksum import PaytmChecksum

from shop import config
from shop.catalog import search
from models import Product, ProductFile, slugify, utcnow
from tests.conftest import free_port, marks_its_tests, port_open, wait_for

FIXTURES = Path(__file__).parent / "fixtures" / "stripe"
STRIPE_KEY = "sk_test_marketplace_suite"
STRIPE_WEBHOOK_SECRET = "whsec_test_marketplace_suite"
PAYTM_MID = "MARKET12345678901234"
PAYTM_KEY = "Tq8cZ1mW4rX7yB2e"  # Paytm merchant keys are 16 characters (an AES-128 key)
PAYTM_WEBSITE = "WEBSTAGING"


# ---------------------------------------------------------------------------
# Products
# ---------------------------------------------------------------------------


def make_product(seller, title="Field recorder presets", price=1500, currency="USD", content=None,
                 file_name=None, status="approved"):
    """An approved product whose private file really exists under UPLOADS_DIR."""
    config.UPLOADS_DIR.mkdir(parents=True, exist_ok=True)
    content = content if content is not None else f"contents of {title}\n".encode() * 64
    relative = f"{uuid.uuid4().hex}.zip"
    (config.UPLOADS_DIR / relative).write_bytes(content)
    slug = f"{slugify(title)}-{uuid.uuid4().hex[:6]}"
    product = Product.create(seller=seller, title=title, slug=slug, description=f"{title}, ready to download.",
                             price=price, currency=currency, status=status, file_path=relative,
                             file_name=file_name or f"{slugify(title)}.zip", file_size=len(content),
                             approved_at=utcnow() if status == "approved" else None)
    ProductFile.create(product=product, position=0, name=product.file_name, path=product.file_path,
                       size=product.file_size, sha256=product.file_sha256)  # as products.create_product does
    search.refresh(product.id)  # as moderation does when it approves
    return product


@pytest.fixture
def two_sellers(make_user):
    """Two sellers with one product each, and a customer: the issue's basic sale."""
    sam = make_user("seller", name="Sam Seller")
    priya = make_user("seller", name="Priya Patel")
    return {"sam": sam, "priya": priya,
            "presets": make_product(sam, "Field recorder presets", 1500),
            "ebook": make_product(priya, "Night photography e-book", 999)}


def add_to_cart(client, product):
    page = client.get(f"/products/{product.slug}")
    form = next(f for f in page.forms.values() if f.action == "/cart/add")
    return form.submit()


def checkout_form(client, gateway, country="US"):
    """The checkout page's form with `gateway` and the buyer's country chosen, not yet submitted.

    The United States by default: the rate table charges no tax there, so a test's
    figures are the prices as set unless it chooses a taxed country.
    """
    page = client.get("/checkout")
    form = next(f for f in page.forms.values() if f.action == "/checkout")
    form["gateway"] = gateway
    form["country"] = country
    return form


def checkout(client, gateway):
    return checkout_form(client, gateway).submit(expect_errors=True)


# ---------------------------------------------------------------------------
# The app over real HTTP
# ---------------------------------------------------------------------------


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    # socketserver's backlog of 5 resets the connections of requests sent at once
    # (the login throttle's tests send 30); gunicorn's is 2048.
    request_queue_size = 128


class LiveServer:
    def __init__(self, app):
        self.port = free_port()
        self.server = make_server("127.0.0.1", self.port, app, server_class=_ThreadingWSGIServer,
                                  handler_class=_QuietHandler)
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def live_app(app_env):
    """marketplace.app on a real port, with APP_URL pointing at it."""
    import marketplace

    server = LiveServer(marketplace.app)
    app_env.reload(APP_URL=server.url)
    yield server
    server.stop()


# ---------------------------------------------------------------------------
# Stripe: localstripe, and our Checkout Sessions server in front of it
# ---------------------------------------------------------------------------

# localstripe keeps its state in /tmp/localstripe.pickle, shared by everyone on the
# machine; this launcher keeps it in memory only.
_LOCALSTRIPE = ("import sys, localstripe.resources as r; r.Store.dump_to_disk = lambda self: None; "
                "from localstripe import server; sys.argv = ['localstripe', '--from-scratch', '--port', sys.argv[1]]; "
                "server.start()")


@pytest.fixture(scope="session")
@marks_its_tests("consumer")
def localstripe_url(tmp_path_factory):
    port = free_port()
    log = open(tmp_path_factory.mktemp("localstripe") / "localstripe.log", "wb")
    process = subprocess.Popen([sys.executable, "-c", _LOCALSTRIPE, str(port)], stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: port_open("127.0.0.1", port) or process.poll() is not None, timeout=30,
                 message="localstripe to listen")
        assert process.poll() is None, "localstripe did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)
        log.close()


def _nest(pairs):
    """Stripe's form encoding (a[b][0][c]=v) back into dicts and lists."""
    root = {}
    for key, value in pairs:
        parts = key.replace("]", "").split("[")
        node = root
        for part, following in zip(parts, parts[1:] + [None]):
            if following is None:
                node[part] = value
            else:
                node = node.setdefault(part, {})
    return _listify(root)


def _listify(node):
    if not isinstance(node, dict):
        return node
    if node and all(key.isdigit() for key in node):
        return [_listify(node[key]) for key in sorted(node, key=int)]
    return {key: _listify(value) for key, value in node.items()}


class StripeAPI:
    """Checkout Sessions, checked request by request; everything else goes to localstripe."""

    def __init__(self, localstripe_url):
        self.localstripe = localstripe_url
        self.sessions = {}
        self.intents = {}  # PaymentIntents answered here rather than by localstripe (paid_session)
        self.by_key = {}
        self.requests = []
        self.problems = []
        self.lock = threading.Lock()
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                api.handle(self, "GET")

            def do_POST(self):
                api.handle(self, "POST")

            def do_DELETE(self):
                api.handle(self, "DELETE")

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    # -- HTTP ----------------------------------------------------------------

    def _reply(self, handler, status, data):
        body = json.dumps(data).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        try:
            handler.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the caller was killed mid-request (the fault tests do that on purpose)

    def _error(self, handler, status, message):
        self.problems.append(message)
        self._reply(handler, status, {"error": {"type": "invalid_request_error", "message": message}})

    def handle(self, handler, method):
        parsed = urllib.parse.urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        params = _nest(urllib.parse.parse_qsl(raw.decode() if method == "POST" else parsed.query,
                                              keep_blank_values=True))
        self.requests.append({"method": method, "path": parsed.path, "params": params,
                              "idempotency_key": handler.headers.get("Idempotency-Key")})
        if handler.headers.get("Authorization") != f"Bearer {STRIPE_KEY}":
            return self._error(handler, 401, "Invalid API key provided")
        if parsed.path == "/v1/checkout/sessions" and method == "POST":
            return self.create_session(handler, params, handler.headers.get("Idempotency-Key"))
        if parsed.path == "/v1/checkout/sessions" and method == "GET":
            found = [s for s in self.sessions.values()
                     if not params.get("payment_intent") or s["payment_intent"] == params["payment_intent"]]
            return self._reply(handler, 200, {"object": "list", "data": found[:int(params.get("limit", 10))],
                                              "has_more": False, "url": "/v1/checkout/sessions"})
        if parsed.path.startswith("/v1/checkout/sessions/") and parsed.path.endswith("/expire") and method == "POST":
            session = self.sessions.get(parsed.path.split("/")[4])
            if session is None or session["status"] != "open":
                return self._error(handler, 400, f"Only open sessions can be expired: {parsed.path}")
            return self._reply(handler, 200, self.expire(session["id"]))
        if parsed.path.startswith("/v1/checkout/sessions/") and method == "GET":
            session = self.sessions.get(parsed.path.rsplit("/", 1)[1])
            if session is None:
                return self._error(handler, 404, f"No such checkout.session: {parsed.path}")
            expand = params.get("expand") or []
            if set(expand) - {"payment_intent"}:
                return self._error(handler, 400, f"cannot expand {expand}")
            if "payment_intent" in expand and session["payment_intent"]:
                intent = self.intents.get(session["payment_intent"]) or \
                    self.localstripe_client().v1.payment_intents.retrieve(session["payment_intent"]).to_dict()
                session = dict(session, payment_intent=intent)
            return self._reply(handler, 200, session)
        if parsed.path.startswith("/v1/payment_intents/") and method == "GET":
            intent = self.intents.get(parsed.path.rsplit("/", 1)[1])
            if intent is not None:
                return self._reply(handler, 200, intent)
        self.proxy(handler, method, raw)

    def proxy(self, handler, method, raw):
        request = urllib.request.Request(self.localstripe + handler.path, data=raw if method == "POST" else None,
                                         method=method, headers={
                                             "Authorization": handler.headers.get("Authorization"),
                                             "Content-Type": handler.headers.get("Content-Type")
                                             or "application/x-www-form-urlencoded"})
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                status, body = answer.status, answer.read()
        except urllib.error.HTTPError as exc:
            status, body = exc.code, exc.read()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    # -- Checkout Sessions ---------------------------------------------------

    def create_session(self, handler, params, key):
        with self.lock:
            if not key:
                return self._error(handler, 400, "an Idempotency-Key is required for sessions")
            if key in self.by_key:
                session = self.sessions[self.by_key[key]]
                return self._reply(handler, 200, session)
            problem = self.check_params(params)
            if problem:
                return self._error(handler, 400, problem)
            items = params["line_items"]
            session_id = f"cs_test_{uuid.uuid4().hex[:24]}"
            session = {
                "id": session_id, "object": "checkout.session", "mode": "payment", "status": "open",
                "payment_status": "unpaid", "amount_subtotal": sum(int(i["price_data"]["unit_amount"]) for i in items),
                "amount_total": sum(int(i["price_data"]["unit_amount"]) for i in items),
                "currency": items[0]["price_data"]["currency"], "client_reference_id": params["client_reference_id"],
                "metadata": params.get("metadata", {}), "customer_email": params.get("customer_email"),
                "success_url": params["success_url"], "cancel_url": params["cancel_url"],
                "payment_intent": None, "url": f"{self.url}/pay/{session_id}", "livemode": False,
                "created": int(time.time()), "expires_at": int(time.time()) + 86400,
            }
            self.sessions[session_id] = session
            self.by_key[key] = session_id
            self._reply(handler, 200, session)

    def check_params(self, params):
        if params.get("mode") != "payment":
            return "mode must be payment"
        items = params.get("line_items")
        if not isinstance(items, list) or not items:
            return "line_items are required"
        for item in items:
            price = item.get("price_data", {})
            if item.get("quantity") != "1" or not price.get("currency") or not price.get("unit_amount", "").isdigit() \
                    or not price.get("product_data", {}).get("name"):
                return f"bad line item {item}"
        if len({item["price_data"]["currency"] for item in items}) != 1:
            return "line items in several currencies"
        reference = params.get("client_reference_id")
        if not reference or params.get("metadata", {}).get("order_id") != reference:
            return "client_reference_id and metadata[order_id] must name the order"
        if params.get("payment_intent_data", {}).get("metadata", {}).get("order_id") != reference:
            return "payment_intent_data[metadata][order_id] must name the order"
        for name in ("success_url", "cancel_url"):
            if not params.get(name, "").startswith(config.APP_URL + "/"):
                return f"{name} must be on APP_URL"
        if "{CHECKOUT_SESSION_ID}" not in params["success_url"]:
            return "success_url must carry {CHECKOUT_SESSION_ID}"
        return None

    def complete(self, session_id, card="4242424242424242"):
        """The customer pays on Stripe's page: a real PaymentIntent in localstripe, the session paid."""
        session = self.sessions[session_id]
        client = stripe.StripeClient(STRIPE_KEY, base_addresses={"api": self.localstripe})
        method = client.v1.payment_methods.create({"type": "card", "card": {
            "number": card, "exp_month": 12, "exp_year": 2034, "cvc": "123"}})
        intent = client.v1.payment_intents.create({"amount": session["amount_total"], "currency": session["currency"],
                                                   "payment_method": method.id, "confirm": True})
        session.update(status="complete", payment_status="paid", payment_intent=intent.id, url=None)
        return session

    def paid_session(self, order_id, total, currency="usd", session_id=None):
        """A Checkout Session already paid, with its succeeded PaymentIntent kept here instead
        of in localstripe: for tests that pay hundreds of orders without a round trip each."""
        session_id = session_id or f"cs_test_{uuid.uuid4().hex[:24]}"
        intent_id = f"pi_test_{uuid.uuid4().hex[:24]}"
        self.intents[intent_id] = {"id": intent_id, "object": "payment_intent", "status": "succeeded",
                                   "amount": total, "currency": currency}
        session = {"id": session_id, "object": "checkout.session", "mode": "payment", "status": "complete",
                   "payment_status": "paid", "amount_total": total, "amount_subtotal": total,
                   "currency": currency, "client_reference_id": str(order_id),
                   "metadata": {"order_id": str(order_id)}, "payment_intent": intent_id, "livemode": False}
        with self.lock:
            self.sessions[session_id] = session
        return session

    def expire(self, session_id):
        self.sessions[session_id].update(status="expired", url=None)
        return self.sessions[session_id]

    def localstripe_client(self):
        return stripe.StripeClient(STRIPE_KEY, base_addresses={"api": self.localstripe})


@pytest.fixture
def stripe_api(app_env, localstripe_url):
    """Stripe configured, its API served locally; returns the StripeAPI (sessions, requests, problems)."""
    api = StripeAPI(localstripe_url)
    app_env.reload(STRIPE_SECRET_KEY=STRIPE_KEY, STRIPE_WEBHOOK_SECRET=STRIPE_WEBHOOK_SECRET,
                   STRIPE_API_BASE=api.url)
    yield api
    api.stop()


def stripe_event(name, event_id=None, **changes):
    """A fixture event (tests/fixtures/stripe/<name>.json) with `changes` applied to data.object.

    `event_id` rewrites the event's id; dotted keys of `changes` reach inside the object.
    """
    event = copy.deepcopy(json.loads((FIXTURES / f"{name}.json").read_text()))
    if event_id:
        event["id"] = event_id
    obj = event["data"]["object"]
    for key, value in changes.items():
        target = obj
        parts = key.split(".")
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        target[parts[-1]] = value
    return event


def sign_stripe(body, secret=STRIPE_WEBHOOK_SECRET, timestamp=None):
    return stripe.WebhookSignature.generate_signature_header(body, secret, timestamp=timestamp)


def post_stripe_event(client, event, secret=STRIPE_WEBHOOK_SECRET, path="/webhooks/stripe", timestamp=None,
                      signature=None):
    body = event if isinstance(event, str) else json.dumps(event)
    headers = {"Stripe-Signature": signature if signature is not None else sign_stripe(body, secret, timestamp),
               "Content-Type": "application/json"}
    return client.post(path, body.encode(), headers=headers, expect_errors=True)


def session_event(name, order, session, event_id=None):
    """A fixture event rewritten to describe our order's session."""
    event = stripe_event(name, event_id=event_id or f"evt_{uuid.uuid4().hex[:24]}")
    obj = event["data"]["object"]
    obj.update(id=session["id"], client_reference_id=str(order.id), metadata={"order_id": str(order.id)},
               amount_total=session["amount_total"], amount_subtotal=session["amount_total"],
               currency=session["currency"], payment_intent=session.get("payment_intent"))
    return event


# ---------------------------------------------------------------------------
# Paytm: a local server that checks each request with paytmchecksum
# ---------------------------------------------------------------------------


def _raw_body_member(text):
    from shop.payments.paytm_gateway import raw_member

    return raw_member(text, "body")


class PaytmAPI:
    def __init__(self):
        self.orders = {}
        self.refunds = {}
        self.requests = []
        self.problems = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                api.handle(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def _reply(self, handler, body):
        body_text = json.dumps(body)
        signature = PaytmChecksum.generateSignature(body_text, PAYTM_KEY)
        data = ('{"head":{"responseTimestamp":"%d","version":"v1","signature":"%s"},"body":%s}'
                % (int(time.time()), signature, body_text)).encode()
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def _result(self, status, code, message):
        return {"resultInfo": {"resultStatus": status, "resultCode": code, "resultMsg": message}}

    def handle(self, handler):
        parsed = urllib.parse.urlsplit(handler.path)
        text = handler.rfile.read(int(handler.headers.get("Content-Length") or 0)).decode()
        data = json.loads(text)
        body = data["body"]
        self.requests.append({"path": parsed.path, "query": dict(urllib.parse.parse_qsl(parsed.query)), "body": body})
        if not PaytmChecksum.verifySignature(_raw_body_member(text), PAYTM_KEY, data["head"]["signature"]):
            self.problems.append(f"bad signature on {parsed.path}")
            return self._reply(handler, self._result("F", "2005", "Checksum provided is invalid"))
        if body.get("mid") != PAYTM_MID:
            self.problems.append(f"wrong mid on {parsed.path}")
            return self._reply(handler, self._result("F", "1007", "Invalid MID"))
        getattr(self, "api_" + parsed.path.strip("/").replace("/", "_"))(handler, parsed, body)

    def api_theia_api_v1_initiateTransaction(self, handler, parsed, body):
        query = dict(urllib.parse.parse_qsl(parsed.query))
        if query.get("orderId") != body["orderId"] or query.get("mid") != PAYTM_MID:
            self.problems.append("query and body disagree")
        if body.get("requestType") != "Payment" or body.get("websiteName") != PAYTM_WEBSITE \
                or not body.get("callbackUrl", "").startswith(config.APP_URL + "/"):
            self.problems.append(f"bad initiate body {body}")
            return self._reply(handler, self._result("F", "501", "Bad request"))
        order = self.orders.setdefault(body["orderId"], {"token": uuid.uuid4().hex, "status": "PENDING",
                                                          "amount": body["txnAmount"]["value"], "txn_id": None})
        self._reply(handler, {**self._result("S", "0000", "Success"), "txnToken": order["token"],
                              "isPromoCodeValid": False, "authenticated": False})

    def api_v3_order_status(self, handler, parsed, body):
        order = self.orders.get(body["orderId"])
        if order is None:
            return self._reply(handler, self._result("TXN_FAILURE", "501", "Invalid Order Id."))
        status = order["status"]
        answer = {**self._result(status, "01" if status == "TXN_SUCCESS" else "400", status.title()),
                  "orderId": body["orderId"], "mid": PAYTM_MID, "txnAmount": order["amount"], "txnType": "SALE"}
        if order["txn_id"]:
            answer["txnId"] = order["txn_id"]
        self._reply(handler, answer)

    def api_refund_apply(self, handler, parsed, body):
        order = self.orders.get(body["orderId"])
        if order is None or order["txn_id"] != body.get("txnId") or body.get("txnType") != "REFUND":
            self.problems.append(f"bad refund request {body}")
            return self._reply(handler, self._result("TXN_FAILURE", "601", "Invalid refund request"))
        self.refunds[body["refId"]] = {"order_id": body["orderId"], "amount": body["refundAmount"],
                                       "status": "PENDING", "refund_id": uuid.uuid4().hex}
        self._reply(handler, {**self._result("PENDING", "601", "Refund request was raised for this transaction."),
                              "orderId": body["orderId"], "refId": body["refId"], "txnId": body["txnId"],
                              "refundAmount": body["refundAmount"], "refundId": self.refunds[body["refId"]]["refund_id"]})

    def api_v2_refund_status(self, handler, parsed, body):
        refund = self.refunds.get(body["refId"])
        if refund is None:
            return self._reply(handler, self._result("TXN_FAILURE", "631", "Record not found"))
        self._reply(handler, {**self._result(refund["status"], "10", refund["status"].title()),
                              "orderId": body["orderId"], "refId": body["refId"], "refundAmount": refund["amount"],
                              "totalRefundAmount": refund["amount"], "refundId": refund["refund_id"]})

    # -- what the customer and Paytm do --------------------------------------

    def pay(self, reference, succeed=True):
        order = self.orders[reference]
        order["status"] = "TXN_SUCCESS" if succeed else "TXN_FAILURE"
        order["txn_id"] = f"2025{uuid.uuid4().int % 10**20:020d}" if succeed else None
        return order

    def notification(self, reference, key=PAYTM_KEY):
        """The form fields Paytm posts to the callback URL and to the notification URL."""
        order = self.orders[reference]
        fields = {"MID": PAYTM_MID, "ORDERID": reference, "TXNAMOUNT": order["amount"], "CURRENCY": "INR",
                  "STATUS": order["status"], "RESPCODE": "01" if order["status"] == "TXN_SUCCESS" else "227",
                  "RESPMSG": "Txn Success" if order["status"] == "TXN_SUCCESS" else "Declined",
                  "TXNID": order["txn_id"] or "", "BANKTXNID": "77700", "TXNDATE": "2025-03-12 10:31:00.0",
                  "GATEWAYNAME": "HDFC", "BANKNAME": "HDFC Bank", "PAYMENTMODE": "UPI"}
        fields["CHECKSUMHASH"] = PaytmChecksum.generateSignature(dict(fields), key)
        return fields

    def complete_refund(self, ref_id):
        self.refunds[ref_id]["status"] = "TXN_SUCCESS"

    def refund_webhook(self, ref_id, key=PAYTM_KEY):
        """Paytm's refund webhook (accepted, or succeeded once complete_refund ran), JSON signed in head."""
        refund = self.refunds[ref_id]
        order = self.orders[refund["order_id"]]
        fields = {"source": "MERCHANT", "txnId": order["txn_id"], "orderId": refund["order_id"],
                  "txnAmount": order["amount"], "mid": PAYTM_MID, "refundAmount": refund["amount"],
                  "totalRefundAmount": refund["amount"], "refId": ref_id, "refundId": refund["refund_id"],
                  "txnTimestamp": "2025-03-12 10:31:00.0", "acceptRefundTimestamp": "2025-03-13 09:00:00.0"}
        if refund["status"] == "TXN_SUCCESS":
            # The "success refund" webhook follows the "accept refund" one and says when the credit started.
            fields["userCreditInitiateTimestamp"] = "2025-03-13 09:00:05.0"
        body = json.dumps(fields, indent=1)
        return '{\n "head": {"signature": "%s", "version": "v1"},\n "body": %s\n}' % (
            PaytmChecksum.generateSignature(body, key), body)


@pytest.fixture
def paytm_api(app_env):
    """Paytm configured (INR), its APIs served locally."""
    api = PaytmAPI()
    app_env.reload(PAYTM_MID=PAYTM_MID, PAYTM_MERCHANT_KEY=PAYTM_KEY, PAYTM_WEBSITE=PAYTM_WEBSITE,
                   PAYTM_HOST=api.url, CURRENCY="INR")
    yield api
    api.stop()
