"""deploy/supervisor, run by Debian's supervisord with Debian's own
supervisord.conf (its paths moved into the test's folder) including both
shipped files: the web app, the one consumer that dispatches periodic jobs, and
the two extra consumers with -n. They must start, serve, run jobs, and stop
gracefully: a job running when `supervisorctl stop all` is given completes.
"""

import getpass
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

import job_runtime
from shop import runtime
from job_runtime.models import JobRecord, WorkerRecord
from tests.conftest import free_port, handles_sighup, marks_its_tests, missing_service, wait_for
from tests.deploy_support import DEPLOY, Client, app_paths, localize, unit_settings, wait_for_http
from tests.sample_jobs import effect_done, make_effect, runs, slow_effect

DEBIAN_CONF = Path("/etc/supervisor/supervisord.conf")
PROGRAMS = {"marketplace-web", "marketplace-worker", "marketplace-worker-extra:marketplace-worker-extra_00",
            "marketplace-worker-extra:marketplace-worker-extra_01"}


def supervisor_environment(settings):
    """Supervisor's environment= syntax; % is its interpolation character."""
    return ",".join(f'{key}="{value}"'.replace("%", "%%") for key, value in settings.items()
                    if key not in ("PATH", "HOME"))


class Supervisor:
    def __init__(self, folder, settings):
        self.folder = folder
        (folder / "conf.d").mkdir()
        (folder / "log").mkdir()
        environment = supervisor_environment(settings)
        for shipped in sorted((DEPLOY / "supervisor").glob("*.conf")):
            programs = shipped.read_text().count("[program:")
            text = localize(app_paths(shipped.read_text()), [
                ("user=marketplace", f"user={getpass.getuser()}", programs),
                ("/var/log/supervisor", str(folder / "log"), programs),
                ('environment=PYTHONUNBUFFERED="1"', f'environment=PYTHONUNBUFFERED="1",{environment}', programs),
            ])
            (folder / "conf.d" / shipped.name).write_text(text)
        text = DEBIAN_CONF.read_text()
        for pattern, replacement in [
            (r"^file=/var/run/supervisor\.sock", f"file={folder / 'supervisor.sock'}"),
            (r"^logfile=\S+", f"logfile={folder / 'supervisord.log'}"),
            (r"^pidfile=\S+", f"pidfile={folder / 'supervisord.pid'}"),
            (r"^childlogdir=\S+", f"childlogdir={folder / 'log'}"),
            (r"^serverurl=unix://\S+", f"serverurl=unix://{folder / 'supervisor.sock'}"),
            (r"^files = /etc/supervisor/conf\.d/\*\.conf", f"files = {folder / 'conf.d'}/*.conf"),
        ]:
            text, count = re.subn(pattern, replacement, text, flags=re.M)
            assert count == 1, f"Debian's supervisord.conf has no line matching {pattern}"
        self.conf = folder / "supervisord.conf"
        self.conf.write_text(text)
        self.process = subprocess.Popen(["/usr/bin/supervisord", "--nodaemon", "-c", str(self.conf)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                                        env={"PATH": "/usr/bin:/bin", "HOME": str(folder)})

    def ctl(self, *args):
        return subprocess.run(["/usr/bin/supervisorctl", "-c", str(self.conf), *args],
                              capture_output=True, text=True, timeout=300)

    def states(self):
        out = self.ctl("status").stdout
        return dict(re.findall(r"^(\S+)\s+([A-Z]+)", out, re.M))

    def log(self, name):
        path = self.folder / "log" / name
        return path.read_text(errors="replace") if path.exists() else ""

    def shutdown(self):
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(60)


@pytest.fixture
@marks_its_tests("consumer")
def supervisor(app_env):
    if not Path("/usr/bin/supervisord").exists() or not DEBIAN_CONF.exists():
        missing_service("supervisor is not installed (make deps installs it)")
    started = []

    def start(settings):
        # A short folder: the control socket's path must fit a unix socket address.
        folder = Path(tempfile.mkdtemp(prefix="sv-"))
        started.append(Supervisor(folder, settings))
        return started[-1]

    yield start
    for server in started:
        server.shutdown()
        shutil.rmtree(server.folder, ignore_errors=True)


@pytest.mark.consumer
def test_supervisor_runs_web_and_consumers_and_stops_them_gracefully(app_env, supervisor):
    job_runtime.huey.immediate = False
    runtime.setup_job_runtime()
    port = free_port()
    server = supervisor(unit_settings(app_env, WEB_BIND=f"127.0.0.1:{port}"))

    wait_for(lambda: all(server.states().get(p) == "RUNNING" for p in PROGRAMS), timeout=60,
             message="every program to be RUNNING")
    wait_for_http(Client(port, None, tls=False))
    assert Client(port, None, tls=False).request("GET", "/healthz")[0] == 200
    # One consumer with four threads, and two more with -n: twelve workers in three processes.
    wait_for(lambda: WorkerRecord.select().where(WorkerRecord.stopped_at.is_null()).count() == 12,
             message="twelve workers")
    consumers = {w.consumer_pid for w in WorkerRecord.select()}
    assert len(consumers) == 3
    wait_for(lambda: all(handles_sighup(pid) for pid in consumers), message="the consumers' signal handlers")
    assert "Periodic tasks are enabled." in server.log("marketplace-worker.log")
    for extra in ("marketplace-worker-extra_00.log", "marketplace-worker-extra_01.log"):
        assert "Periodic tasks are disabled." in server.log(extra)

    keys = [f"sv-{i}" for i in range(8)]
    for key in keys:
        make_effect.dispatch(key)
    wait_for(lambda: all(effect_done(k) for k in keys), message="the jobs to run")

    slow_effect.dispatch("through-the-stop", 3)
    wait_for(lambda: runs("through-the-stop") == 1, message="the slow job to start")
    stop = server.ctl("stop", "all")
    assert stop.returncode == 0, stop.stdout + stop.stderr
    assert set(server.states().values()) == {"STOPPED"}
    # The running job finished before its consumer stopped, in its one attempt.
    assert effect_done("through-the-stop") and runs("through-the-stop") == 1
    assert JobRecord.get(JobRecord.name == "slow_effect").state == "completed"
    assert WorkerRecord.select().where(WorkerRecord.stopped_at.is_null()).count() == 0
    log = (server.folder / "supervisord.log").read_text()
    for program in ("marketplace-web", "marketplace-worker", "marketplace-worker-extra_00",
                    "marketplace-worker-extra_01"):
        assert f"stopped: {program} (exit status 0)" in log, log[-3000:]
