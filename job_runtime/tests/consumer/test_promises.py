"""Promises of the job runtime that only a real consumer shows kept: failures
recorded as they happened, batch callbacks exactly once, one attempt of a job
at a time, failed-job ids never reused, local times, and log lines once."""

import datetime
import os
import time

import pytest

import job_runtime
from job_runtime import failed as failed_jobs
from job_runtime.flow import find_batch
from job_runtime.models import FailedJob, JobRecord
from job_runtime.tests.conftest import wait_for
from job_runtime.tests.sample_jobs import (
    SampleSpan,
    always_fail,
    batch_callback,
    block,
    effect_done,
    fail_once,
    fail_until_late,
    make_effect,
    runs,
    slow_effect,
    step,
)

pytestmark = pytest.mark.consumer


def _state(job_uuid):
    return JobRecord.get(JobRecord.uuid == job_uuid).state


# ---------------------------------------------------------------------------
# A job failed before its attempt starts
# ---------------------------------------------------------------------------


def test_a_retry_picked_up_past_its_deadline_fails_with_its_arguments_and_last_error(consumer):
    consumer(workers=1)
    fail_until_late.dispatch("late")
    # The single worker is busy past the deadline when the retry comes due.
    slow_effect.dispatch("busy", 3)
    wait_for(lambda: FailedJob.select().exists(), timeout=30, message="the job to fail")
    failed = FailedJob.get()
    assert runs("late") == 1  # the retry was refused before it ran
    # The store keeps the error the job really raised, with its traceback.
    assert failed.exception_class == "LookupError" and "late is not there yet" in failed.message
    assert "Traceback" in failed.traceback and "raise LookupError" in failed.traceback
    assert "retry_until" in failed.traceback  # and why no attempt followed
    wait_for(lambda: effect_done("failed-hook:late:MaxAttemptsExceeded"), message="the failed() hook")


# ---------------------------------------------------------------------------
# Batch callbacks exactly once, across retries from the failed store
# ---------------------------------------------------------------------------


def _callbacks(batch_id):
    return {name: runs(f"{name}:{batch_id}") for name in ("then", "catch", "finally")}


def _with_callbacks(pending):
    return (pending.then(batch_callback.s("then")).catch(batch_callback.s("catch"))
            .finally_(batch_callback.s("finally")))


def _retry_failed_and_wait(key):
    failed = FailedJob.get()
    job_uuid = failed_jobs.retry(failed.id)
    wait_for(lambda: effect_done(key), timeout=30, message="the retried job")
    wait_for(lambda: _state(job_uuid) == "completed", message="its completion recorded")
    time.sleep(1.5)  # time for any callback it wrongly dispatched to run


def test_retrying_a_failed_batch_job_runs_no_callback_twice(consumer):
    consumer(workers=2)
    batch_id = _with_callbacks(job_runtime.batch([step.s("b1"), fail_once.s("b2")])).dispatch()
    wait_for(lambda: effect_done(f"finally:{batch_id}"), timeout=30, message="the batch to finish")
    wait_for(lambda: runs(f"catch:{batch_id}") == 1, message="the catch callback")
    _retry_failed_and_wait("b2")
    # The batch was cancelled by its failure: it never succeeded as a whole.
    assert _callbacks(batch_id) == {"then": 0, "catch": 1, "finally": 1}
    batch = find_batch(batch_id)
    assert (batch.pending_jobs, batch.failed_jobs, batch.failed_job_ids) == (0, 0, [])


def test_a_batch_that_allows_failures_runs_then_once_when_its_retried_job_succeeds(consumer):
    consumer(workers=2)
    batch_id = _with_callbacks(job_runtime.batch([step.s("a1"), fail_once.s("a2")],
                                                 allow_failures=True)).dispatch()
    wait_for(lambda: effect_done(f"finally:{batch_id}"), timeout=30, message="the batch to finish")
    _retry_failed_and_wait("a2")
    wait_for(lambda: runs(f"then:{batch_id}") == 1, message="then, once every job has succeeded")
    time.sleep(1)
    assert _callbacks(batch_id) == {"then": 1, "catch": 1, "finally": 1}


# ---------------------------------------------------------------------------
# One attempt of a job at a time, even when a thread cannot be interrupted
# ---------------------------------------------------------------------------


def test_a_job_blocked_past_its_timeout_is_retried_only_after_its_attempt_returns(consumer):
    consumer(workers=1)
    # Longer than the sweeper waits before it takes back a job its live worker no
    # longer reports: the stuck thread's heartbeat must keep naming it.
    job_uuid = block.dispatch("stuck", 20)
    wait_for(lambda: runs("stuck") == 1, message="the first attempt")
    # The slot is handed on: other jobs run while the first attempt still sleeps.
    make_effect.dispatch("meanwhile")
    wait_for(lambda: effect_done("meanwhile"), timeout=15, message="a job on the replacement worker")
    assert _state(job_uuid) == "running" and runs("stuck") == 1
    wait_for(lambda: FailedJob.select().exists(), timeout=90, message="both attempts to time out")
    spans = sorted((s.started, s.finished) for s in SampleSpan.select().where(SampleSpan.key == "stuck"))
    assert len(spans) == 2 and runs("stuck") == 2
    assert spans[1][0] >= spans[0][1], "the retry started while the first attempt still ran"
    assert FailedJob.get().exception_class == "JobTimeout"


# ---------------------------------------------------------------------------
# Failed-job ids
# ---------------------------------------------------------------------------


def test_failed_job_ids_are_never_reused(consumer):
    consumer(workers=1)
    always_fail.dispatch("first")
    wait_for(lambda: FailedJob.select().exists(), timeout=30, message="the first failure")
    first_id = FailedJob.get().id
    assert failed_jobs.forget(first_id)  # the store is empty again
    always_fail.dispatch("second")
    wait_for(lambda: FailedJob.select().exists(), timeout=30, message="the second failure")
    assert FailedJob.get().id > first_id


# ---------------------------------------------------------------------------
# Local times
# ---------------------------------------------------------------------------


@pytest.fixture
def kolkata_time(monkeypatch):
    monkeypatch.setenv("TZ", "Asia/Kolkata")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_a_naive_datetime_is_local_time(consumer, kolkata_time):
    consumer(workers=1)
    due = datetime.datetime.now() + datetime.timedelta(seconds=2)
    make_effect.s("local").delay(due).dispatch()
    wait_for(lambda: effect_done("local"), timeout=20, message="the job at its local time")
    assert time.time() >= due.timestamp() - 1.5  # and not before it


# ---------------------------------------------------------------------------
# Log lines
# ---------------------------------------------------------------------------


def test_a_consumer_logs_each_outcome_once(consumer):
    process = consumer(workers=2)
    done = make_effect.dispatch("logged")
    failed = always_fail.dispatch("logged-failure")
    wait_for(lambda: effect_done("logged") and FailedJob.select().exists(), timeout=30)
    wait_for(lambda: f"({done}) completed" in process.output(), timeout=10, message="the completion line")
    output = process.output()
    assert output.count(f"({done}) completed") == 1
    assert output.count(f"({failed}) failed after") == 1
    assert output.count(f"({failed}) attempt 1 failed") == 1
