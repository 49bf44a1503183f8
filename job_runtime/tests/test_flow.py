"""Chains and batches (immediate mode; consumer/test_guarantees.py runs them on real consumers)."""

from job_runtime import batch, chain
from job_runtime import runner  # internal: runs one attempt, as a worker does
from job_runtime.flow import cancel, chain_progress, describe_batch, find_batch
from job_runtime.models import FailedJob, JobRecord
from job_runtime.tests.sample_jobs import SampleRun, batch_callback, effect_done, failing_step, runs, step


def test_a_chain_runs_its_steps_in_order():
    chain_id = chain([step.s("first"), step.s("second"), step.s("third")]).dispatch()
    records = chain_progress(chain_id)
    assert [(r.chain_step, r.chain_total, r.state) for r in records] == [
        (1, 3, "completed"), (2, 3, "completed"), (3, 3, "completed")]
    order = [run.key for run in SampleRun.select().order_by(SampleRun.id)]
    assert order == ["first", "second", "third"]


def test_a_failed_step_stops_the_chain_and_says_which_step_it_was():
    chain_id = chain([step.s("a"), failing_step.s("b"), step.s("c")]).dispatch()
    assert effect_done("a") and not effect_done("c")
    assert [r.chain_step for r in chain_progress(chain_id)] == [1, 2]
    failed = FailedJob.get()
    assert (failed.name, failed.chain_id, failed.chain_step, failed.chain_total) == (failing_step.name, chain_id, 2, 3)
    assert runs("c") == 0


def test_batch_callbacks_run_once_when_every_job_succeeded():
    batch_id = (batch([step.s(f"item{i}") for i in range(5)], name="five items")
                .then(batch_callback.s("then")).catch(batch_callback.s("catch"))
                .finally_(batch_callback.s("finally")).dispatch())
    found = find_batch(batch_id)
    assert (found.total_jobs, found.pending_jobs, found.failed_jobs) == (5, 0, 0)
    assert found.finished_at is not None
    assert runs(f"then:{batch_id}") == 1 and runs(f"finally:{batch_id}") == 1
    assert runs(f"catch:{batch_id}") == 0
    assert describe_batch(found)["progress"] == 100 and describe_batch(found)["state"] == "completed"


def test_a_failure_catches_cancels_the_rest_and_still_finishes():
    batch_id = (batch([step.s("x1"), failing_step.s("x2"), step.s("x3")], name="with a failure")
                .then(batch_callback.s("then")).catch(batch_callback.s("catch"))
                .finally_(batch_callback.s("finally")).dispatch())
    found = find_batch(batch_id)
    assert found.failed_jobs == 1 and found.pending_jobs == 0
    assert found.cancelled_at is not None  # without allow_failures, the first failure cancels
    assert effect_done("x1") and not effect_done("x3")  # x3 was skipped: its batch was cancelled
    skipped = JobRecord.get(JobRecord.payload.contains("x3"))
    assert skipped.state == "cancelled"
    assert runs(f"catch:{batch_id}") == 1 and runs(f"finally:{batch_id}") == 1
    assert runs(f"then:{batch_id}") == 0
    assert describe_batch(found)["failed_job_ids"] == [FailedJob.get().uuid]


def test_allow_failures_lets_the_other_jobs_run():
    batch_id = (batch([failing_step.s("y1"), step.s("y2")], allow_failures=True)
                .then(batch_callback.s("then")).finally_(batch_callback.s("finally")).dispatch())
    found = find_batch(batch_id)
    assert found.cancelled_at is None and effect_done("y2")
    assert (found.pending_jobs, found.failed_jobs) == (0, 1)
    assert runs(f"then:{batch_id}") == 0 and runs(f"finally:{batch_id}") == 1


def test_jobs_of_a_cancelled_batch_are_skipped():
    pending = [step.s(f"z{i}").delay(60) for i in range(3)]
    batch_id = batch(pending).finally_(batch_callback.s("finally")).dispatch()
    assert cancel(batch_id)
    for record in JobRecord.select().where(JobRecord.batch_id == batch_id):
        JobRecord.update(available_at=record.created_at).where(JobRecord.id == record.id).execute()
        runner.execute(record.uuid)
    found = find_batch(batch_id)
    assert found.pending_jobs == 0 and found.finished_at is not None
    assert describe_batch(found)["state"] == "cancelled"
    assert SampleRun.select().where(SampleRun.job == "step").count() == 0
    assert runs(f"finally:{batch_id}") == 1


def test_an_empty_batch_finishes_at_once():
    batch_id = batch([]).then(batch_callback.s("then")).dispatch()
    assert find_batch(batch_id).finished_at is not None
    assert runs(f"then:{batch_id}") == 1
