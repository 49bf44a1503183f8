"""Jobs by hand and by search: clearing a queue, deleting or running a scheduled job,
tags from the arguments, the search by name, tag or argument, and the defaults of a
consumer's --tries and --timeout."""

import dataclasses

import pytest

import job_runtime
from job_runtime import jobs, pending, registry, retention
from job_runtime import runner as job_runner  # internal: runs one attempt, as a worker does
from job_runtime.flow import batch
from job_runtime.models import Batch, JobRecord, JobTag, utcnow
from job_runtime.monitoring import search
from job_runtime.tests.sample_jobs import effect_done, make_effect, secret_effect

tagged = job_runtime.job(name="probe_tagged", tries=2,
                         tags=lambda order_id, seller_id=None: [f"order:{order_id}", f"seller:{seller_id}"
                                                                if seller_id else None])(lambda order_id, seller_id=None: None)
broken_tags = job_runtime.job(name="probe_broken_tags", tags=lambda: [1 / 0])(lambda: None)
undeclared = job_runtime.job(name="probe_no_options")(lambda: None)
declared = job_runtime.job(name="probe_own_options", tries=2, timeout=5)(lambda: None)


def record(job_uuid):
    return JobRecord.get(JobRecord.uuid == job_uuid)


def later(pending_job, seconds=3600):
    return pending_job.delay(seconds).dispatch()


def test_clear_drops_pending_jobs_of_a_queue_and_their_doorbells_do_nothing():
    waiting = [later(make_effect.s(f"clear-{i}")) for i in range(3)]
    elsewhere = later(make_effect.s("clear-high").on_queue("high"))
    assert pending.pending_count("default") == 3
    assert pending.clear("default") == 3
    for job_uuid in waiting:
        row = record(job_uuid)
        assert row.state == "cancelled" and row.finished_at and row.last_error == pending.CLEARED
        # The doorbell comes anyway, when its time is up: nothing runs.
        JobRecord.update(available_at=utcnow()).where(JobRecord.uuid == job_uuid).execute()
        job_runner.execute(job_uuid)
        assert record(job_uuid).state == "cancelled"
    assert not any(effect_done(f"clear-{i}") for i in range(3))
    assert record(elsewhere).state == "pending"
    assert pending.clear() == 1 and record(elsewhere).state == "cancelled"


def test_a_cleared_batch_job_lets_its_batch_finish():
    batch_id = batch([make_effect.s("in-batch").delay(3600)], name="cleared").dispatch()
    assert pending.clear("default") == 1
    found = Batch.get_by_id(batch_id)
    assert found.pending_jobs == 0 and found.finished_at is not None


def test_delete_and_run_now_act_on_one_scheduled_job():
    kept, dropped = later(make_effect.s("run-now")), later(make_effect.s("deleted"))
    assert pending.delete(dropped) and record(dropped).state == "cancelled"
    assert not pending.delete(dropped)
    assert pending.run_now(kept)  # immediate mode: the doorbell runs it at once
    assert record(kept).state == "completed" and effect_done("run-now")
    assert not pending.run_now(kept) and not effect_done("deleted")


def test_tags_come_from_the_arguments_and_are_searched_through_their_index():
    first = later(tagged.s(41, seller_id=7))
    second = later(tagged.s(42))
    assert record(first).tags == ["order:41", "seller:7"] and record(second).tags == ["order:42"]
    assert {row.tag for row in JobTag.select()} == {"order:41", "seller:7", "order:42"}
    assert [r["uuid"] for r in search.search(tag="order:42")] == [second]
    assert [r["uuid"] for r in search.search(tag="seller:7")] == [first]
    assert [r["uuid"] for r in search.search(name="probe_tagged")] == [second, first]
    assert search.search(tag="order:41", name="sample_make_effect") == []
    assert search.search(tag="order:41")[0]["tags"] == ["order:41", "seller:7"]


def test_a_tag_function_that_raises_leaves_the_job_untagged_but_dispatched():
    job_uuid = later(broken_tags.s())
    assert record(job_uuid).tags is None


def test_an_encrypted_job_has_no_tags_and_its_arguments_are_never_searched():
    with pytest.raises(ValueError, match="encrypted job cannot have tags"):
        job_runtime.job(name="probe_secret_tags", encrypted=True, tags=["x"])(lambda: None)
    secret = later(secret_effect.s("card-4242"))
    plain = later(make_effect.s("card-4242"))
    assert [r["uuid"] for r in search.search(argument="card-4242")] == [plain]
    assert [r["uuid"] for r in search.search(argument="card-4242", name=secret_effect.name)] == []
    assert [r["uuid"] for r in search.search(name=secret_effect.name)] == [secret]
    assert search.search(argument="%") == [] and search.search() == []


def test_pruning_takes_the_tags_with_their_records():
    job_uuid = later(tagged.s(43))
    JobRecord.update(state="completed", finished_at=utcnow().replace(year=2000)).where(
        JobRecord.uuid == job_uuid).execute()
    retention.prune()
    assert JobTag.select().count() == 0


def test_consumer_defaults_apply_only_to_jobs_that_name_no_tries_or_timeout():
    saved = {job_: (job_.policy, job_.timeout) for job_ in registry.JOBS.values()}
    try:
        assert (undeclared.policy.tries, undeclared.timeout) == (jobs.DEFAULT_TRIES, jobs.DEFAULT_TIMEOUT)
        jobs.apply_defaults(tries=4, timeout=7)
        assert (undeclared.policy.tries, undeclared.timeout) == (4, 7)
        assert (declared.policy.tries, declared.timeout) == (2, 5)
        assert dataclasses.replace(undeclared.policy, tries=1) == saved[undeclared][0]
    finally:
        for job_, (policy, timeout) in saved.items():
            job_.policy, job_.timeout = policy, timeout
