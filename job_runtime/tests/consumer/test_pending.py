"""Jobs not started, by hand, against a real consumer: a cleared job's doorbell, when
it comes, runs nothing; a scheduled job run now is taken at once."""

import time

import pytest

from job_runtime import pending
from job_runtime.models import JobRecord
from job_runtime.tests.conftest import wait_for
from job_runtime.tests.sample_jobs import effect_done, make_effect, runs

pytestmark = pytest.mark.consumer


def test_cleared_jobs_never_run_when_their_doorbells_ring(consumer):
    process = consumer(workers=2)
    # Due in two seconds: their doorbells are in Huey's schedule when the queue is cleared.
    cleared = [make_effect.s(f"cleared-{i}").delay(2).dispatch() for i in range(3)]
    kept = make_effect.s("kept").on_queue("high").delay(2).dispatch()
    assert pending.clear("default") == 3
    wait_for(lambda: effect_done("kept"), message="the job of the other queue to run")
    time.sleep(2)  # the cleared doorbells have rung by now, on the same schedule
    assert [runs(f"cleared-{i}") for i in range(3)] == [0, 0, 0], process.output()
    assert {JobRecord.get(JobRecord.uuid == u).state for u in cleared} == {"cancelled"}
    assert JobRecord.get(JobRecord.uuid == kept).state in ("running", "completed")


def test_run_now_hands_a_scheduled_job_to_a_worker_at_once(consumer):
    consumer(workers=2)
    job_uuid = make_effect.s("an-hour-early").delay(3600).dispatch()
    assert pending.run_now(job_uuid)
    wait_for(lambda: effect_done("an-hour-early"), timeout=15, message="the job run now")
    wait_for(lambda: JobRecord.get(JobRecord.uuid == job_uuid).state == "completed")
    assert runs("an-hour-early") == 1
