"""Guarantees of the job runtime, proven with real huey_consumer processes."""

import time

import pytest

import job_runtime
from job_runtime import control
from job_runtime.models import FailedJob, JobRecord, WorkerRecord
from job_runtime.tests.conftest import need_redis, wait_for
from job_runtime.tests.sample_jobs import (
    SampleRun,
    SampleSpan,
    always_fail,
    batch_callback,
    block,
    effect_done,
    exclusive,
    limited,
    make_effect,
    runs,
    slow_effect,
    spin,
    step,
)

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
    assert failed.name == always_fail.name and failed.attempts == 2
    assert failed.exception_class == "ValueError" and "doomed cannot succeed" in failed.message
    assert "Traceback" in failed.traceback
    wait_for(lambda: effect_done("failed-hook:doomed:ValueError"), message="the failed() hook")
    assert runs("doomed") == 2


def test_workers_report_heartbeats(consumer):
    process = consumer(workers=3)
    wait_for(lambda: WorkerRecord.select().where(WorkerRecord.consumer_pid == process.pid).count() == 3)
    worker = WorkerRecord.select().first()
    assert worker.rss_bytes > 10 * 1024 * 1024


# ---------------------------------------------------------------------------
# Timeouts hold under thread workers (and process workers)
# ---------------------------------------------------------------------------


def _state(job_uuid):
    return JobRecord.get(JobRecord.uuid == job_uuid).state


@pytest.mark.parametrize("worker_type", ["thread", "process"])
def test_a_busy_job_past_its_timeout_is_stopped_and_retried(consumer, worker_type):
    consumer(workers=1, args=["-k", worker_type])
    job_uuid = spin.dispatch("spinner", 60)
    wait_for(lambda: FailedJob.select().exists(), timeout=30, message="the timeouts to fail the job")
    failed = FailedJob.get()
    assert failed.exception_class == "JobTimeout" and failed.attempts == 2
    assert runs("spinner") == 2 and not effect_done("spinner")
    # The worker slot is free again: the next job runs on the same single worker.
    make_effect.dispatch("after-spin")
    wait_for(lambda: effect_done("after-spin"), timeout=15, message="the next job")
    assert _state(job_uuid) == "failed"


@pytest.mark.parametrize("worker_type", ["thread", "process"])
def test_a_job_blocked_in_c_code_is_given_up_and_its_slot_replaced(consumer, worker_type):
    process = consumer(workers=1, args=["-k", worker_type, "-c", "1"])
    # A stuck thread holds its job until the call returns (see test_promises.py);
    # a stuck worker process is ended, however long the call would have taken.
    block.dispatch("blocked", 4 if worker_type == "thread" else 300)
    wait_for(lambda: FailedJob.select().exists(), timeout=40, message="the job to be given up twice")
    failed = FailedJob.get()
    assert failed.exception_class == "JobTimeout" and "did not stop" in failed.message
    assert runs("blocked") == 2
    make_effect.dispatch("after-block")
    wait_for(lambda: effect_done("after-block"), timeout=20, message="a fresh worker to take the next job")
    assert process.process.poll() is None


# ---------------------------------------------------------------------------
# Nothing lost
# ---------------------------------------------------------------------------


def test_flushing_redis_mid_load_loses_nothing(runtime, consumer):
    need_redis()
    runtime.reload(queue_connection="redis")
    consumer(workers=2)
    keys = [f"r{i}" for i in range(20)]
    for key in keys:
        slow_effect.dispatch(key, 0.3)
    wait_for(lambda: SampleRun.select().count() >= 3, message="the burst to start")
    job_runtime.huey.storage.flush_queue()  # what a Redis restart without persistence does to the queue
    job_runtime.huey.storage.flush_schedule()
    assert not all(effect_done(k) for k in keys)
    wait_for(lambda: all(effect_done(k) for k in keys), timeout=60, message="every job after the flush")
    wait_for(lambda: JobRecord.select().where(JobRecord.state == "completed").count() == len(keys))
    assert max(runs(k) for k in keys) <= 2  # at most the one interrupted... run again
    assert FailedJob.select().count() == 0


def test_a_chain_survives_a_killed_consumer(consumer):
    from job_runtime.flow import chain_progress

    first = consumer(workers=1)
    chain_id = job_runtime.chain([slow_effect.s("c1", 2), step.s("c2"), step.s("c3")]).dispatch()
    wait_for(lambda: runs("c1") == 1, message="the first step to start")
    first.kill()
    consumer(workers=1)
    wait_for(lambda: effect_done("c3"), timeout=60, message="the chain to finish")
    # The last step's completion is written by the consumer's batch writer a moment later.
    wait_for(lambda: [r.state for r in chain_progress(chain_id)] == ["completed"] * 3,
             message="every step recorded completed")
    assert runs("c2") == 1 and runs("c3") == 1


def test_batch_callbacks_run_exactly_once_with_parallel_workers(consumer):
    from job_runtime.flow import find_batch

    consumer(workers=4)
    batch_id = (job_runtime.batch([step.s(f"p{i}") for i in range(40)], name="parallel")
                .then(batch_callback.s("then")).finally_(batch_callback.s("finally")).dispatch())
    wait_for(lambda: effect_done(f"finally:{batch_id}"), timeout=60, message="the batch to finish")
    wait_for(lambda: effect_done(f"then:{batch_id}"))
    assert runs(f"then:{batch_id}") == 1 and runs(f"finally:{batch_id}") == 1
    assert find_batch(batch_id).pending_jobs == 0


# ---------------------------------------------------------------------------
# Middleware across workers
# ---------------------------------------------------------------------------


def test_without_overlapping_holds_across_workers(consumer):
    consumer(workers=4)
    for i in range(4):
        exclusive.dispatch(f"x{i}", 0.4)
    wait_for(lambda: SampleSpan.select().count() == 4, timeout=30, message="all four attempts")
    spans = sorted((s.started, s.finished) for s in SampleSpan.select())
    for (_, end), (start, _) in zip(spans, spans[1:]):
        assert start >= end, "two attempts held the same lock at once"


def test_rate_limit_holds_across_workers(consumer):
    consumer(workers=4)
    for i in range(6):
        limited.dispatch(f"l{i}")
    wait_for(lambda: SampleSpan.select().count() == 6, timeout=30, message="every limited job")
    windows = {}
    for span in SampleSpan.select():
        windows[int(span.started // 2)] = windows.get(int(span.started // 2), 0) + 1
    assert max(windows.values()) <= 2 and len(windows) >= 3


# ---------------------------------------------------------------------------
# Worker control
# ---------------------------------------------------------------------------


def _consumer_starts(process):
    return process.output().count("Huey consumer started")


def test_a_restart_request_reaches_a_running_consumer(consumer):
    process = consumer(workers=2)
    slow_effect.dispatch("during-restart", 1.5)
    wait_for(lambda: runs("during-restart") == 1, message="the job to start")
    control.request_restart()
    wait_for(lambda: _consumer_starts(process) == 2, timeout=30, message="the consumer to restart itself")
    assert "Restarting: a restart was requested" in process.output()
    # The running job was allowed to finish first, and was not run twice.
    assert effect_done("during-restart") and runs("during-restart") == 1
    make_effect.dispatch("after-restart")
    wait_for(lambda: effect_done("after-restart"), timeout=20, message="work after the restart")


def test_pause_and_resume_reach_running_consumers(consumer):
    from job_runtime import sweeper  # internal: ring_missing

    consumer(workers=2)
    control.pause("low")
    time.sleep(control.CACHE_SECONDS + 0.2)  # workers see a pause within a second
    make_effect.s("low-job").on_queue("low").dispatch()
    make_effect.dispatch("default-job")
    wait_for(lambda: effect_done("default-job"), message="the default queue to keep running")
    time.sleep(1.5)
    assert not effect_done("low-job")
    control.resume("low")
    sweeper.ring_missing("low")  # what resuming a queue does: its held jobs are rung again
    wait_for(lambda: effect_done("low-job"), timeout=20, message="the paused job after the resume")
    assert runs("low-job") == 1


def test_a_consumer_over_its_memory_cap_restarts_itself(consumer):
    process = consumer(workers=1, settings={"worker_memory_mb": 1})
    wait_for(lambda: "uses more than 1 MB" in process.output(), timeout=20, message="the memory cap")
    wait_for(lambda: _consumer_starts(process) >= 2, timeout=20, message="the restart")


def test_a_consumer_restarts_after_its_maximum_lifetime(consumer):
    process = consumer(workers=1, settings={"worker_max_seconds": 2})
    wait_for(lambda: "it has run for 2s" in process.output(), timeout=20, message="the lifetime cap")
    wait_for(lambda: _consumer_starts(process) >= 2, timeout=20, message="the restart")
    make_effect.dispatch("after-lifetime")
    wait_for(lambda: effect_done("after-lifetime"), timeout=20)
