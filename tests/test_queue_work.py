"""`marketplace queue work` and `queue status` against real consumers: the shop's
commands around the runtime's consumer. (The runtime's guarantees on real
consumers are tested in job_runtime/tests/consumer/.)"""

import pytest

from shop import runtime
from tests.sample_jobs import effect_done, make_effect, slow_effect

pytestmark = pytest.mark.consumer


def test_queue_work_takes_only_its_queues_and_stops_when_empty(app_env, tmp_path):
    import subprocess

    from job_runtime import jobs
    from tests.conftest import cli_process

    jobs.huey.immediate = False
    runtime.setup_job_runtime()
    make_effect.s("for-high").on_queue("high").dispatch()
    make_effect.s("for-low").on_queue("low").dispatch()
    log = tmp_path / "work.log"
    with open(log, "wb") as out:
        process = cli_process(app_env, "queue", "work", "--queue", "high", "--stop-when-empty", "-w", "2",
                              stdout=out, stderr=subprocess.STDOUT)
        assert process.wait(60) == 0, log.read_text()
    assert effect_done("for-high") and not effect_done("for-low")
    assert "Stopping: its queues are empty." in log.read_text()


def test_queue_work_once_runs_one_job(app_env, tmp_path):
    import subprocess

    from job_runtime import jobs
    from tests.conftest import cli_process

    jobs.huey.immediate = False
    runtime.setup_job_runtime()
    make_effect.dispatch("first")
    make_effect.dispatch("second")
    process = cli_process(app_env, "queue", "work", "--once", "-w", "1",
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out, _ = process.communicate(timeout=60)
    assert process.returncode == 0, out.decode()
    assert [effect_done("first"), effect_done("second")].count(True) == 1


def test_status_shows_live_workers(consumer, capsys):
    import json

    from shop import cli

    process = consumer(workers=2)
    capsys.readouterr()
    cli.main(["queue", "status", "--json"])
    report = json.loads(capsys.readouterr().out)
    mine = [w for w in report["workers"] if w["pid"] == process.pid]
    assert len(mine) == 2 and all(w["rss_mb"] > 10 for w in mine)


def test_queue_work_tries_and_timeout_are_defaults_for_jobs_that_name_none(app_env, tmp_path):
    import subprocess

    from job_runtime import jobs
    from job_runtime.models import FailedJob
    from tests.conftest import cli_process
    from tests.sample_jobs import runs, undeclared_fail

    jobs.huey.immediate = False
    runtime.setup_job_runtime()
    undeclared_fail.dispatch("thrice")
    undeclared_fail.dispatch("slow", 3)  # each attempt holds its record until its sleep returns
    make_effect.dispatch("own-tries")  # declares tries=3 and no failure: runs once
    log = tmp_path / "work.log"
    with open(log, "wb") as out:
        process = cli_process(app_env, "queue", "work", "--tries", "3", "--timeout", "1", "--stop-when-empty",
                              "-w", "2", "-n", stdout=out, stderr=subprocess.STDOUT)
        assert process.wait(90) == 0, log.read_text()
    assert runs("thrice") == 3 and runs("slow") == 3, log.read_text()
    assert FailedJob.get(FailedJob.message == "thrice cannot succeed").attempts == 3
    assert FailedJob.get(FailedJob.exception_class == "JobTimeout").attempts == 3
    assert effect_done("own-tries") and runs("own-tries") == 1


def test_queue_work_max_jobs_is_exact_across_worker_threads(app_env, tmp_path):
    import subprocess

    from job_runtime import jobs
    from job_runtime.models import JobRecord
    from tests.conftest import cli_process

    jobs.huey.immediate = False
    runtime.setup_job_runtime()
    keys = [f"capped{i}" for i in range(8)]
    # Slow enough that all four workers are idle and take a message at once.
    uuids = [slow_effect.dispatch(key, 0.5) for key in keys]
    process = cli_process(app_env, "queue", "work", "--max-jobs", "2", "-w", "4", "-n",
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = process.communicate(timeout=60)[0].decode()
    assert process.returncode == 0, out
    assert [effect_done(key) for key in keys].count(True) == 2, out
    assert JobRecord.select().where(JobRecord.state == "completed").count() == 2
    # Each job outcome, and each of Huey's own lines, is logged once.
    done = [job_uuid for job_uuid in uuids if f"({job_uuid}) completed" in out]
    assert len(done) == 2 and all(out.count(f"({job_uuid}) completed") == 1 for job_uuid in done), out
    assert out.count("Huey consumer started") == 1, out


@pytest.mark.parametrize("command", [["queue", "batches"], ["queue", "failed"], ["queue", "status"]])
def test_a_listing_ends_quietly_when_its_reader_goes_away(app_env, command):
    """`marketplace queue batches | head`: the reader has closed the pipe before the listing is written."""
    import os
    import subprocess

    from tests.conftest import cli_process

    read_end, write_end = os.pipe()
    os.close(read_end)
    process = cli_process(app_env, *command, stdout=write_end, stderr=subprocess.PIPE)
    os.close(write_end)
    errors = process.communicate(timeout=60)[1].decode()
    assert errors == ""
    assert process.returncode == 1


def test_the_shops_consumer_logs_each_job_outcome_once(consumer):
    """`huey_consumer tasks.huey`: one line per outcome, at INFO, however logging was set up."""
    from job_runtime.models import JobRecord
    from tests.conftest import wait_for

    process = consumer(workers=2)
    job_uuid = make_effect.dispatch("logged-once")
    wait_for(lambda: effect_done("logged-once"), message="the job")
    wait_for(lambda: f"({job_uuid}) completed" in process.output(), timeout=10, message="its log line")
    assert process.output().count(f"({job_uuid}) completed") == 1
    assert JobRecord.get(JobRecord.uuid == job_uuid).name == make_effect.name
