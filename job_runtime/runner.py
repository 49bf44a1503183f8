"""Running one attempt of a job: claim its record, run it through its
middleware, then record the outcome (complete, release, retry or fail), and the
chain and batch bookkeeping that goes with it.

Every outcome is written with the attempt's reservation in the WHERE clause: a
worker that lost its job (past its timeout, or taken back by the sweeper) can
no longer change the record, and a duplicate doorbell finds nothing to claim.
Whether to retry is the job's RetryPolicy's answer (policy.py), from the
record's counts, not Huey's own retry counter, which knows none of them.
"""

import ctypes
import datetime
import logging
import threading
import time
import traceback
import uuid as uuidlib

from peewee import DatabaseError

from job_runtime import control, registry, thread_state
from job_runtime.context import db
from job_runtime.dispatch import PendingJob, dispatch_callback
from job_runtime.doorbells import ring
from job_runtime.errors import Fail, JobTimeout, MaxAttemptsExceeded, Release, WorkerLost
from job_runtime.locks import release_lock
from job_runtime.models import Batch, FailedJob, JobRecord, utcnow
from job_runtime.payload import decode_payload
from job_runtime.times import as_seconds
from job_runtime.writes import retry_while_busy, sql, write_turn

log = logging.getLogger(__name__)

# The two statements every job runs, claim and complete, are written out in SQL:
# building them with peewee took longer than running them (about half a
# millisecond each for a table this wide). They are what peewee would build.
_CLAIMED = ("id", "uuid", "name", "queue", "payload", "encrypted", "attempts", "exceptions", "lost",
            "retry_until", "unique_key", "chain_id", "chain_step", "chain_total", "chain_rest", "batch_id",
            "reserved_by", "last_error", "last_traceback", "retried_at")
_CLAIM_SQL = ('UPDATE "job" SET "state" = \'running\', "attempts" = "attempts" + 1, "reserved_at" = ?, '
              '"reserved_by" = ?, "reservation" = ? '
              'WHERE "uuid" = ? AND "state" = \'pending\' AND "available_at" <= ? RETURNING '
              + ", ".join(f'"{c}"' for c in _CLAIMED))
_COMPLETE_SQL = ('UPDATE "job" SET "state" = \'completed\', "finished_at" = ?, "duration" = ?, '
                 '"reservation" = NULL, "last_error" = NULL, "last_traceback" = NULL WHERE "uuid" = ? AND "reservation" = ?')
_converters = [getattr(JobRecord, column).python_value for column in _CLAIMED]


class ClaimedJob:
    """The columns of a claimed record that running it needs."""

    __slots__ = _CLAIMED + ("reservation",)

    def __init__(self, row, reservation):
        for column, convert, value in zip(_CLAIMED, _converters, row):
            setattr(self, column, convert(value) if value is not None else None)
        self.encrypted = bool(self.encrypted)
        self.reservation = reservation


class Attempt:
    """What a running job can know about itself (see `current()`)."""

    def __init__(self, record, job_, reservation, worker_id):
        self.record = record
        self.job = job_
        self.uuid = record.uuid
        self.name = record.name
        self.queue = record.queue
        self.attempts = record.attempts
        self.reservation = reservation
        self.worker_id = worker_id
        self.started = time.monotonic()
        timeout = job_.timeout if job_ else None
        self.deadline = self.started + timeout if timeout else None
        self.thread = threading.current_thread()
        self.args = ()
        self.kwargs = {}
        self.lock = threading.Lock()
        self.in_user_code = False
        self.interrupted = False
        self.abandoned = False

    @property
    def remaining(self):
        """Seconds left before the timeout (None without one)."""
        return None if self.deadline is None else max(0.0, self.deadline - time.monotonic())


def claim(job_uuid, reservation, worker_id):
    """Mark the record running for this attempt; None when someone else has it."""
    now = utcnow()
    # A second of slack for clocks that differ a little between hosts.
    with write_turn():
        cursor = db.execute_sql(sql(_CLAIM_SQL), (now, worker_id, reservation, job_uuid,
                                                   now + datetime.timedelta(seconds=1)))
        row = cursor.fetchone()
    return ClaimedJob(row, reservation) if row else None


def execute(job_uuid):
    """Run one attempt of the job recorded under `job_uuid`, if it is due and free."""
    reservation = uuidlib.uuid4().hex
    worker_id = thread_state.worker_identity()
    try:
        record = claim(job_uuid, reservation, worker_id)
    except DatabaseError:
        log.exception("cannot claim job %s; ringing again in 5 s", job_uuid)
        _retry_doorbell(job_uuid)
        return
    if record is None:
        log.debug("doorbell for job %s ignored: not pending or not due", job_uuid)
        return
    if control.is_paused(record.queue):
        _unclaim(record, reservation)
        return

    job_ = registry.declared(record.name)
    attempt = Attempt(record, job_, reservation, worker_id)
    if job_ is None:
        _finish_failed(attempt, Fail(f"no job named {record.name!r} is declared"), "")
        return
    # Read first: a job failed before its attempt starts still hands its failed()
    # hook the arguments it was dispatched with.
    try:
        attempt.args, attempt.kwargs = decode_payload(record.payload, record.encrypted)
    except ValueError as exc:
        _finish_failed(attempt, Fail(f"payload cannot be read: {exc}"), "")
        return
    # A job put back by `queue retry` runs although its batch was cancelled: someone asked for it.
    if record.batch_id and record.retried_at is None and _batch_cancelled(record.batch_id):
        _finish_cancelled(attempt)
        return
    refusal = job_.policy.refusal(record.attempts, record.lost, record.retry_until, utcnow())
    if refusal is not None:
        exc = MaxAttemptsExceeded(f"{record.name} {refusal}")
        _finish_failed(attempt, exc, "", stored_as=_last_real_error(record, exc))
        return

    thread_state.set_current(attempt)
    for hook in thread_state.attempt_started:
        hook(attempt)
    outcome = None
    try:
        try:
            attempt.in_user_code = True
            _run_through_middleware(attempt)
        finally:
            _leave_user_code(attempt)
    except Release as exc:
        outcome = ("release", exc)
    except Fail as exc:
        outcome = ("fail", exc)
    except (KeyboardInterrupt, SystemExit):
        thread_state.set_current(None)
        raise
    except BaseException as exc:  # noqa: BLE001  (JobTimeout arrives as an asynchronous exception)
        outcome = ("error", _described_timeout(attempt, exc))

    try:
        if outcome is None:
            _finish_completed(attempt)
        elif outcome[0] == "release":
            _finish_released(attempt, outcome[1].delay)
        elif outcome[0] == "fail":
            _finish_failed(attempt, outcome[1], _format_tb(outcome[1]))
        else:
            record_exception(attempt, outcome[1], _format_tb(outcome[1]))
    finally:
        thread_state.set_current(None)
        for hook in thread_state.attempt_finished:
            hook(attempt)


# The watchdog stops an attempt past its timeout by raising JobTimeout in its
# thread (PyThreadState_SetAsyncExc). Once the job's own code has returned, that
# must no longer happen: the lock and the flag below close the window.
_set_async_exc = ctypes.PYFUNCTYPE(ctypes.c_int, ctypes.c_ulong, ctypes.py_object)(
    ("PyThreadState_SetAsyncExc", ctypes.pythonapi))
_clear_async_exc = ctypes.PYFUNCTYPE(ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p)(
    ("PyThreadState_SetAsyncExc", ctypes.pythonapi))


def interrupt_attempt(attempt, exc_class):
    """Raise `exc_class` in the attempt's thread if its job code is still running."""
    with attempt.lock:
        if not attempt.in_user_code:
            return False
        attempt.interrupted = True
        return _set_async_exc(attempt.thread.ident, exc_class) == 1


def _leave_user_code(attempt):
    with attempt.lock:
        attempt.in_user_code = False
        if attempt.interrupted:
            # Withdraw an interruption that has not been delivered yet.
            _clear_async_exc(attempt.thread.ident, None)


def _run_through_middleware(attempt):
    chain = list(attempt.job.middleware)

    def proceed(index=0):
        if index < len(chain):
            return chain[index].handle(attempt, lambda: proceed(index + 1))
        return attempt.job.func(*attempt.args, **attempt.kwargs)

    return proceed()


def _described_timeout(attempt, exc):
    """The watchdog's JobTimeout, which arrives without a message, given one."""
    if not isinstance(exc, JobTimeout) or exc.args:
        return exc
    text = f"{attempt.name} ran past its {attempt.job.timeout:g}s timeout"
    if attempt.abandoned:
        text += " and did not stop until its blocking call returned"
    return JobTimeout(text).with_traceback(exc.__traceback__)


def _format_tb(exc):
    return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))


def _last_real_error(record, refusal):
    """What the failed store keeps for a job refused before its attempt: the error
    its last attempt really raised, with the traceback, and then why no attempt
    followed. None when no attempt raised (every one was released)."""
    if not record.last_error:
        return None
    exception_class, _, message = record.last_error.partition(": ")
    tb = (record.last_traceback or "").rstrip("\n")
    tb += f"\n\nNo attempt followed: {type(refusal).__name__}: {refusal}\n"
    return exception_class, message or exception_class, tb.lstrip("\n")


def _retry_doorbell(job_uuid):
    try:
        record = JobRecord.get_or_none(JobRecord.uuid == job_uuid)
    except DatabaseError:
        record = None
    if record is not None:
        ring(record.uuid, record.name, record.queue, utcnow() + datetime.timedelta(seconds=5))


def _outcome_write(attempt, description, write, transaction=True):
    """Run `write()` (a transaction guarded by the reservation), retrying a busy database.

    Returns False when the reservation is no longer ours: a newer attempt owns
    the record and this outcome is discarded.
    """
    deadline = time.monotonic() + 30

    def write_in_turn():
        with write_turn():
            if not transaction:
                return write()
            with db.atomic():
                return write()

    try:
        return retry_while_busy(write_in_turn, give_up=lambda exc: time.monotonic() >= deadline)
    except DatabaseError:
        log.exception("could not record %s of job %s; the sweeper will re-run it", description, attempt.uuid)
        return False


def _guarded(attempt, **fields):
    return (JobRecord.update(**fields)
            .where((JobRecord.uuid == attempt.uuid) & (JobRecord.reservation == attempt.reservation))
            .execute())


def _unclaim(record, reservation):
    """Give a claimed job back untouched (its queue is paused); `queue continue` rings it."""
    JobRecord.update(state="pending", attempts=JobRecord.attempts - 1, reservation=None,
                     reserved_by=None, reserved_at=None, enqueued_at=None).where(
        (JobRecord.uuid == record.uuid) & (JobRecord.reservation == reservation)).execute()


def _elapsed(attempt):
    return round(time.monotonic() - attempt.started, 6)


class CompletionWriter:
    """Records plain completions in batches: one transaction for many jobs.

    A consumer installs one (consumer.py). A worker thread hands over the
    completion and moves on to its next job; a writer thread commits what has
    gathered every few milliseconds. If the process dies before a batch is
    written, those jobs are still "running" in the records and the sweeper runs
    them again, which is harmless because every job is idempotent.
    """

    def __init__(self, interval=0.005, max_batch=500):
        self.interval, self.max_batch = interval, max_batch
        self.pending = []
        self.lock = threading.Lock()
        self.wake = threading.Event()
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name="CompletionWriter", daemon=True)
        self.thread.start()

    def add(self, job_uuid, reservation, finished_at, duration):
        with self.lock:
            self.pending.append((finished_at, duration, job_uuid, reservation))
            if len(self.pending) >= self.max_batch:
                self.wake.set()

    def _run(self):
        while not self.stopped.is_set():
            self.wake.wait(self.interval)
            self.wake.clear()
            self.flush()

    def flush(self):
        with self.lock:
            batch, self.pending = self.pending, []
        if not batch:
            return

        def write():
            with write_turn(), db.atomic():
                db.cursor().executemany(sql(_COMPLETE_SQL), batch)

        def give_up(exc):
            log.warning("could not record %d completion(s) yet (%s); retrying", len(batch), exc)
            return self.stopped.is_set()

        try:
            retry_while_busy(write, give_up)
        except DatabaseError:
            pass  # stopping: the sweeper runs those jobs again

    def close(self):
        """Write what is left; called as the consumer stops."""
        self.stopped.set()
        self.wake.set()
        self.thread.join(5)
        self.flush()


# Set by a consumer; None in web processes and tests, where completions are written at once.
completion_writer = None


def _finish_completed(attempt):
    record = attempt.record
    if not (record.chain_rest or record.batch_id or record.unique_key):
        # Nothing else changes with it, so it can be written later, with others.
        if completion_writer is not None:
            completion_writer.add(attempt.uuid, attempt.reservation, utcnow(), _elapsed(attempt))
            log.info("job %s (%s) completed in %.3fs", attempt.name, attempt.uuid, _elapsed(attempt),
                     extra=_log_extra(attempt))
            return

        def write():
            cursor = db.execute_sql(sql(_COMPLETE_SQL), (utcnow(), _elapsed(attempt), attempt.uuid,
                                                          attempt.reservation))
            return cursor.rowcount == 1

        if _outcome_write(attempt, "the completion", write, transaction=False):
            log.info("job %s (%s) completed in %.3fs", attempt.name, attempt.uuid, _elapsed(attempt),
                     extra=_log_extra(attempt))
        return

    def write():
        if not _guarded(attempt, state="completed", finished_at=utcnow(), duration=_elapsed(attempt),
                        reservation=None, last_error=None, last_traceback=None):
            return False
        record = attempt.record
        if record.chain_rest:
            _dispatch_chain_rest(record)
        if record.batch_id:
            batch_job_done(record.batch_id, failed=False, job_uuid=record.uuid)
        if record.unique_key:
            release_lock(record.unique_key, record.uuid)
        return True

    if _outcome_write(attempt, "the completion", write):
        log.info("job %s (%s) completed in %.3fs", attempt.name, attempt.uuid, _elapsed(attempt),
                 extra=_log_extra(attempt))


def _finish_released(attempt, delay):
    available_at = utcnow() + datetime.timedelta(seconds=as_seconds(delay) or 0)

    def write():
        return _guarded(attempt, state="pending", available_at=available_at, enqueued_at=utcnow(),
                        reservation=None, duration=_elapsed(attempt))

    if _outcome_write(attempt, "the release", write):
        log.info("job %s (%s) released for %ss", attempt.name, attempt.uuid, delay, extra=_log_extra(attempt))
        ring(attempt.uuid, attempt.name, attempt.queue, available_at)


def record_exception(attempt, exc, tb, not_before=0.0):
    """An attempt raised (or timed out): retry by the job's policy, or fail it.

    Also called by the watchdog of a worker process about to exit under a job
    it gave up waiting for; `not_before` (seconds) keeps the retry from starting
    before that process is gone.
    """
    record, job_ = attempt.record, attempt.job
    exceptions = record.exceptions + 1
    now = utcnow()
    delay = job_.policy.retry_delay(record.attempts, record.lost, exceptions, record.retry_until, now)
    if delay is None:
        _finish_failed(attempt, exc, tb, exceptions=exceptions)
        return
    delay = max(delay, not_before)
    available_at = now + datetime.timedelta(seconds=delay)
    message = f"{type(exc).__name__}: {exc}"

    def write():
        return _guarded(attempt, state="pending", exceptions=exceptions, available_at=available_at,
                        enqueued_at=now, reservation=None, last_error=message[:2000], last_traceback=tb,
                        duration=_elapsed(attempt))

    if _outcome_write(attempt, "the retry", write):
        log.warning("job %s (%s) attempt %d failed (%s); retrying in %ss",
                    attempt.name, attempt.uuid, record.attempts, message, delay, extra=_log_extra(attempt))
        ring(attempt.uuid, attempt.name, attempt.queue, available_at)


def _finish_failed(attempt, exc, tb, exceptions=None, stored_as=None):
    """Fail the job with `exc`; the failed store keeps `stored_as` instead when
    given: (exception class, message, traceback) of the error that really
    happened, for a job refused before its attempt."""
    record = attempt.record
    message = str(exc) or type(exc).__name__
    exception_class, stored_message, stored_tb = stored_as or (type(exc).__name__, message, tb)

    def write():
        fields = {"state": "failed", "finished_at": utcnow(), "reservation": None,
                  "last_error": f"{exception_class}: {stored_message}"[:2000], "last_traceback": stored_tb,
                  "duration": _elapsed(attempt)}
        if exceptions is not None:
            fields["exceptions"] = exceptions
        if not _guarded(attempt, **fields):
            return None
        FailedJob.delete().where(FailedJob.uuid == record.uuid).execute()
        failed = FailedJob.create(
            uuid=record.uuid, name=record.name, queue=record.queue, payload=record.payload,
            encrypted=record.encrypted, exception_class=exception_class, message=stored_message,
            traceback=stored_tb, attempts=record.attempts, chain_id=record.chain_id,
            chain_step=record.chain_step, chain_total=record.chain_total, batch_id=record.batch_id)
        if record.batch_id:
            batch_job_done(record.batch_id, failed=True, job_uuid=record.uuid)
        if record.unique_key:
            release_lock(record.unique_key, record.uuid)
        return failed

    failed = _outcome_write(attempt, "the failure", write)
    if not failed:
        return
    log.error("job %s (%s) failed after %d attempt(s): %s: %s", record.name, record.uuid,
              record.attempts, type(exc).__name__, message, extra=_log_extra(attempt))
    _run_failed_hooks(attempt, exc, failed)


def _log_extra(attempt):
    """What a log handler may want of a job outcome's record, beside its text."""
    return {"job_uuid": attempt.uuid, "job_name": attempt.name, "queue": attempt.queue}


def _run_failed_hooks(attempt, exc, failed):
    hooks = attempt.job.failed_hooks if attempt.job else []
    for hook in hooks:
        try:
            hook(exc, *attempt.args, **attempt.kwargs)
        except Exception:
            log.exception("failed() hook of %s raised", attempt.name)
    for listener in registry.FAILURE_LISTENERS:
        try:
            listener(failed)
        except Exception:
            log.exception("failure listener %r raised", listener)


def _finish_cancelled(attempt):
    def write():
        if not _guarded(attempt, state="cancelled", finished_at=utcnow(), reservation=None):
            return False
        batch_job_done(attempt.record.batch_id, failed=False, job_uuid=attempt.uuid, cancelled=True)
        return True

    if _outcome_write(attempt, "the cancellation", write):
        log.info("job %s (%s) skipped: its batch was cancelled", attempt.name, attempt.uuid,
                 extra=_log_extra(attempt))


def recover_lost(record):
    """Put back a job whose worker died mid-attempt (called by the sweeper).

    The lost attempt does not count against `tries`; a job that keeps taking
    its worker down with it still fails at its policy's lost-worker limit.
    """
    job_ = registry.declared(record.name)
    attempt = Attempt(record, job_, record.reservation, record.reserved_by)
    if job_ is None or job_.policy.fails_when_lost(record.lost):
        try:
            attempt.args, attempt.kwargs = decode_payload(record.payload, record.encrypted)
        except ValueError:
            pass
        _finish_failed(attempt, WorkerLost(
            f"the worker {record.reserved_by} stopped while running this job"), "")
        return False
    now = utcnow()
    changed = (JobRecord.update(state="pending", lost=JobRecord.lost + 1, reservation=None,
                                enqueued_at=now, available_at=now,
                                last_error=f"WorkerLost: {record.reserved_by} stopped mid-attempt")
               .where((JobRecord.uuid == record.uuid) & (JobRecord.reservation == record.reservation))
               .execute())
    if changed:
        log.warning("job %s (%s) was running on %s, which stopped; queued again",
                    record.name, record.uuid, record.reserved_by)
        ring(record.uuid, record.name, record.queue)
    return bool(changed)


# ---------------------------------------------------------------------------
# Chains and batches: the bookkeeping run inside an attempt's outcome
# (building them is flow.py)
# ---------------------------------------------------------------------------


def _dispatch_chain_rest(record):
    rest = list(record.chain_rest)
    head, tail = rest[0], rest[1:]
    PendingJob.from_spec(head).dispatch(
        chain_id=record.chain_id, chain_step=(record.chain_step or 0) + 1,
        chain_total=record.chain_total, chain_rest=tail or None)


def _batch_cancelled(batch_id):
    return Batch.select(Batch.cancelled_at).where(
        (Batch.id == batch_id) & Batch.cancelled_at.is_null(False)).exists()


def batch_job_done(batch_id, failed, job_uuid, cancelled=False):
    """Count one finished job of a batch and dispatch its callbacks exactly once.

    The counters change in one UPDATE inside the attempt's transaction, so
    whichever attempt brings pending_jobs to zero, on whatever worker, is the
    only one that sees it there.
    """
    updates = {Batch.pending_jobs: Batch.pending_jobs - 1}
    if failed:
        updates[Batch.failed_jobs] = Batch.failed_jobs + 1
    rows = list(Batch.update(updates).where(Batch.id == batch_id).returning(
        Batch.pending_jobs, Batch.failed_jobs, Batch.allow_failures, Batch.callbacks,
        Batch.cancelled_at).execute())
    if not rows:
        return
    batch = rows[0]
    callbacks = batch.callbacks or {}
    if failed:
        ids = Batch.get_by_id(batch_id).failed_job_ids or []
        if job_uuid not in ids:  # a retried job that failed again is listed once
            Batch.update(failed_job_ids=ids + [job_uuid]).where(Batch.id == batch_id).execute()
        if not batch.allow_failures:
            Batch.update(cancelled_at=utcnow()).where(
                (Batch.id == batch_id) & Batch.cancelled_at.is_null()).execute()
        if first_time(batch_id, Batch.catch_at):
            dispatch_callback(callbacks.get("catch"), batch_id)
    if batch.pending_jobs == 0:
        Batch.update(finished_at=utcnow()).where(Batch.id == batch_id).execute()
        # A batch whose failed jobs were all retried and succeeded has succeeded, if
        # nothing was cancelled: `then` runs then, once; `finally` ran when it first finished.
        if (batch.failed_jobs == 0 and not cancelled and batch.cancelled_at is None
                and first_time(batch_id, Batch.then_at)):
            dispatch_callback(callbacks.get("then"), batch_id)
        if first_time(batch_id, Batch.finally_at):
            dispatch_callback(callbacks.get("finally"), batch_id)


def first_time(batch_id, column):
    """Stamp `column` (a callback's dispatch time) if it is empty; whether this call did.

    One guarded UPDATE inside the attempt's transaction: of two workers finishing
    a batch's jobs at once, only one sees the column empty.
    """
    return Batch.update({column: utcnow()}).where((Batch.id == batch_id) & column.is_null()).execute() == 1

