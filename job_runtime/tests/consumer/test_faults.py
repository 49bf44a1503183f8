"""Faults injected into real processes; each test ends with the books checked.

(The shop's purchase-pipeline faults, with their ledgers and emails, are in its
own tests, test_faults_purchases.py.)
"""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from job_runtime.models import FailedJob, JobRecord
from job_runtime.tests.conftest import ROOT, TEST_DATABASE, wait_for
from job_runtime.tests.sample_jobs import SampleEffect, SampleRun, make_effect, runs, slow_effect

pytestmark = [pytest.mark.consumer, pytest.mark.slow]


def books_balanced(keys):
    """Every job's effect exists exactly once, every record completed, nothing failed."""
    effects = {e.key for e in SampleEffect.select()}
    assert set(keys) <= effects
    assert SampleEffect.select().count() == len(effects)
    assert JobRecord.select().where(JobRecord.state != "completed").count() == 0
    assert FailedJob.select().count() == 0


def test_two_consumers_racing_for_the_same_jobs_run_each_once(consumer):
    consumer(workers=4, settings={"hostname": "host-a"})
    consumer(workers=4, settings={"hostname": "host-b"}, args=["-n"])
    keys = [f"race{i}" for i in range(400)]
    for key in keys:
        make_effect.dispatch(key)
    wait_for(lambda: SampleEffect.select().count() == len(keys), timeout=120, message="the burst")
    wait_for(lambda: JobRecord.select().where(JobRecord.state != "completed").count() == 0, timeout=30)
    books_balanced(keys)
    # Both consumers took part, and no job ran twice.
    hosts = {run.worker.split(":")[0] for run in SampleRun.select()}
    assert hosts == {"host-a", "host-b"}
    assert SampleRun.select().count() == len(keys)


@pytest.mark.skipif(TEST_DATABASE != "sqlite", reason="locks the SQLite database file")
def test_a_database_locked_past_the_first_attempt_loses_nothing(consumer, runtime):
    process = consumer(workers=2)
    keys = [f"locked{i}" for i in range(20)]
    for key in keys[:10]:
        # Due in two seconds: their doorbells ring while the database is locked.
        slow_effect.s(key, 0.2).delay(2).dispatch()
    blocker = sqlite3.connect(runtime.sqlite_path, timeout=30, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")  # no other writer until the commit
    time.sleep(20)  # longer than the 15 s busy timeout a worker waits before giving up
    blocker.execute("COMMIT")
    blocker.close()
    for key in keys[10:]:
        slow_effect.dispatch(key, 0.1)
    wait_for(lambda: SampleEffect.select().count() == len(keys), timeout=90, message="every job after the lock")
    wait_for(lambda: JobRecord.select().where(JobRecord.state != "completed").count() == 0, timeout=60)
    books_balanced(keys)
    assert max(runs(k) for k in keys) <= 2
    assert "database is locked" in process.output()  # the fault did happen


def _descendants(pid):
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            if parent == pid:
                found += [int(entry.name)] + _descendants(int(entry.name))
    return found


def _alive(pid):
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_a_child_process_leaves_quietly_when_its_caller_is_killed(tmp_path):
    """killable.call's child, mid-call when its consumer is SIGKILLed, ends without a traceback."""
    environ = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    log = tmp_path / "caller.log"
    with open(log, "wb") as out:
        caller = subprocess.Popen([sys.executable, "-c", "import time; from job_runtime import killable; killable.call(time.sleep, 2)"],
                                  cwd=ROOT, env=environ, stdout=out, stderr=subprocess.STDOUT)
        children = wait_for(lambda: len(_descendants(caller.pid)) >= 3 and _descendants(caller.pid),
                            message="the fork server and its child")
        caller.send_signal(signal.SIGKILL)
        caller.wait(10)
        wait_for(lambda: not any(_alive(pid) for pid in children), timeout=15, message="the children to exit")
    assert log.read_text() == ""
