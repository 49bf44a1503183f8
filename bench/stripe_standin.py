"""A stand-in for the Stripe API call process_webhook makes (retrieve a
Checkout Session with its PaymentIntent expanded), answered from memory, so the
benchmarks measure the shop rather than an emulator. The tests use localstripe
and a checking server instead (tests/shop_fixtures.py)."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class StripeStandIn:
    def __init__(self):
        self.sessions = {}
        self.intents = {}
        self.calls = 0
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes; with Nagle on, the body waits
            # for the client's delayed ACK (40 ms a call), which no Stripe server adds.
            disable_nagle_algorithm = True

            def log_message(self, *args):
                pass

            def do_GET(self):
                standin.calls += 1
                kind, _, object_id = self.path.split("?")[0].removeprefix("/v1/").rpartition("/")
                table = {"checkout/sessions": standin.sessions, "payment_intents": standin.intents}.get(kind, {})
                found = table.get(object_id)
                if found and "expand" in self.path and found.get("payment_intent") in standin.intents:
                    found = dict(found, payment_intent=standin.intents[found["payment_intent"]])
                body = json.dumps(found if found else {"error": {"type": "invalid_request_error",
                                                                 "message": f"No such object: {object_id}"}})
                self.send_response(200 if found else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body.encode())

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def add_paid_session(self, session_id, order_id, amount, currency):
        intent_id = "pi_" + session_id.removeprefix("cs_")
        self.sessions[session_id] = {
            "id": session_id, "object": "checkout.session", "status": "complete", "payment_status": "paid",
            "amount_total": amount, "amount_subtotal": amount, "currency": currency.lower(),
            "client_reference_id": str(order_id), "metadata": {"order_id": str(order_id)},
            "payment_intent": intent_id, "mode": "payment",
        }
        self.intents[intent_id] = {"id": intent_id, "object": "payment_intent", "status": "succeeded",
                                   "amount": amount, "currency": currency.lower()}
        return intent_id

    def stop(self):
        self.server.shutdown()
