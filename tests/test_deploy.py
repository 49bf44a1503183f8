"""deploy/systemd and the settings file: checked by systemd's own tools, and the
units' commands run the way systemd runs them (ExecStart with the unit's
environment, ExecReload, KillSignal, TimeoutStopSec).

This machine (and CI) has no systemd running, so the units cannot be started
by systemd itself. What can be proven without it is proven here: the files
are valid (`systemd-analyze verify`), their sandbox rates well
(`systemd-analyze security --offline`), the programs they start work, react
to the signals the units send as the units expect, and, traced with strace,
make no system call, open no socket and write no file that the units'
hardening would refuse.
"""

import datetime
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from shop import config
import job_runtime
from shop import runtime
from job_runtime.models import JobRecord, WorkerRecord
from tests.conftest import BIN, ROOT, children, command_line, free_port, missing_service, wait_for
from tests.deploy_support import (
    DEPLOY,
    Client,
    UnitProcess,
    kill_tree,
    localized_units,
    read_unit,
    unit_settings,
    wait_for_http,
)
from tests.sample_jobs import crunch, effect_done, make_effect, runs, slow_effect

SYSTEMD = DEPLOY / "systemd"
SERVICES = ("marketplace-web.service", "marketplace-worker.service", "marketplace-worker@.service",
            "marketplace-backup.service")


def need_program(path):
    if not shutil.which(path):
        missing_service(f"{path} is not installed (make deps installs it)")


@pytest.fixture
def real_queue(app_env):
    """Jobs go onto the queue instead of running inside dispatch()."""
    job_runtime.huey.immediate = False
    runtime.setup_job_runtime()
    return app_env


@pytest.fixture
def units(app_env, tmp_path):
    return localized_units(app_env, tmp_path)


# ---------------------------------------------------------------------------
# systemd's own checks
# ---------------------------------------------------------------------------


def test_units_pass_systemd_analyze_verify(units):
    need_program("systemd-analyze")
    files = sorted(str(p) for p in units.iterdir()) + [str(units / "marketplace-worker@2.service")]
    result = subprocess.run(["systemd-analyze", "verify", "--man=no", *files], capture_output=True, text=True)
    complaints = [line for line in result.stderr.splitlines() if "marketplace" in line]
    assert result.returncode == 0 and not complaints, result.stderr


def test_verify_would_catch_a_broken_unit(units):
    need_program("systemd-analyze")
    broken = units / "marketplace-broken.service"
    broken.write_text((units / "marketplace-worker.service").read_text().replace("KillMode=mixed", "KillMode=gently"))
    result = subprocess.run(["systemd-analyze", "verify", "--man=no", str(broken)], capture_output=True, text=True)
    assert "Failed to parse kill mode" in result.stderr


@pytest.mark.parametrize("service", [s for s in SERVICES if "@" not in s])
def test_services_are_sandboxed(units, service):
    need_program("systemd-analyze")
    # Exposure 2.0 or lower is what systemd rates "OK" (the best band is "SAFE").
    result = subprocess.run(["systemd-analyze", "security", "--offline=yes", "--threshold=20",
                             str(units / service)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-2000:]


# ---------------------------------------------------------------------------
# The commands of the units
# ---------------------------------------------------------------------------


@pytest.mark.consumer
def test_web_unit_serves_reloads_on_new_workers_and_stops(app_env, units, tmp_path):
    port = free_port()
    web = UnitProcess(units / "marketplace-web.service",
                      unit_settings(app_env, WEB_BIND=f"127.0.0.1:{port}", APP_URL=f"http://127.0.0.1:{port}"),
                      tmp_path / "web.log")
    assert web.argv[0] == f"{BIN}/gunicorn" and "marketplace:app" in web.argv
    assert web.argv[web.argv.index("--bind") + 1] == f"127.0.0.1:{port}"
    # WEB_CONCURRENCY and WEB_THREADS were not in the settings: the unit's defaults apply.
    assert web.argv[web.argv.index("--workers") + 1] == "2" and web.argv[web.argv.index("--threads") + 1] == "4"
    client = Client(port, None, tls=False)
    try:
        wait_for_http(client)
        status, _, body = client.request("GET", "/healthz")
        assert status == 200 and b'"database"' in body
        wait_for(lambda: len(children(web.pid)) == 2, message="two gunicorn workers")
        before = children(web.pid)

        web.reload()  # ExecReload: SIGHUP, new workers load the code afresh
        wait_for(lambda: len(children(web.pid)) == 2 and not (children(web.pid) & before),
                 message="the workers to be replaced")
        wait_for(lambda: client.request("GET", "/healthz")[0] == 200, message="the new workers to answer")
    finally:
        code = web.stop()
    assert code == 0, web.output()[-3000:]
    assert "Handling signal: hup" in web.output() and "Shutting down: Master" in web.output()
    # APP_URL leads to this server, and the start-up check found so.
    assert "reaches this server" in web.output() and "APP_URL does not reach" not in web.output()


@pytest.mark.consumer
def test_worker_unit_runs_jobs_restarts_on_reload_and_stops_after_the_running_job(real_queue, units, tmp_path):
    unit = read_unit(units / "marketplace-worker.service")["Service"]
    # Longer than the longest job (180 s) plus the watchdog's grace.
    assert float(unit["TimeoutStopSec"][0]) > 180 + config.QUEUE_TIMEOUT_GRACE_SECONDS
    assert unit["KillSignal"] == ["SIGINT"] and unit["Restart"] == ["always"]

    worker = UnitProcess(units / "marketplace-worker.service", unit_settings(real_queue), tmp_path / "worker.log")
    assert worker.argv == [f"{BIN}/huey_consumer", "tasks.huey", "-w", "4"]
    try:
        wait_for(lambda: WorkerRecord.select().where(WorkerRecord.consumer_pid == worker.pid).count() == 4,
                 message="four worker threads")
        worker.wait_until_ready()
        make_effect.dispatch("by-the-unit")
        crunch.dispatch("crunched", 1000)  # killable.call: a child process under the unit
        wait_for(lambda: effect_done("by-the-unit") and effect_done("crunched:332833500"),
                 message="the jobs to run")
        assert "Periodic tasks are enabled." in worker.output()

        reloaded_at = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
        worker.reload()  # ExecReload: SIGHUP, the consumer restarts in place
        wait_for(lambda: WorkerRecord.select().where(
            (WorkerRecord.consumer_pid == worker.pid) & (WorkerRecord.started_at > reloaded_at)).count() == 4,
            message="the restarted consumer's workers")
        assert worker.process.poll() is None and "Consumer will restart." in worker.output()
        worker.wait_until_ready()

        slow_effect.dispatch("finishes-first", 2)
        wait_for(lambda: runs("finishes-first") == 1, message="the slow job to start")
    finally:
        code = worker.stop()  # KillSignal=SIGINT, waiting up to TimeoutStopSec
    assert code == 0, worker.output()[-3000:]
    # The consumer exited only after the running job had completed, in its one attempt.
    assert effect_done("finishes-first") and runs("finishes-first") == 1
    assert JobRecord.get(JobRecord.name == "slow_effect").state == "completed"
    assert WorkerRecord.select().where(WorkerRecord.stopped_at.is_null()).count() == 0


@pytest.mark.consumer
def test_template_unit_runs_extra_consumers_without_periodic_jobs(real_queue, units, tmp_path):
    unit = read_unit(units / "marketplace-worker@.service")["Service"]
    extra = UnitProcess(units / "marketplace-worker@.service", unit_settings(real_queue), tmp_path / "extra.log")
    assert extra.argv == [f"{BIN}/huey_consumer", "tasks.huey", "-w", "4", "-n"]
    assert unit["KillSignal"] == ["SIGINT"] and unit["TimeoutStopSec"] == read_unit(
        units / "marketplace-worker.service")["Service"]["TimeoutStopSec"]
    try:
        extra.wait_until_ready()
        make_effect.dispatch("by-an-extra-consumer")
        wait_for(lambda: effect_done("by-an-extra-consumer"), message="the job to run")
        assert "Periodic tasks are disabled." in extra.output()
    finally:
        assert extra.stop() == 0


# ---------------------------------------------------------------------------
# The hardening, checked against what the programs really do
# ---------------------------------------------------------------------------


def syscall_sets():
    """{"@group": {syscalls}} from systemd-analyze, groups expanded."""
    out = subprocess.run(["systemd-analyze", "syscall-filter"], capture_output=True, text=True, check=True).stdout
    groups, current = {}, None
    for line in out.splitlines():
        if line.startswith("@"):
            current = groups.setdefault(line.strip(), set())
        elif current is not None and line.strip() and not line.strip().startswith("#"):
            current.add(line.strip())

    def expand(name, seen=()):
        found = set()
        for item in groups.get(name, ()):
            found |= expand(item, seen + (name,)) if item.startswith("@") and item not in seen else {item}
        return found

    return {name: expand(name) for name in groups}


WRITE_FLAGS = re.compile(r"O_WRONLY|O_RDWR|O_CREAT")
TRACE_LINE = re.compile(r"^(\d+) +(\w+)\((.*)")
# A path argument, with the folder it is relative to: AT_FDCWD, or an fd that strace -y names.
PATH_ARG = re.compile(r'(?:(AT_FDCWD|\d+<([^>]*)>), )?"([^"]*)"')
WRITING = {"mkdir", "mkdirat", "unlink", "unlinkat", "rename", "renameat", "renameat2", "rmdir",
           "link", "linkat", "symlink", "symlinkat", "truncate", "chmod", "fchmodat"}


def traced_calls(path, cwd):
    """(syscall names, socket families, paths written to successfully) from an `strace -f -y` log."""
    names, families, written = set(), set(), set()
    for line in Path(path).read_text(errors="replace").splitlines():
        match = TRACE_LINE.match(line)
        if not match:
            continue  # "<... resumed>" halves and exit notes: the call was seen at its start
        name, rest = match.group(2), match.group(3)
        names.add(name)
        if name in ("socket", "socketpair"):
            families.add(rest.split(",")[0])
        if re.search(r"= -1 E\w+", line) or "<unfinished ...>" in line:
            continue
        if name in ("open", "openat", "creat") and (name == "creat" or WRITE_FLAGS.search(rest)) or name in WRITING:
            for _, base, target in PATH_ARG.findall(rest)[:2]:
                written.add(Path(base or cwd) / target)
    return names, families, written


def outside_writable(paths, allowed):
    bad = []
    for full in paths:
        if "__pycache__" in full.parts or full.suffix == ".pyc":
            continue  # Python caches bytecode where it can, and does without where it cannot
        if not any(full == a or a in full.parents for a in allowed):
            bad.append(str(full))
    return sorted(bad)


@pytest.mark.consumer
def test_services_stay_inside_their_sandbox(real_queue, units, tmp_path):
    need_program("strace")
    need_program("systemd-analyze")
    service = read_unit(units / "marketplace-worker.service")["Service"]
    permitted = set()
    sets = syscall_sets()
    for group in service["SystemCallFilter"][0].split():
        permitted |= sets[group] if group.startswith("@") else {group}
    families = set(service["RestrictAddressFamilies"][0].split())
    # ProtectSystem=strict: only ReadWritePaths, and the private /tmp and /dev/shm.
    writable = [Path(p) for p in service["ReadWritePaths"][0].split()] + [
        Path("/tmp"), Path("/var/tmp"), Path("/dev/shm"), Path("/dev/null")]
    web_environment = read_unit(units / "marketplace-web.service")["Service"]["Environment"]
    writable += [Path(v.split("=", 1)[1]) for v in web_environment if v.startswith("XDG_RUNTIME_DIR=")]
    for name in ("marketplace-web.service", "marketplace-worker@.service", "marketplace-backup.service"):
        other = read_unit(units / name)["Service"]
        assert other["SystemCallFilter"] == service["SystemCallFilter"]
        assert other["RestrictAddressFamilies"] == service["RestrictAddressFamilies"]
        assert other["ReadWritePaths"] == service["ReadWritePaths"]

    started = []

    def traced(unit_name, log_name, find_pid=True, **settings):
        trace = tmp_path / f"{log_name}.trace"
        process = UnitProcess(units / unit_name, unit_settings(real_queue, **settings), tmp_path / f"{log_name}.log",
                              wrapper=["strace", "-f", "-y", "-qq", "-e", "signal=none", "-o", str(trace)])
        started.append(process)

        def program():
            # strace's child, once it has become the program (before, it may be strace's own).
            for pid in children(process.pid):
                argv = command_line(pid)
                if argv and not argv[0].endswith(b"strace") and process.argv[0].encode() in argv:
                    return pid
            return None

        return process, wait_for(program, message="strace to start the program") if find_pid else None, trace

    port = free_port()
    try:
        web, web_pid, web_trace = traced("marketplace-web.service", "web", WEB_BIND=f"127.0.0.1:{port}")
        worker, worker_pid, worker_trace = traced("marketplace-worker.service", "worker")
    except BaseException:
        # Nothing started may outlive the test: a consumer left running writes into the next test's tables.
        for unit in started:
            kill_tree(unit.process)
        raise
    client = Client(port, None, tls=False)
    try:
        wait_for_http(client, timeout=60)
        for path in ("/", "/login", "/healthz", "/static/style.css"):
            assert client.request("GET", path)[0] == 200, path
        make_effect.dispatch("traced")
        crunch.dispatch("traced-crunch", 10)
        wait_for(lambda: effect_done("traced") and effect_done("traced-crunch:285"), timeout=60,
                 message="the traced jobs")
        worker.wait_until_ready(worker_pid)
        reloaded_at = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
        subprocess.run(["kill", "-HUP", str(web_pid)], check=True)
        subprocess.run(["kill", "-HUP", str(worker_pid)], check=True)
        wait_for(lambda: WorkerRecord.select().where(WorkerRecord.started_at > reloaded_at).count() == 4,
                 timeout=60, message="the restarted consumer's workers")
        worker.wait_until_ready(worker_pid)
        wait_for(lambda: client.request("GET", "/healthz")[0] == 200, message="the reloaded web app")
    finally:
        subprocess.run(["kill", "-INT", str(worker_pid)])
        subprocess.run(["kill", "-TERM", str(web_pid)])
        try:
            worker_exit, web_exit = worker.process.wait(60), web.process.wait(60)
        finally:
            for unit in started:
                if unit.process.poll() is None:
                    kill_tree(unit.process)
            worker.log.close()
            web.log.close()
        assert worker_exit == 0, worker.output()[-2000:]
        assert web_exit == 0, web.output()[-2000:]
    # The nightly backup, while nothing else runs (its unit is a oneshot).
    backup, _, backup_trace = traced("marketplace-backup.service", "backup", find_pid=False)
    assert backup.process.wait(120) == 0, backup.output()[-2000:]
    backup.log.close()
    assert "Backup written to" in backup.output()

    for trace in (web_trace, worker_trace, backup_trace):
        names, used_families, written = traced_calls(trace, ROOT)
        assert names, "strace recorded nothing"
        assert names - permitted == set(), f"{trace.stem}: system calls outside SystemCallFilter"
        assert used_families <= families, f"{trace.stem}: socket families outside RestrictAddressFamilies"
        assert outside_writable(written, writable) == [], f"{trace.stem}: writes outside ReadWritePaths"


# ---------------------------------------------------------------------------
# The settings file and DEPLOY.md
# ---------------------------------------------------------------------------


def settings_in_config():
    source = (ROOT / "shop" / "config.py").read_text()
    names = set(re.findall(r"""read\.\w+\(\s*["']([A-Z][A-Z0-9_]+)["']""", source))
    # Settings read in a loop: {name: read.str(name) for name in ("PAYTM_MID", ...)}.
    for group in re.findall(r"read\.\w+\(name\) for name in \(([^)]*)\)", source):
        names |= set(re.findall(r'"([A-Z][A-Z0-9_]+)"', group))
    return names


def test_example_settings_file_names_every_setting():
    example = (DEPLOY / "marketplace.env.example").read_text()
    named = set(re.findall(r"^#?([A-Z][A-Z0-9_]+)=", example, re.M))
    missing = settings_in_config() - named
    assert not missing, f"settings missing from deploy/marketplace.env.example: {sorted(missing)}"
    assert not named - settings_in_config(), "the example names settings config.py does not read"


def test_example_settings_file_loads_once_the_secret_is_set(app_env, tmp_path):
    values = config.read_dotenv(DEPLOY / "marketplace.env.example")
    values["DATA_DIR"] = str(tmp_path / "example-data")
    try:
        with pytest.raises(config.ConfigError, match="APP_SECRET must be set"):
            config.load_settings(dict(values), dotenv=False)
        loaded = config.load_settings(dict(values, APP_SECRET="s" * 48), dotenv=False)
        assert loaded.APP_ENV == "production" and not loaded.TEST_PAYMENTS_ENABLED
        assert loaded.MAIL_FROM == "Marketplace <shop@example.com>"
        assert loaded.DOWNLOAD_ACCEL_PREFIX == "/_protected/"
        nginx = (DEPLOY / "nginx/marketplace.conf").read_text()
        limit = int(re.search(r"^\s*client_max_body_size (\d+)m;", nginx, re.M).group(1))
        assert limit == loaded.UPLOAD_MAX_MB + loaded.THUMBNAIL_MAX_MB + 1
        assert f"location {loaded.DOWNLOAD_ACCEL_PREFIX} {{" in nginx
        assert not (tmp_path / "example-data").exists(), "loading the settings must write nothing"
    finally:
        app_env.reload()


def test_deploy_md_mentions_only_files_that_exist():
    text = (ROOT / "DEPLOY.md").read_text()
    mentioned = set(re.findall(r"\b(deploy/[\w./@-]+[\w@])", text)) | set(re.findall(r"\b(scripts/[\w./-]+\w)", text))
    assert mentioned, "DEPLOY.md names no deploy/ file"
    missing = sorted(m for m in mentioned if not (ROOT / m).exists())
    assert not missing, f"DEPLOY.md names files that do not exist: {missing}"
    for unit in SYSTEMD.iterdir():
        assert unit.name in text, f"DEPLOY.md does not explain {unit.name}"
