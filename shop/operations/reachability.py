"""Whether APP_URL reaches this web server: checked when the server starts.

Everything that comes back to the shop from outside is sent to APP_URL: the test
gateway's signed events, Stripe's and Paytm's return pages, the links in emails.
With WEB_BIND changed and APP_URL left as it was, those go to an old address, and
a test payment waits on "Processing your payment" for ever. Two checks say so at
start-up, as warnings only (a reverse proxy, a DNS record not yet live or a
certificate still to come are normal while a shop is being set up):

- before serving, APP_URL's address is compared with WEB_BIND when APP_URL names
  this machine's loopback (behind a proxy APP_URL names the proxy, and nothing can
  be concluded from the addresses);
- once serving, GET APP_URL/healthz must answer with this server's identity,
  SERVER_ID: a random value made when this module is first imported, in the
  server's main process before it forks its workers, so every worker answers with it.
"""

import ipaddress
import json
import logging
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from urllib.parse import urlparse

from shop import config

# Named, not __name__: the probe also runs as `python -m` (see start_checking).
log = logging.getLogger("shop.operations.reachability")

SERVER_ID = secrets.token_hex(8)
PROBE_TIMEOUT = 5
# Workers take a moment to boot after the server starts listening.
PROBE_FOR_SECONDS = 10

LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def _is_loopback(host):
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _is_any(host):
    return host in ("", "0.0.0.0", "::")


def address_mismatch(app_url, bind):
    """A sentence when APP_URL names this machine's loopback but not the address served on."""
    address = config.bind_address(bind)
    parsed = urlparse(app_url)
    if address is None or not parsed.hostname or not _is_loopback(parsed.hostname):
        return None
    host, port = address
    app_port = parsed.port or (443 if parsed.scheme == "https" else 80)
    if app_port == port and (_is_loopback(host) or _is_any(host)):
        return None
    return (f"APP_URL is {app_url}, but this server listens on {bind}: test payments, gateway "
            f"callbacks and the links in emails go to APP_URL. Set APP_URL to the address the shop "
            f"is reached at (here {config.local_url(bind)}), or leave it unset to derive it from WEB_BIND.")


def probe(app_url, server_id=SERVER_ID, timeout=PROBE_TIMEOUT):
    """None when APP_URL/healthz answers with `server_id`, else a sentence saying what answered."""
    url = f"{app_url}/healthz"
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read(65536)
    except urllib.error.HTTPError as exc:
        # /healthz answers 503 when the database or the queue is down: still this shop.
        body = exc.read(65536)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return f"{url} could not be reached ({reason})"
    try:
        answer = json.loads(body)
    except ValueError:
        return f"{url} answered, but not as this shop's health check does"
    if not isinstance(answer, dict) or answer.get("server") != server_id:
        return f"{url} answered, but from another server than this one"
    return None


def warn(problem):
    """The warning, written so that nobody reading the log can miss it."""
    rule = "!" * 78
    log.warning("\n%s\n  APP_URL does not reach this server.\n  %s\n  Until it does, test-mode "
                "payments stay on \"Processing your payment\" and gateway callbacks and email links\n"
                "  lead elsewhere.\n%s", rule, problem, rule)


def check_before_serving(app_url, bind):
    """The address comparison; warns and returns the problem, or None."""
    problem = address_mismatch(app_url, bind)
    if problem:
        warn(problem)
    return problem


def check_once_serving(app_url, server_id=SERVER_ID, wait=PROBE_FOR_SECONDS, interval=1.0):
    """Probe until APP_URL answers as this server or `wait` seconds pass; warns and
    returns the last problem, or None."""
    deadline = time.monotonic() + wait
    while True:
        problem = probe(app_url, server_id)
        if problem is None:
            log.info("APP_URL %s reaches this server", app_url)
            return None
        if time.monotonic() >= deadline:
            warn(problem)
            return problem
        time.sleep(interval)


def start_checking(app_url, server_id=SERVER_ID):
    """check_once_serving in a process of its own, so the server starts without waiting.

    Not a thread: the server's main process forks its workers meanwhile, and a worker
    forked while a thread holds the import or the logging lock hangs for ever.
    The probe's output goes where the server's does.
    """
    return subprocess.Popen([sys.executable, "-m", __name__, app_url, server_id], close_fds=True)


def main(argv=None):
    """`python -m shop.operations.reachability APP_URL SERVER_ID`: the probe, for start_checking."""
    app_url, server_id = (sys.argv[1:] if argv is None else argv)[:2]
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    check_once_serving(app_url, server_id)
    return 0


if __name__ == "__main__":
    sys.exit(main())
