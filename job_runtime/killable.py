"""Run CPU-heavy work (images, PDFs) in a child process that can be killed on time.

A thread cannot be stopped from outside while it is inside C code such as
Pillow's decoder, so a job's timeout cannot hold for such work under thread
workers. `call()` runs the function in a child process and kills the child
when the job's remaining time (or `timeout`) runs out, raising JobTimeout.

Children are started from a fork server and kept warm between calls, because
starting one costs more than most thumbnails or invoices take to draw. A child
that is killed, or that has served MAX_CALLS calls, is replaced by a fresh one.

The function must be importable by name (a module-level function) and its
arguments and result picklable; ids and paths are, like every job argument.
Children know nothing of the settings: pass them what they need.
"""

import multiprocessing
import os
import pickle
import threading
import traceback

from job_runtime.errors import JobTimeout
from job_runtime.thread_state import current

_context = multiprocessing.get_context("forkserver")


def preload(*modules):
    """Have the fork server import `modules` once, instead of every child importing them.

    The application names the modules its children need (the libraries and the
    modules of the functions it calls) when it sets the runtime up, before the
    first call starts the fork server. "__main__" is always among them:
    otherwise every new child runs the main script (huey_consumer, and the
    imports it brings) again before its first call.
    """
    _context.set_forkserver_preload(["__main__", *modules])


preload()

MAX_CALLS = 200  # then the child is replaced, so no slow leak in a library grows forever
MAX_IDLE = 4


class ChildError(Exception):
    """The function raised in the child; the message carries its traceback."""


def _serve(conn):
    """The child's loop: run each call it is sent, answer, wait for the next."""
    while True:
        try:
            func, args, kwargs = conn.recv()
        except (EOFError, OSError):
            return
        try:
            answer = ("ok", func(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001  (everything is reported to the parent)
            answer = ("error", (type(exc).__name__, str(exc), traceback.format_exc(),
                                exc if _picklable(exc) else None))
        try:
            conn.send(answer)
        except (pickle.PicklingError, TypeError) as exc:
            conn.send(("error", ("ChildError", f"the result cannot be sent back: {exc}", "", None)))
        except OSError:
            return  # the caller is gone (its consumer was killed): nobody to answer, nothing to report


def _picklable(exc):
    try:
        pickle.loads(pickle.dumps(exc))
        return True
    except Exception:
        return False


class _Child:
    def __init__(self):
        self.conn, child_end = _context.Pipe()
        self.process = _context.Process(target=_serve, args=(child_end,), daemon=True)
        self.process.start()
        child_end.close()
        self.calls = 0

    def kill(self):
        self.process.kill()
        self.process.join(5)
        self.conn.close()

    def retire(self):
        self.conn.close()  # the child's recv() sees EOF and returns
        self.process.join(5)
        if self.process.is_alive():
            self.process.kill()


_idle = []
_lock = threading.Lock()


def _reset_after_fork():
    # A forked consumer worker must not share its parent's children.
    global _lock
    _idle.clear()
    _lock = threading.Lock()


os.register_at_fork(after_in_child=_reset_after_fork)


def _take():
    with _lock:
        while _idle:
            child = _idle.pop()
            if child.process.is_alive():
                return child
    return _Child()


def _give_back(child):
    if child.calls >= MAX_CALLS or not child.process.is_alive():
        child.retire()
        return
    with _lock:
        if len(_idle) < MAX_IDLE:
            _idle.append(child)
            return
    child.retire()


def call(func, *args, timeout=None, **kwargs):
    """func(*args, **kwargs) in a child process; killed after `timeout` seconds.

    The default timeout is what is left of the running job's own. An exception
    raised in the child is raised again here (as ChildError when it cannot be
    sent across), so a job's retry policy sees it as if it ran in-process.
    """
    attempt = current()
    if timeout is None and attempt is not None:
        timeout = attempt.remaining
    child = _take()
    try:
        child.conn.send((func, args, kwargs))
        if not child.conn.poll(timeout):
            child.kill()
            raise JobTimeout(f"{func.__name__} did not finish within {timeout:g}s and was killed")
        status, value = child.conn.recv()
    except (EOFError, OSError, BrokenPipeError):
        child.kill()
        raise ChildError(f"{func.__name__} died without an answer (exit code {child.process.exitcode})") from None
    except BaseException:
        if child.process.is_alive() and not child.conn.closed:
            child.kill()  # interrupted mid-call (a JobTimeout raised in this thread): the child's state is unknown
        raise
    child.calls += 1
    _give_back(child)
    if status == "ok":
        return value
    name, message, tb, exc = value
    if exc is not None:
        raise exc
    raise ChildError(f"{name}: {message}\n{tb}")
