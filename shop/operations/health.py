"""Reachability of the database and the queue, for GET /healthz and `marketplace queue status`."""

import time

from shop import config
from job_runtime import huey
from models import db


def _timed(probe):
    start = time.perf_counter()
    try:
        detail = probe()
    except Exception as exc:  # any failure of the backend is the answer, not an error
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
    result = {"ok": True, "ms": round((time.perf_counter() - start) * 1000, 2)}
    result.update(detail or {})
    return result


def _database():
    db.execute_sql("SELECT 1").fetchone()
    return {"backend": type(db.obj).__name__}


def _queue():
    return {"backend": config.QUEUE_CONNECTION, "pending": huey.pending_count(),
            "scheduled": huey.scheduled_count()}


def check():
    report = {"database": _timed(_database), "queue": _timed(_queue)}
    report["ok"] = all(part["ok"] for part in report.values())
    return report
