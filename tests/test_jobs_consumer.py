"""Guarantees of the job runtime, proven with real huey_consumer processes."""

import pytest

from job_models import FailedJob, JobRecord, WorkerRecord
from tests.conftest import wait_for
from tests.sample_jobs import SampleRun, always_fail, effect_done, make_effect, runs, slow_effect

pytestmark = pytest.mark.consumer


def test_consumer_runs_a_dispatched_job(consumer):
    consumer(workers=2)
    make_effect.dispatch("hello")
    wait_for(lambda: effect_done("hello"), message="the job to run")
    record = JobRecord.get()
    wait_for(lambda: JobRecord.get_by_id(record.id).state == "completed")
    record = JobRecord.get_by_id(record.id)
    assert record.attempts == 1 and record.duration is not None
    assert runs("hello") == 1


def test_sigkill_mid_job_loses_nothing(consumer):
    first = consumer(workers=2)
    keys = [f"k{i}" for i in range(4)]
    for key in keys:
        slow_effect.dispatch(key, 3)
    wait_for(lambda: SampleRun.select().count() >= 2, message="jobs to start")
    first.kill()
    assert not all(effect_done(k) for k in keys)
    consumer(workers=2)
    wait_for(lambda: all(effect_done(k) for k in keys), timeout=60, message="every job to complete")
    wait_for(lambda: JobRecord.select().where(JobRecord.state == "completed").count() == len(keys))
    assert FailedJob.select().count() == 0


def test_failed_job_lands_in_the_store_and_runs_its_hook(consumer):
    consumer(workers=1)
    always_fail.dispatch("doomed")
    wait_for(lambda: FailedJob.select().exists(), timeout=30, message="the failure")
    failed = FailedJob.get()
    assert failed.name == "always_fail" and failed.attempts == 2
    assert failed.exception_class == "ValueError" and "doomed cannot succeed" in failed.message
    assert "Traceback" in failed.traceback
    wait_for(lambda: effect_done("failed-hook:doomed:ValueError"), message="the failed() hook")
    assert runs("doomed") == 2


def test_workers_report_heartbeats(consumer):
    process = consumer(workers=3)
    wait_for(lambda: WorkerRecord.select().where(WorkerRecord.consumer_pid == process.pid).count() == 3)
    worker = WorkerRecord.select().first()
    assert worker.rss_bytes > 10 * 1024 * 1024
