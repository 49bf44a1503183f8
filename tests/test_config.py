"""Settings: one Settings object, loaded without side effects; the start-up step that
writes; a bad setting stopping every kind of process with one line."""

import os
import stat
import subprocess
import sys

import pytest

from shop import config
from tests.conftest import BIN, ROOT


def local_environ(data_dir, **extra):
    return {"APP_ENV": "local", "DATA_DIR": str(data_dir), **extra}


def test_loading_the_settings_writes_nothing(tmp_path):
    settings = config.load_settings(local_environ(tmp_path / "shop-data"), dotenv=False)
    assert settings.DATA_DIR == (tmp_path / "shop-data").resolve()
    assert settings.APP_SECRET is None
    assert settings.UPLOADS_DIR == settings.DATA_DIR / "products"
    assert not (tmp_path / "shop-data").exists()


def test_settings_are_frozen(tmp_path):
    settings = config.load_settings(local_environ(tmp_path), dotenv=False)
    with pytest.raises(AttributeError):
        settings.UPLOAD_MAX_MB = 1


def test_configure_makes_the_settings_current(app_env):
    config.configure(dict(app_env.environ, UPLOAD_MAX_MB="7"), dotenv=False)
    assert config.UPLOAD_MAX_MB == 7 == config.current().UPLOAD_MAX_MB
    with pytest.raises(AttributeError):
        _ = config.NO_SUCH_SETTING


def test_start_creates_the_data_folder_and_keeps_one_local_secret(tmp_path, app_env):
    data_dir = tmp_path / "fresh"
    config.configure(local_environ(data_dir), dotenv=False)
    secret = config.start().APP_SECRET
    assert len(secret) >= 32 and config.APP_SECRET == secret
    assert stat.S_IMODE((data_dir / "app_secret").stat().st_mode) == 0o600
    assert config.load_settings(local_environ(data_dir), dotenv=False).APP_SECRET == secret


def test_a_bad_setting_is_named(tmp_path):
    with pytest.raises(config.ConfigError, match="COMMISSION_PERCENT must be a percentage"):
        config.load_settings(local_environ(tmp_path, COMMISSION_PERCENT="abc"), dotenv=False)


def _run(args, data_dir, **extra):
    environ = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), "PYTHONPATH": str(ROOT),
               **local_environ(data_dir, **extra)}
    return subprocess.run(args, check=False, cwd=ROOT, env=environ, capture_output=True, text=True, timeout=60)


@pytest.mark.consumer  # starts Python processes
def test_importing_the_shop_writes_nothing_and_exits_nowhere(tmp_path):
    # The web app's module is gunicorn's entry point and starts the process; every other
    # module, the jobs included, only declares things.
    script = ("import importlib, pkgutil, shop, shop_web, job_runtime\n"
              "names = ['models', 'tasks'] + [m.name for p in (shop, shop_web, job_runtime)\n"
              "    for m in pkgutil.walk_packages(p.__path__, p.__name__ + '.') if '.tests' not in m.name]\n"
              "for name in names: importlib.import_module(name)\n")
    result = _run([sys.executable, "-c", script], tmp_path / "shop-data", COMMISSION_PERCENT="abc")
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "shop-data").exists()


@pytest.mark.consumer  # starts the shop's commands
@pytest.mark.parametrize("command", [
    [str(BIN / "huey_consumer"), "tasks.huey"],
    [sys.executable, "-m", "shop.cli", "init"],
    [sys.executable, "-m", "shop.cli", "serve"],
    [sys.executable, "-c", "import marketplace"],
], ids=["consumer", "init", "serve", "web"])
def test_a_bad_setting_stops_start_up_with_one_line(tmp_path, command):
    result = _run(command, tmp_path / "shop-data", COMMISSION_PERCENT="abc")
    assert result.returncode in (1, 2)
    assert result.stderr.strip().splitlines() == [
        "Configuration error: COMMISSION_PERCENT must be a percentage between 0 and 100; got 'abc'"]
    assert not (tmp_path / "shop-data").exists()


@pytest.mark.consumer  # starts the web server
def test_serve_writes_nothing_under_home_whatever_the_runtime_dir(tmp_path):
    """gunicorn 27 puts its control socket under ~/.gunicorn unless XDG_RUNTIME_DIR is set;
    `marketplace serve` switches the control socket off, so nothing is shared with another gunicorn."""
    import urllib.request

    from tests.conftest import free_port, wait_for

    home, data_dir, port = tmp_path / "home", tmp_path / "shop-data", free_port()
    home.mkdir()
    environ = {"PATH": os.environ["PATH"], "HOME": str(home), "PYTHONPATH": str(ROOT),
               **local_environ(data_dir, WEB_BIND=f"127.0.0.1:{port}", WEB_CONCURRENCY="1")}
    environ.pop("XDG_RUNTIME_DIR", None)
    init = subprocess.run([sys.executable, "-m", "shop.cli", "init"], cwd=ROOT, env=environ, capture_output=True,
                          text=True, timeout=120)
    assert init.returncode == 0, init.stderr
    log = open(tmp_path / "serve.log", "wb")
    server = subprocess.Popen([sys.executable, "-m", "shop.cli", "serve"], cwd=ROOT, env=environ, stdout=log,
                              stderr=subprocess.STDOUT)

    def answers():
        try:
            return urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).status == 200
        except OSError:
            return server.poll() is not None

    try:
        wait_for(answers, timeout=60, message="marketplace serve to answer")
        assert server.poll() is None, (tmp_path / "serve.log").read_text()
    finally:
        server.terminate()
        server.wait(30)
        log.close()
    assert list(home.iterdir()) == [], (tmp_path / "serve.log").read_text()
