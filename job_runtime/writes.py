"""How the runtime writes its short, hot statements: SQL with the database's
placeholder, turns for SQLite's one writer, and retries while the database is busy."""

import contextlib
import threading
import time

from peewee import DatabaseError

from job_runtime.context import db


def sql(statement):
    """`statement` (written with "?") with the database's parameter placeholder."""
    param = db.obj.param
    return statement if param == "?" else statement.replace("?", param)


# SQLite has one writer at a time, and a writer that finds the file locked sleeps
# at least a millisecond before trying again. The runtime's own short writes from
# this process's worker threads take turns on a lock instead, which costs
# microseconds; other processes still meet SQLite's busy timeout.
# The lock is only ever taken outside a transaction (or to open one), never by a
# thread that may already hold SQLite's own write lock, so the two cannot deadlock.
_sqlite_writes = threading.RLock()
_no_turn = contextlib.nullcontext()


def write_turn():
    """The lock to hold around one write: SQLite's turn, or none at all."""
    if db.obj.param != "?" or db.in_transaction():
        return _no_turn
    return _sqlite_writes


def retry_while_busy(write, give_up):
    """Return write(), running it again while it raises DatabaseError.

    Waits 50 ms after the first failure, doubling up to 2 s. After each failure
    `give_up(exc)` decides: True raises that exception to the caller.
    """
    delay = 0.05
    while True:
        try:
            return write()
        except DatabaseError as exc:
            if give_up(exc):
                raise
            time.sleep(delay)
            delay = min(delay * 2, 2)
