"""Reachability of the database and the queue, and the schema version, for GET /healthz and
`marketplace queue status`."""

import time

from shop import config
from job_runtime import huey
from models import db
from shop.operations import schema


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


def _schema():
    """The database's schema version against this code's; not ok when they differ."""
    try:
        current = schema.status()
    except Exception as exc:  # an unreachable database is reported by _database
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
    report = {"ok": current.problem() is None, "version": current.version, "head": current.head,
              "state": current.state.value}
    if current.problem():
        report["error"] = current.problem()
    return report


def check():
    report = {"database": _timed(_database), "queue": _timed(_queue), "schema": _schema()}
    report["ok"] = all(part["ok"] for part in report.values())
    return report
