"""What this thread is doing for the runtime: the attempt it runs and the worker it is.

A consumer installs its watchdog and bookkeeping in `attempt_started` and
`attempt_finished`; the runner calls them around every attempt.
"""

import threading

_local = threading.local()

# hook(attempt), called by the runner as an attempt starts and as it ends.
attempt_started = []
attempt_finished = []


def current():
    """The Attempt running in this thread, or None outside a job."""
    return getattr(_local, "attempt", None)


def set_current(attempt):
    """Called by the runner as an attempt starts (the attempt) and ends (None)."""
    _local.attempt = attempt


def worker_identity():
    return getattr(_local, "worker_id", None) or "local"


def set_worker_identity(worker_id):
    """Called by each consumer worker as it starts: host:pid:name."""
    _local.worker_id = worker_id
