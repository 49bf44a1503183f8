"""A local Stripe for Connect: accounts, account links, transfers and their reversals, payouts.

localstripe does not speak Connect, so the payout tests point the real `stripe`
library (STRIPE_API_BASE) at this threaded server. It checks every request the
way Stripe would refuse it (the secret key, the form fields, the connected
account a payout is made on) and records each problem in `problems`, which a
test asserts empty. Every POST must carry an Idempotency-Key: the first answer
to a key is kept and replayed for the same key, as Stripe does, and the same key
with other parameters is refused. A 5xx is not kept, so a retry runs again.

A test can make it answer 500 a few times (`fail_next`), or hold a request's
answer after the work is done (`hold`), the moment a consumer is killed in.
"""

import json
import platform
import re
import threading
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.conftest import free_port

# The stripe library's user agent names the platform, and platform.platform() runs `uname -p`
# once per process. Asked here, while the tests are collected, so that the in-process tests
# (which may start no process) do not trip over it on their first call to Stripe.
platform.platform()

ABSOLUTE_URL = re.compile(r"^https?://[^/]+/")


def parse_form(text):
    """Stripe's form encoding (`metadata[payout_id]=5`) as nested dicts."""
    params = {}
    for key, value in urllib.parse.parse_qsl(text, keep_blank_values=True):
        parts = re.findall(r"[^\[\]]+", key)
        target = params
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        target[parts[-1]] = value
    return params


class StripeConnectAPI:
    def __init__(self, secret_key):
        self.secret_key = secret_key
        self.accounts, self.links, self.transfers, self.payouts = {}, [], {}, {}
        self.requests, self.problems = [], []
        self.answers = {}  # idempotency key -> (method and path, params, status, body)
        self.failures = {}  # path prefix -> how many 500s are still to be answered
        self.holds = {}  # path prefix -> (arrived, release) events
        self.lock = threading.RLock()
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                api.handle(self, "GET")

            def do_POST(self):
                api.handle(self, "POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        for _, release in self.holds.values():
            release.set()
        self.server.shutdown()
        self.server.server_close()

    # -- What a test asks of it ------------------------------------------------

    def fail_next(self, path, times=1):
        """Answer the next `times` requests to `path` (a prefix) with a 500, doing nothing."""
        self.failures[path] = times

    def hold(self, path):
        """Do the next request to `path`, then wait to answer it until released; (arrived, release)."""
        events = (threading.Event(), threading.Event())
        self.holds[path] = events
        return events

    def complete_onboarding(self, account_id, payouts_enabled=True):
        """The seller finished Stripe's onboarding: the account as its account.updated event carries it."""
        account = self.accounts[account_id]
        account.update(details_submitted=True, charges_enabled=True, payouts_enabled=payouts_enabled)
        return dict(account)

    def settle_payout(self, payout_id, status="paid", failure_code=None):
        """The bank paid (or refused) a payout: the payout as its event carries it."""
        payout = self.payouts[payout_id]
        payout.update(status=status, failure_code=failure_code)
        return dict(payout)

    def posts(self, path):
        return [r for r in self.requests if r["method"] == "POST" and r["path"] == path]

    # -- HTTP ------------------------------------------------------------------

    def reply(self, handler, status, data):
        body = json.dumps(data).encode()
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(body)))
            handler.send_header("Request-Id", f"req_{uuid.uuid4().hex[:14]}")
            handler.end_headers()
            handler.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the caller was killed while it waited (the fault tests do that on purpose)

    def refuse(self, status, message, param=None):
        self.problems.append(message)
        return status, {"error": {"type": "invalid_request_error", "message": message, "param": param}}

    def handle(self, handler, method):
        parsed = urllib.parse.urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length).decode() if length else ""
        params = parse_form(raw if method == "POST" else parsed.query)
        key = handler.headers.get("Idempotency-Key")
        account = handler.headers.get("Stripe-Account")
        request = {"method": method, "path": parsed.path, "params": params, "idempotency_key": key,
                   "account": account}
        with self.lock:
            self.requests.append(request)
            failing = next((p for p, n in self.failures.items() if n > 0 and parsed.path.startswith(p)), None)
            if failing is not None:
                self.failures[failing] -= 1
                return self.reply(handler, 500, {"error": {"type": "api_error", "message": "An error occurred."}})
            status, body = self.answer(handler, method, parsed.path, params, key, account)
        hold = next((p for p in self.holds if parsed.path.startswith(p)), None)
        if hold is not None and method == "POST":
            arrived, release = self.holds.pop(hold)
            arrived.set()
            release.wait(60)
        self.reply(handler, status, body)

    def answer(self, handler, method, path, params, key, account):
        if handler.headers.get("Authorization") != f"Bearer {self.secret_key}":
            return self.refuse(401, "Invalid API key provided")
        if method == "POST":
            if not key:
                return self.refuse(400, f"POST {path} without an Idempotency-Key")
            if key in self.answers:
                where, earlier_params, status, body = self.answers[key]
                if where != (path, account) or earlier_params != params:
                    return self.refuse(400, f"Keys for idempotent requests can only be used with the same "
                                            f"parameters they were first used with: {key}")
                return status, body
        status, body = self.route(method, path, params, account)
        if method == "POST" and status < 500:
            self.answers[key] = ((path, account), params, status, body)
        return status, body

    def route(self, method, path, params, account):
        parts = path.strip("/").split("/")
        if parts[0] != "v1":
            return self.refuse(404, f"Unrecognized request URL: {path}")
        parts = parts[1:]
        if parts == ["accounts"] and method == "POST":
            return self.create_account(params)
        if len(parts) == 2 and parts[0] == "accounts" and method == "GET":
            found = self.accounts.get(parts[1])
            return (200, found) if found else self.refuse(404, f"No such account: '{parts[1]}'")
        if parts == ["account_links"] and method == "POST":
            return self.create_link(params)
        if parts == ["transfers"] and method == "POST":
            return self.create_transfer(params)
        if len(parts) == 2 and parts[0] == "transfers" and method == "GET":
            found = self.transfers.get(parts[1])
            return (200, found) if found else self.refuse(404, f"No such transfer: '{parts[1]}'")
        if len(parts) == 3 and parts[0] == "transfers" and parts[2] == "reversals" and method == "POST":
            return self.reverse_transfer(parts[1], params)
        if parts == ["payouts"] and method == "POST":
            return self.create_payout(params, account)
        if len(parts) == 2 and parts[0] == "payouts" and method == "GET":
            found = self.payouts.get(parts[1])
            if found is None or found["account"] != account:
                return self.refuse(404, f"No such payout: '{parts[1]}' on account {account}")
            return 200, {k: v for k, v in found.items() if k != "account"}
        return self.refuse(404, f"Unrecognized request URL ({method}: {path})")

    # -- Resources -------------------------------------------------------------

    def create_account(self, params):
        if params.get("type") != "express":
            return self.refuse(400, f"this server makes Express accounts only, not {params.get('type')!r}", "type")
        if params.get("capabilities", {}).get("transfers", {}).get("requested") != "true":
            return self.refuse(400, "an Express account that receives transfers must request them", "capabilities")
        account = {"id": f"acct_{uuid.uuid4().hex[:16]}", "object": "account", "type": "express",
                   "email": params.get("email"), "metadata": params.get("metadata", {}),
                   "details_submitted": False, "charges_enabled": False, "payouts_enabled": False,
                   "settings": {"payouts": {"schedule": params.get("settings", {}).get("payouts", {})
                                            .get("schedule", {"interval": "daily"})}}}
        self.accounts[account["id"]] = account
        return 200, account

    def create_link(self, params):
        if params.get("account") not in self.accounts:
            return self.refuse(400, f"No such account: {params.get('account')!r}", "account")
        if params.get("type") != "account_onboarding":
            return self.refuse(400, f"unknown link type {params.get('type')!r}", "type")
        for name in ("refresh_url", "return_url"):
            if not ABSOLUTE_URL.match(params.get(name) or ""):
                return self.refuse(400, f"{name} must be an absolute URL", name)
        link = {"object": "account_link", "created": 1, "expires_at": 301,
                "url": f"https://connect.stripe.test/setup/e/{params['account']}/{uuid.uuid4().hex[:10]}"}
        self.links.append(dict(params, url=link["url"]))
        return 200, link

    def _amount(self, params):
        try:
            amount = int(params.get("amount", ""))
        except ValueError:
            return None
        return amount if amount > 0 else None

    def create_transfer(self, params):
        amount = self._amount(params)
        if amount is None:
            return self.refuse(400, f"Invalid positive integer: amount={params.get('amount')!r}", "amount")
        if not re.fullmatch(r"[a-z]{3}", params.get("currency", "")):
            return self.refuse(400, f"Invalid currency: {params.get('currency')!r}", "currency")
        destination = self.accounts.get(params.get("destination"))
        if destination is None:
            return self.refuse(400, f"No such destination: {params.get('destination')!r}", "destination")
        if not destination["payouts_enabled"]:
            return self.refuse(400, "The destination account has not finished onboarding", "destination")
        transfer = {"id": f"tr_{uuid.uuid4().hex[:16]}", "object": "transfer", "amount": amount,
                    "currency": params["currency"], "destination": destination["id"],
                    "transfer_group": params.get("transfer_group"), "metadata": params.get("metadata", {}),
                    "amount_reversed": 0, "reversed": False}
        self.transfers[transfer["id"]] = transfer
        return 200, transfer

    def reverse_transfer(self, transfer_id, params):
        transfer = self.transfers.get(transfer_id)
        if transfer is None:
            return self.refuse(404, f"No such transfer: '{transfer_id}'")
        amount = self._amount(params) if "amount" in params else transfer["amount"] - transfer["amount_reversed"]
        if amount is None or amount > transfer["amount"] - transfer["amount_reversed"]:
            return self.refuse(400, f"cannot reverse {params.get('amount')} of {transfer_id}", "amount")
        transfer["amount_reversed"] += amount
        transfer["reversed"] = transfer["amount_reversed"] == transfer["amount"]
        return 200, {"id": f"trr_{uuid.uuid4().hex[:16]}", "object": "transfer_reversal", "amount": amount,
                     "transfer": transfer_id, "metadata": params.get("metadata", {})}

    def create_payout(self, params, account):
        if account not in self.accounts:
            return self.refuse(400, f"a payout to a seller's bank is made on their account, not {account!r}")
        amount = self._amount(params)
        received = sum(t["amount"] - t["amount_reversed"] for t in self.transfers.values()
                       if t["destination"] == account)
        # A failed payout's money is back on the account.
        paid = sum(p["amount"] for p in self.payouts.values()
                   if p["account"] == account and p["status"] not in ("failed", "canceled"))
        if amount is None or amount > received - paid:
            return self.refuse(400, f"payout of {params.get('amount')} exceeds the account's balance "
                                    f"of {received - paid}", "amount")
        payout = {"id": f"po_{uuid.uuid4().hex[:16]}", "object": "payout", "amount": amount,
                  "currency": params.get("currency"), "status": "pending", "failure_code": None,
                  "metadata": params.get("metadata", {}), "account": account}
        self.payouts[payout["id"]] = payout
        return 200, {k: v for k, v in payout.items() if k != "account"}
