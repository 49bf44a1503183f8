"""Switches shared by every worker on every host: paused queues and the restart stamp.

They live in the application database, which all consumers share. Workers read
them through a cache of about a second, so a pause or a restart reaches every
worker within a second or two without a query per job.
"""

import threading
import time

from job_runtime.models import QueueFlag
from job_runtime.context import db
from job_runtime.models import utcnow
from job_runtime.backends import QUEUES

CACHE_SECONDS = 1.0
_RESTART = "restart"
_lock = threading.Lock()
_cache = {"read_at": -1e9, "paused": frozenset(), "restart": None}


def _paused_key(queue):
    return f"paused:{queue}"


def _check_queue(queue):
    if queue not in QUEUES:
        raise ValueError(f"unknown queue {queue!r}; the queues are {', '.join(QUEUES)}")


def get_flag(key, default=None):
    """A small piece of shared state (for example the last failure an alert reported)."""
    flag = QueueFlag.get_or_none(QueueFlag.key == key)
    return flag.value if flag is not None else default


def set_flag(key, value):
    _set(key, str(value))


def _set(key, value):
    with db.atomic():
        (QueueFlag.insert(key=key, value=value, updated_at=utcnow())
         .on_conflict(conflict_target=[QueueFlag.key],
                      update={QueueFlag.value: value, QueueFlag.updated_at: utcnow()})
         .execute())
    _cache["read_at"] = -1e9


def pause(queue):
    _check_queue(queue)
    _set(_paused_key(queue), "1")


def resume(queue):
    """Unpause; the caller re-rings the queue's waiting jobs (sweeper.ring_missing)."""
    _check_queue(queue)
    QueueFlag.delete().where(QueueFlag.key == _paused_key(queue)).execute()
    _cache["read_at"] = -1e9


def request_restart():
    """Ask every worker to finish its job and restart; returns the stamp (a unix time)."""
    stamp = repr(time.time())
    _set(_RESTART, stamp)
    return float(stamp)


def _refresh():
    rows = {flag.key: flag.value for flag in QueueFlag.select()}
    _cache["paused"] = frozenset(q for q in QUEUES if _paused_key(q) in rows)
    _cache["restart"] = float(rows[_RESTART]) if _RESTART in rows else None
    _cache["read_at"] = time.monotonic()


def snapshot(max_age=CACHE_SECONDS):
    """(paused queues, restart stamp), at most `max_age` seconds old."""
    if time.monotonic() - _cache["read_at"] > max_age:
        with _lock:
            if time.monotonic() - _cache["read_at"] > max_age:
                _refresh()
    return _cache["paused"], _cache["restart"]


def paused_queues():
    return snapshot(max_age=0)[0]


def is_paused(queue):
    return queue in snapshot()[0]


def restart_stamp(max_age=CACHE_SECONDS):
    return snapshot(max_age)[1]
