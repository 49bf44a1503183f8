"""The wheel: what `pip install .` (not editable) gives a shop owner.

The wheel is built from a copy of what setup.cfg names, installed into a fresh
virtualenv that sees the dependencies already installed here but not this
checkout, and run from a folder of its own: `marketplace init`, `marketplace
serve` and `huey_consumer tasks.huey` must work there, the pages must come from
the templates and static files the wheel carries, and nothing may be written
into site-packages. The installed shop runs on SQLite whatever the suite's
backends, since what is under test is the packaging.
"""

import configparser
import importlib.metadata
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import BIN, ROOT, free_port, missing_service, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.consumer]


def packaged_paths():
    """The files and folders of the checkout that setup.cfg builds the wheel from."""
    parser = configparser.ConfigParser()
    parser.read(ROOT / "setup.cfg")
    options = parser["options"]
    names = {"setup.cfg", "pyproject.toml", parser["metadata"]["long_description"].removeprefix("file:").strip()}
    names.update(f"{module}.py" for module in options["py_modules"].split())
    names.update(package.split(".")[0] for package in options["packages"].split())
    for line in options.get("package_dir", "").splitlines():
        if "=" in line:
            names.add(line.split("=", 1)[1].strip())
    return sorted(names)


def copy_sources(target):
    for name in packaged_paths():
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(source, target / name)


def builds_offline():
    """Whether setuptools here builds a wheel by itself (from 70.1), so that the build
    needs no isolated environment fetched from the package index."""
    try:
        version = importlib.metadata.version("setuptools")
    except importlib.metadata.PackageNotFoundError:
        return False
    return tuple(int(part) for part in version.split(".")[:2]) >= (70, 1)


def build_wheel(tmp_path):
    if not builds_offline():
        missing_service("building the wheel offline needs setuptools 70.1 or later (the test extras install it)")
    sources = tmp_path / "sources"
    sources.mkdir()
    copy_sources(sources)
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-index",
                    "--no-build-isolation", "--disable-pip-version-check", "--wheel-dir", str(dist), str(sources)],
                   check=True, cwd=tmp_path, timeout=120)
    (wheel,) = dist.glob("marketplace-*.whl")
    return wheel


def make_venv(folder):
    """A virtualenv without pip whose only view of this environment is its site-packages
    folder, named in a .pth file: a path in a .pth file is added to sys.path, but the .pth
    files inside it (this checkout's editable install among them) are not run."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True, timeout=60)
    python = folder / "bin" / "python"
    site_packages = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                                        check=True, capture_output=True, text=True).stdout.strip())
    (site_packages / "installed-dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    # The consumer's script, as installing huey into this virtualenv would write it.
    script = (BIN / "huey_consumer").read_text().split("\n", 1)[1]
    consumer = folder / "bin" / "huey_consumer"
    consumer.write_text(f"#!{python}\n{script}")
    consumer.chmod(0o755)
    return python, site_packages


def files_under(folder):
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*"))


def get(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.headers.get("Content-Type", ""), response.read()


def stop(process, sig=signal.SIGTERM, timeout=20):
    if process.poll() is None:
        process.send_signal(sig)
    try:
        return process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)
        raise


def test_the_installed_wheel_serves_pages_and_runs_jobs_from_another_folder(tmp_path):
    wheel = build_wheel(tmp_path)
    venv = tmp_path / "venv"
    python, site_packages = make_venv(venv)
    environ = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONUNBUFFERED": "1"}
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", "--ignore-installed",
                    "--disable-pip-version-check", str(wheel)], check=True, env=environ, cwd=tmp_path, timeout=120)
    installed = files_under(site_packages)
    assert "shop_web/views/base.tpl" in installed and "shop_web/views/static/style.css" in installed
    # The font every invoice embeds, and its licence.
    assert {"shop/orders/fonts/DejaVuSans.ttf", "shop/orders/fonts/DejaVuSans-Bold.ttf",
            "shop/orders/fonts/LICENSE"} <= set(installed)

    shop_folder = tmp_path / "shop"
    shop_folder.mkdir()
    data_dir = tmp_path / "shop-data"
    environ["DATA_DIR"] = str(data_dir)
    located = subprocess.run(
        [str(python), "-c", "import shop, shop_web, job_runtime, marketplace, models, tasks; from shop import config; "
         "print(shop.__file__, marketplace.__file__, config.VIEWS_DIR, config.DATA_DIR, sep='\\n')"],
        check=True, capture_output=True, text=True, env=environ, cwd=shop_folder, timeout=60).stdout.splitlines()
    assert [Path(path).is_relative_to(site_packages) for path in located[:3]] == [True, True, True], located
    assert Path(located[3]) == data_dir

    initialised = subprocess.run([str(venv / "bin" / "marketplace"), "init"], capture_output=True, text=True,
                                 env=environ, cwd=shop_folder, timeout=60)
    assert initialised.returncode == 0, initialised.stderr
    assert (data_dir / "marketplace.db").exists()

    port = free_port()
    log = tmp_path / "serve.log"
    with open(log, "wb") as output:
        web = subprocess.Popen([str(venv / "bin" / "marketplace"), "serve", "--bind", f"127.0.0.1:{port}",
                                "--workers", "1"], env=environ, cwd=shop_folder, stdout=output,
                               stderr=subprocess.STDOUT)
    try:
        def answers():
            try:
                return get(f"http://127.0.0.1:{port}/")
            except OSError:
                assert web.poll() is None, log.read_text()
                return None

        status, content_type, page = wait_for(answers, timeout=30, interval=0.2, message="the installed web app")
        assert status == 200 and content_type.startswith("text/html")
        page = page.decode()
        # The catalog page in the layout of views/base.tpl, which links the stylesheet.
        assert '<header class="site-header">' in page and 'href="/static/style.css"' in page, page[:600]
        status, content_type, stylesheet = get(f"http://127.0.0.1:{port}/static/style.css")
        assert status == 200 and content_type.startswith("text/css")
        assert stylesheet == (ROOT / "views" / "static" / "style.css").read_bytes()
    finally:
        assert stop(web) == 0, log.read_text()

    log = tmp_path / "consumer.log"
    with open(log, "wb") as output:
        consumer = subprocess.Popen([str(venv / "bin" / "huey_consumer"), "tasks.huey", "-w", "1", "-n"],
                                    env=environ, cwd=shop_folder, stdout=output, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: "Huey consumer started" in log.read_text() or consumer.poll() is not None,
                 timeout=30, message="the installed consumer to start")
        assert consumer.poll() is None, log.read_text()
        time.sleep(0.5)
    finally:
        assert stop(consumer, signal.SIGINT) == 0, log.read_text()

    # Without DATA_DIR, an installed shop keeps its data in ./data of the working directory.
    del environ["DATA_DIR"]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    subprocess.run([str(venv / "bin" / "marketplace"), "init"], check=True, capture_output=True, env=environ,
                   cwd=elsewhere, timeout=60)
    assert (elsewhere / "data" / "marketplace.db").exists()

    assert files_under(site_packages) == installed
    assert os.listdir(shop_folder) == []
