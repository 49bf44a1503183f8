"""Run CPU-heavy work (images, PDFs) in a child process that can be killed on time.

A thread cannot be stopped from outside while it is inside C code such as
Pillow's decoder, so a job's timeout cannot hold for such work under thread
workers. `call()` runs the function in a process from a forkserver and kills it
when the job's remaining time (or `timeout`) runs out, raising JobTimeout.

The function must be importable by name (a module-level function) and its
arguments and result picklable; ids and paths are, like every job argument.
"""

import multiprocessing
import traceback

import jobs

_context = multiprocessing.get_context("forkserver")
# Modules every child needs, imported once by the fork server instead of per call.
_context.set_forkserver_preload(["config", "models", "PIL.Image", "images"])


class ChildError(Exception):
    """The function raised in the child; the message carries its traceback."""


def _child(conn, func, args, kwargs):
    try:
        conn.send(("ok", func(*args, **kwargs)))
    except BaseException as exc:  # noqa: BLE001  (everything is reported to the parent)
        conn.send(("error", (type(exc).__name__, str(exc), traceback.format_exc(),
                             exc if _picklable(exc) else None)))
    finally:
        conn.close()


def _picklable(exc):
    import pickle

    try:
        pickle.loads(pickle.dumps(exc))
        return True
    except Exception:
        return False


def call(func, *args, timeout=None, **kwargs):
    """func(*args, **kwargs) in a child process; killed after `timeout` seconds.

    The default timeout is what is left of the running job's own. An exception
    raised in the child is raised again here (as ChildError when it cannot be
    sent across), so a job's retry policy sees it as if it ran in-process.
    """
    attempt = jobs.current()
    if timeout is None and attempt is not None:
        timeout = attempt.remaining
    parent_end, child_end = _context.Pipe(duplex=False)
    process = _context.Process(target=_child, args=(child_end, func, args, kwargs), daemon=True)
    process.start()
    child_end.close()
    try:
        if not parent_end.poll(timeout):
            process.kill()
            raise jobs.JobTimeout(f"{func.__name__} did not finish within {timeout:g}s and was killed")
        try:
            status, value = parent_end.recv()
        except EOFError:
            raise ChildError(f"{func.__name__} died without an answer (exit code {process.exitcode})") from None
    finally:
        parent_end.close()
        process.join(5)
        if process.is_alive():
            process.kill()
    if status == "ok":
        return value
    name, message, tb, exc = value
    if exc is not None:
        raise exc
    raise ChildError(f"{name}: {message}\n{tb}")
