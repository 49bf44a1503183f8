"""The shop's logging, set up the same way in every process: the consumer, the web app
and the `marketplace` command.

One handler on the root logger, added once per process however often the set-up
runs, writes every line with its time, level and logger, and, inside a job, the
job's name and id:

    2026-12-01 10:02:03,417 INFO shop.mail [send_invoice_email 3f9c...]: mail invoice:7 sent to ...

The runtime writes one line per outcome of an attempt at INFO (completed,
released, retrying, failed), so LOG_LEVEL=info shows what every job did.
"""

import logging
import sys

import job_runtime

FORMAT = "%(asctime)s %(levelname)s %(name)s [%(job)s]: %(message)s"


class JobFilter(logging.Filter):
    """Adds `job` to every record: the running job's name and id, or "-" outside a job."""

    def filter(self, record):
        attempt = job_runtime.current()
        record.job = f"{attempt.name} {attempt.uuid}" if attempt is not None else "-"
        return True


class LeaveHueyToItsOwnHandler(logging.Filter):
    """Drops Huey's lines while Huey's logger has a handler of its own, so none is written twice.

    huey_consumer (and `marketplace queue work`) give the "huey" logger a handler
    after the shop has started, and its lines also reach the root's handler.
    """

    def filter(self, record):
        if record.name == "huey" or record.name.startswith("huey."):
            return not logging.getLogger("huey").handlers
        return True


class StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is when a line is written, not when the handler was made."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value):
        pass  # always sys.stderr


def _ours(handler):
    return getattr(handler, "shop_handler", False)


def setup_logging(level):
    """Configure the root logger once; a later call only changes the level."""
    root = logging.getLogger()
    if not any(_ours(handler) for handler in root.handlers):
        handler = StderrHandler()
        handler.shop_handler = True
        handler.setFormatter(logging.Formatter(FORMAT))
        handler.addFilter(LeaveHueyToItsOwnHandler())
        handler.addFilter(JobFilter())
        root.addHandler(handler)
    root.setLevel(level)
