"""Several consumer hosts: one PostgreSQL database, one queue (Redis or
PostgreSQL), consumers on more than one machine, as DEPLOY.md sets them up.

Two consumer processes play two hosts: each has its own QUEUE_HOSTNAME and
its own data folder, and host-b runs with -n as every host but one does. They
share only what real hosts share: the database and the queue. Whatever the
suite's own backends, these tests use PostgreSQL and the named queue.
"""

import datetime
import subprocess
import time

import pytest

import job_runtime
import models
from job_runtime import control
from job_runtime.models import JobRecord, WorkerRecord
from tests.conftest import BIN, ROOT, _postgres_url, create_schema, handles_sighup, need_postgres, need_redis, wait_for
from tests.sample_jobs import PERIODIC_SWITCH, SampleRun, effect_done, make_effect, runs, slow_effect

pytestmark = [pytest.mark.consumer, pytest.mark.postgres]


@pytest.fixture(params=["redis", "postgres"])
def host(request, app_env, consumer, tmp_path):
    """host(name, periodic) starts a consumer that acts as the machine `name`."""
    need_postgres()
    if request.param == "redis":
        need_redis()
    url = _postgres_url()
    models.init_db(url)
    create_schema()
    names = ", ".join(f'"{m._meta.table_name}"' for m in models.all_models())
    models.db.execute_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    app_env.reload(DATABASE_URL=url, QUEUE_CONNECTION=request.param)

    def start(name, periodic):
        process = consumer(workers=2, periodic=periodic,
                           env={"QUEUE_HOSTNAME": name, "DATA_DIR": tmp_path / name})
        process.host = name
        wait_for(lambda: live_workers(process) == 2, message=f"{name}'s two workers")
        return process

    yield start
    if request.param == "redis":
        job_runtime.huey.storage.flush_all()


def live_workers(process, since=None):
    query = WorkerRecord.select().where((WorkerRecord.consumer_pid == process.pid)
                                        & (WorkerRecord.host == process.host)
                                        & WorkerRecord.stopped_at.is_null())
    if since is not None:
        query = query.where(WorkerRecord.started_at > since)
    return query.count()


def drained():
    """Nothing on the queue and no job waiting or running."""
    busy = JobRecord.select().where(JobRecord.state.in_(("pending", "running"))).exists()
    return job_runtime.huey.pending_count() == 0 and not busy


def test_periodic_jobs_run_once_when_all_hosts_but_one_use_n(host):
    control.set_flag(PERIODIC_SWITCH, "on")
    b = host("host-b", periodic=False)
    make_effect.dispatch("b-is-working")
    wait_for(lambda: effect_done("b-is-working") and drained(), message="host-b to run a job and go idle")
    # A scheduler dispatches periodic jobs as it starts; host-b's did not.
    assert runs("tick") == 0

    a_started = time.time()
    a = host("host-a", periodic=True)
    wait_for(lambda: runs("tick") == 1, message="the periodic job")
    make_effect.dispatch("after-the-tick")
    wait_for(lambda: effect_done("after-the-tick") and drained(), message="both hosts to go idle")
    # One run per minute: count those of host-a's first minute only.
    first_minute = SampleRun.select().where((SampleRun.key == "tick") & (SampleRun.started < a_started + 55))
    assert first_minute.count() == 1
    assert "Periodic tasks are enabled." in a.output() and "Periodic tasks are disabled." in b.output()


def test_queue_restart_reaches_every_host(host, app_env):
    a = host("host-a", periodic=True)
    b = host("host-b", periodic=False)
    requested = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    result = subprocess.run([str(BIN / "marketplace"), "queue", "restart"], cwd=ROOT, capture_output=True,
                            text=True, env=dict(app_env.environ, PYTHONPATH=str(ROOT)))
    assert result.returncode == 0, result.stderr
    # Each consumer finishes, then execs itself: the same pid, a new process, new workers.
    for process in (a, b):
        wait_for(lambda: live_workers(process, since=requested) == 2, message=f"{process.host} to restart")
        wait_for(lambda: handles_sighup(process.pid), message=f"{process.host}'s signal handlers")
        assert process.output().count("Huey consumer started") == 2
        assert "Consumer will restart." in process.output()
    keys = [f"after-restart-{i}" for i in range(6)]
    for key in keys:
        make_effect.dispatch(key)
    wait_for(lambda: all(effect_done(k) for k in keys), message="the restarted hosts to run jobs")


def test_a_job_killed_with_its_host_is_completed_by_the_other(host):
    a = host("host-a", periodic=True)
    b = host("host-b", periodic=False)
    slow_effect.dispatch("victim", 3)
    record = wait_for(lambda: JobRecord.get_or_none((JobRecord.name == "slow_effect")
                                                    & (JobRecord.state == "running")), message="the job to start")
    victim, survivor = (a, b) if record.reserved_by.startswith("host-a:") else (b, a)
    wait_for(lambda: runs("victim") == 1, message="the job's code to run")
    victim.kill()  # SIGKILL: no goodbye, the job's attempt is simply gone

    # The survivor's sweeper sees the victim's heartbeats stop (the host differs, so
    # it cannot look at the pid) and puts the job back; the survivor runs it.
    wait_for(lambda: effect_done("victim"), timeout=60, message="the job to be completed")
    wait_for(lambda: JobRecord.get_by_id(record.id).state == "completed", message="the record to say so")
    record = JobRecord.get_by_id(record.id)
    assert record.lost == 1 and runs("victim") == 2
    last = SampleRun.select().where(SampleRun.key == "victim").order_by(SampleRun.id.desc()).first()
    assert last.worker.startswith(f"{survivor.host}:")
