"""The job runtime's rules, in immediate mode: dispatch, retries, failures, uniqueness,
encryption. (The guarantees that need real processes are in consumer/test_guarantees.py.)"""

import datetime
import json

import pytest

import job_runtime
from job_runtime import context
from job_runtime import runner as job_runner  # internal: runs one attempt, as a worker does
from job_runtime import doorbells  # internal: ring()
from job_runtime.models import FailedJob, JobRecord, utcnow
from job_runtime.tests.sample_jobs import (
    SampleRun,
    always_fail,
    effect_done,
    every_ten_minutes,
    fail_first,
    fail_now,
    make_effect,
    release_once,
    runs,
    secret_effect,
)

huey = job_runtime.huey
db = context.db


def record(job_uuid):
    return JobRecord.get(JobRecord.uuid == job_uuid)


def run_due(job_uuid):
    """Make a retried job due now and run its next attempt (the consumer's scheduler would)."""
    JobRecord.update(available_at=utcnow()).where(JobRecord.uuid == job_uuid).execute()
    job_runner.execute(job_uuid)


# Jobs declared by the tests below, once: a name can be declared only once per process.
backoff_probe = job_runtime.job(name="probe_backoff_list", backoff=[10, 30, 60], tries=9, max_exceptions=3,
                                retry_until=datetime.timedelta(minutes=2))(lambda: None)
backoff_int_probe = job_runtime.job(name="probe_backoff_int", backoff=7)(lambda: None)
probe_calls = []


@job_runtime.job(name="probe_max_exceptions", tries=10, max_exceptions=2, backoff=0)
def max_exceptions_probe():
    probe_calls.append(1)
    if len(probe_calls) == 1:
        raise job_runtime.Release(0)
    raise RuntimeError("again")


@job_runtime.job(name="probe_retry_until", tries=1, retry_until=60, backoff=1)
def deadline_probe():
    raise RuntimeError("not yet")


@job_runtime.job(name="probe_unique", unique_for=3600)
def unique_probe(order_id):
    SampleRun.create(key=f"unique:{order_id}", job="unique_probe", attempt=1)


@job_runtime.job(name="probe_secret_failure", encrypted=True)
def secret_failure_probe(secret):
    raise RuntimeError("card declined")


failures_heard = []
job_runtime.on_failure(lambda failed: failures_heard.append((failed.name, failed.message)))


@pytest.fixture(autouse=True)
def _fresh_probes():
    probe_calls.clear()
    failures_heard.clear()


def test_dispatch_records_the_job_and_runs_it():
    job_uuid = make_effect.dispatch("a")
    assert effect_done("a")
    row = record(job_uuid)
    assert (row.state, row.attempts, row.queue, row.name) == ("completed", 1, "default", make_effect.name)
    assert json.loads(row.payload) == [["a"], {}]


def test_nothing_is_enqueued_before_the_transaction_commits():
    with db.atomic():
        make_effect.dispatch("inside")
        assert not effect_done("inside")
        assert JobRecord.select().count() == 1
    assert effect_done("inside")


def test_a_rolled_back_dispatch_leaves_nothing():
    with pytest.raises(RuntimeError), db.atomic():
        make_effect.dispatch("rolled-back")
        raise RuntimeError("the caller's transaction fails")
    assert JobRecord.select().count() == 0
    assert not effect_done("rolled-back")
    assert huey.pending_count() == 0


def test_jobs_take_ids_not_objects():
    row = SampleRun.create(key="an-object", job="none", attempt=0)
    with pytest.raises(TypeError, match="JSON values"):
        make_effect.dispatch(row)
    assert JobRecord.select().count() == 0


def test_unknown_queue_is_refused():
    with pytest.raises(ValueError, match="queue must be one of"):
        make_effect.s("x").on_queue("urgent")


def test_a_job_carries_the_retry_policy_it_declares():
    assert backoff_probe.policy == job_runtime.RetryPolicy(tries=9, backoff=(10, 30, 60), max_exceptions=3,
                                                           retry_until=120.0)
    assert [backoff_probe.policy.backoff_for(n) for n in range(1, 6)] == [10, 30, 60, 60, 60]
    assert backoff_int_probe.policy.backoff_for(3) == 7


def test_a_failing_attempt_is_retried_after_its_backoff():
    job_uuid = fail_first.dispatch("flaky", 2)
    row = record(job_uuid)
    assert (row.state, row.attempts, row.exceptions) == ("pending", 1, 1)
    assert 0.1 < (row.available_at - utcnow()).total_seconds() <= 0.2
    assert "RuntimeError: failure 2 of flaky" in row.last_error
    assert len(huey.scheduled()) == 1  # the doorbell waits in Huey's schedule

    run_due(job_uuid)
    row = record(job_uuid)
    assert (row.attempts, row.exceptions) == (2, 2)
    assert 0.3 < (row.available_at - utcnow()).total_seconds() <= 0.4  # the second backoff value

    run_due(job_uuid)
    assert record(job_uuid).state == "completed"
    assert effect_done("flaky") and runs("flaky") == 3


def test_after_its_last_try_a_job_lands_in_the_failed_store_and_its_hook_runs():
    job_uuid = always_fail.dispatch("doomed")
    run_due(job_uuid)
    row = record(job_uuid)
    assert row.state == "failed" and row.attempts == 2
    failed = FailedJob.get()
    assert (failed.uuid, failed.name, failed.queue, failed.attempts) == (job_uuid, always_fail.name, "default", 2)
    assert failed.exception_class == "ValueError" and failed.message == "doomed cannot succeed"
    assert "Traceback (most recent call last)" in failed.traceback and "raise ValueError" in failed.traceback
    assert json.loads(failed.payload) == [["doomed"], {}]
    assert effect_done("failed-hook:doomed:ValueError")
    run_due(job_uuid)  # a stray doorbell later changes nothing
    assert FailedJob.select().count() == 1 and runs("doomed") == 2


def test_failure_listeners_hear_of_each_final_failure_once():
    run_due(fail_first.dispatch("recovers", 1))  # a failed attempt, retried: no final failure
    job_uuid = fail_now.dispatch("hopeless")
    run_due(job_uuid)  # a stray doorbell later tells nobody again
    assert failures_heard == [(fail_now.name, "this input can never work")]


def test_fail_ends_the_job_without_using_its_other_tries():
    job_uuid = fail_now.dispatch("hopeless")
    row = record(job_uuid)
    assert row.state == "failed" and row.attempts == 1
    assert FailedJob.get().exception_class == "Fail"


def test_a_release_is_an_attempt_but_not_an_exception():
    job_uuid = release_once.dispatch("later", 5)
    row = record(job_uuid)
    assert (row.state, row.attempts, row.exceptions) == ("pending", 1, 0)
    assert 4 < (row.available_at - utcnow()).total_seconds() <= 5
    run_due(job_uuid)
    assert record(job_uuid).state == "completed" and effect_done("later")


def test_max_exceptions_fails_a_job_before_its_tries_run_out():
    job_uuid = max_exceptions_probe.dispatch()
    row = record(job_uuid)
    assert row.state == "failed"
    assert (row.attempts, row.exceptions) == (3, 2)  # the release did not count


def test_retry_until_overrides_tries():
    job_uuid = deadline_probe.dispatch()
    row = record(job_uuid)
    assert row.state == "pending" and row.attempts == 1  # tries=1 would have failed it
    JobRecord.update(retry_until=utcnow() - datetime.timedelta(seconds=1)).where(
        JobRecord.uuid == job_uuid).execute()
    run_due(job_uuid)
    assert record(job_uuid).state == "failed"
    # The store keeps the error the job raised, and says why no attempt followed.
    failed = FailedJob.get()
    assert failed.exception_class == "RuntimeError" and failed.message == "not yet"
    assert "retry_until" in failed.traceback


def test_delay_accepts_seconds_timedelta_and_datetime():
    now = utcnow()
    for when, expected in ((90, 90), (datetime.timedelta(minutes=5), 300),
                           (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1), 3600)):
        row = record(make_effect.s("later").delay(when).dispatch())
        assert abs((row.available_at - now).total_seconds() - expected) < 5
        assert row.state == "pending"
    assert not effect_done("later")
    assert len(huey.scheduled()) == 3


def test_a_unique_job_is_dispatched_once_while_the_first_is_queued():
    first = unique_probe.s(7).delay(60).dispatch()
    assert first is not None
    assert unique_probe.dispatch(7) is None  # dropped: the same key is queued
    assert unique_probe.dispatch(8) is not None
    run_due(first)
    assert unique_probe.dispatch(7) is not None  # the first one finished: the lock is gone
    assert runs("unique:7") == 2


def test_encrypted_arguments_are_never_stored_in_clear():
    job_uuid = secret_effect.s("card", "4242-4242-4242-4242").delay(60).dispatch()
    row = record(job_uuid)
    assert row.encrypted and "4242" not in row.payload
    (message,) = huey.scheduled()
    assert message.args == (job_uuid,)  # the queue carries only the record's id
    run_due(job_uuid)
    assert effect_done("card:19")


def test_an_encrypted_job_that_fails_keeps_its_payload_hidden():
    from job_runtime import failed as failed_jobs

    secret_failure_probe.dispatch("4242-4242-4242-4242")
    failed = FailedJob.get()
    assert "4242" not in failed.payload
    assert failed_jobs.describe(failed)["payload"] == "(encrypted)"


def test_a_payload_from_another_secret_fails_clearly(runtime):
    job_uuid = secret_effect.s("k", "s3cret").delay(60).dispatch()
    runtime.reload(secret="another-secret-that-is-long-enough")
    run_due(job_uuid)
    assert "cannot be decrypted" in FailedJob.get().message


def test_encrypted_jobs_without_a_cipher_are_refused(runtime):
    job_runtime.setup(runtime.database, runtime.settings)
    with pytest.raises(RuntimeError, match="need a cipher"):
        secret_effect.dispatch("k", "s3cret")


def test_a_duplicate_doorbell_does_not_run_a_job_twice():
    job_uuid = make_effect.dispatch("once")
    job_runner.execute(job_uuid)
    doorbells.ring(job_uuid, make_effect.name, "default")
    assert runs("once") == 1


def test_a_periodic_job_is_dispatched_by_huey_scheduler_once_per_slot():
    (periodic_task,) = [t for t in huey._registry.periodic_tasks
                        if t.name == f"periodic:{every_ten_minutes.name}"]
    assert periodic_task.validate_datetime(datetime.datetime(2026, 1, 1, 12, 10))
    assert not periodic_task.validate_datetime(datetime.datetime(2026, 1, 1, 12, 11))
    # Two consumers without -n would both enqueue it; the job is unique for the slot.
    huey.immediate = False
    try:
        periodic_task.execute()
        periodic_task.execute()
    finally:
        huey.immediate = True
    assert JobRecord.select().where(JobRecord.name == every_ten_minutes.name).count() == 1


def test_the_queue_refuses_work_until_the_runtime_is_set_up():
    from job_runtime.backends import NotSetUpStorage

    storage = NotSetUpStorage("jobs")
    with pytest.raises(RuntimeError, match="call job_runtime.setup"):
        storage.enqueue(b"doorbell")
