"""A real HTTP server that receives the shop's webhooks, for the outgoing webhook tests:
it keeps every request (headers and raw body) and answers what the test tells it to."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.conftest import free_port


class Receiver:
    def __init__(self):
        self.requests = []
        self.statuses = []      # answered in turn; 200 once they run out
        self.stall = threading.Event()  # set: hold every request without answering
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    receiver.requests.append((dict(self.headers), body))
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                while receiver.stall.is_set():
                    threading.Event().wait(0.05)
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.port}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.stall.clear()
        self.server.shutdown()
        self.server.server_close()
