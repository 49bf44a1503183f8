"""`marketplace backup`, run as the real command while another process keeps writing.

A writer process inserts rows in pairs, one transaction per pair, the whole time
the backup runs. A backup that is one point in time holds whole pairs only; a
file copy of a busy SQLite database could hold half a pair, or a database that
does not open. Each backup is then restored the way DEPLOY.md says, and a real
consumer runs the jobs that were queued when it was taken.
"""

import json
import sqlite3
import subprocess
import sys
import tarfile
import uuid

import pytest

import job_runtime
from shop import runtime
import models
from tests.conftest import BIN, POSTGRES_ADMIN_URL, ROOT, _postgres_url, create_schema, need_postgres, wait_for
from tests.sample_jobs import SampleEffect, effect_done, make_effect

SQLITE_WRITER = """
import sqlite3
import sys
import time
import pathlib
db = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)
stop = pathlib.Path(sys.argv[2])
i = 0
while not stop.exists():
    i += 1
    db.execute("begin immediate")
    db.execute("insert into sample_effect (key, at) values (?, datetime('now'))", (f"a{i}",))
    db.execute("insert into sample_effect (key, at) values (?, datetime('now'))", (f"b{i}",))
    db.execute("commit")
"""

POSTGRES_WRITER = """
import sys
import pathlib
import psycopg
stop = pathlib.Path(sys.argv[2])
i = 0
with psycopg.connect(sys.argv[1]) as conn:
    while not stop.exists():
        i += 1
        with conn.transaction():
            conn.execute("insert into sample_effect (key, at) values (%s, now())", (f"a{i}",))
            conn.execute("insert into sample_effect (key, at) values (%s, now())", (f"b{i}",))
"""


class Writer:
    """A separate process that commits pairs of rows until told to stop."""

    def __init__(self, script, target, tmp_path):
        self.stop_file = tmp_path / f"stop-writer-{uuid.uuid4().hex[:6]}"
        self.process = subprocess.Popen([sys.executable, "-c", script, target, str(self.stop_file)])

    def stop(self):
        self.stop_file.touch()
        assert self.process.wait(30) == 0


def pairs(rows):
    keys = {key for (key,) in rows}
    a = {k[1:] for k in keys if k.startswith("a")}
    b = {k[1:] for k in keys if k.startswith("b")}
    return a, b


def run_backup(app_env, *args):
    environ = dict(app_env.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([str(BIN / "marketplace"), "backup", *args], cwd=ROOT, env=environ,
                          capture_output=True, text=True, timeout=120)


def use_sqlite(app_env):
    """SQLite database and queue, whatever the suite's backends are."""
    url = f"sqlite:///{app_env.data_dir / 'marketplace.db'}"
    app_env.reload(DATABASE_URL=url, QUEUE_CONNECTION="sqlite")
    models.init_db(url)
    create_schema()
    return url


def use_postgres(app_env):
    """The session's PostgreSQL database, emptied, with the postgres queue in it."""
    url = _postgres_url()
    app_env.reload(DATABASE_URL=url, QUEUE_CONNECTION="postgres")
    models.init_db(url)
    create_schema()
    names = ", ".join(f'"{m._meta.table_name}"' for m in models.all_models())
    models.db.execute_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    return url


def queue_jobs(keys):
    """Dispatch jobs onto the real queue (not run now), as the web app does."""
    job_runtime.huey.immediate = False
    runtime.setup_job_runtime()
    for key in keys:
        make_effect.dispatch(key)


def put_files(data_dir):
    files = {
        "products/7f3a-ebook.pdf": b"%PDF-1.4 the product file\n" * 5000,
        "media/7f3a-160.webp": b"RIFF....WEBPVP8 " + bytes(range(256)) * 4,
        "invoices/INV-000001.pdf": b"%PDF-1.4 invoice\n",
        "mail/0001-welcome.eml": b"Subject: Welcome\r\n\r\nHello\r\n",
    }
    for name, content in files.items():
        path = data_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return files


@pytest.mark.consumer
def test_sqlite_backup_while_writing_restores_whole(app_env, tmp_path, make_user, consumer):
    url = use_sqlite(app_env)
    make_user("admin", email="owner@example.com")
    files = put_files(app_env.data_dir)
    queue_jobs(["queued-1", "queued-2", "queued-3"])
    database = app_env.data_dir / "marketplace.db"
    writer = Writer(SQLITE_WRITER, str(database), tmp_path)
    try:
        wait_for(lambda: SampleEffect.select().count() >= 200, message="the writer to get going")
        result = run_backup(app_env, "--to", str(tmp_path / "backups"))
        written_during = SampleEffect.select().count()
    finally:
        writer.stop()
    assert result.returncode == 0, result.stderr
    (folder,) = (tmp_path / "backups").iterdir()
    assert result.stdout.startswith(f"Backup written to {folder}")
    assert sorted(p.name for p in folder.iterdir()) == ["files.tar", "manifest.json", "marketplace.db", "queue.db"]

    copy = sqlite3.connect(folder / "marketplace.db")
    assert copy.execute("pragma integrity_check").fetchone()[0] == "ok"
    assert copy.execute("pragma journal_mode").fetchone()[0] == "delete"
    a, b = pairs(copy.execute("select key from sample_effect"))
    assert a == b and 100 <= len(a) and 2 * len(a) <= written_during  # whole pairs, taken mid-stream
    assert copy.execute("select email from user").fetchall() == [("owner@example.com",)]
    copy.close()

    with tarfile.open(folder / "files.tar") as tar:
        names = sorted(tar.getnames())
        assert names == sorted(files)  # no database, -wal, queue or backup file
        assert all(tar.extractfile(name).read() == content for name, content in files.items())
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["database"] == "sqlite" and manifest["archived_files"] == len(files)

    # Restore as DEPLOY.md says: the two databases and files.tar into an empty data folder.
    restored = tmp_path / "restored"
    restored.mkdir()
    for name in ("marketplace.db", "queue.db"):
        (restored / name).write_bytes((folder / name).read_bytes())
    with tarfile.open(folder / "files.tar") as tar:
        tar.extractall(restored, filter="data")
    assert (restored / "products/7f3a-ebook.pdf").read_bytes() == files["products/7f3a-ebook.pdf"]
    restored_url = f"sqlite:///{restored / 'marketplace.db'}"
    app_env.reload(DATA_DIR=restored, DATABASE_URL=restored_url)
    models.init_db(restored_url)
    assert models.User.get().email == "owner@example.com"
    assert url != restored_url
    consumer(workers=2)
    wait_for(lambda: all(effect_done(k) for k in ("queued-1", "queued-2", "queued-3")),
             message="the restored queue's jobs to run")


@pytest.mark.consumer
@pytest.mark.postgres
def test_postgres_backup_while_writing_restores_whole(app_env, tmp_path, make_user):
    need_postgres()
    import psycopg

    url = use_postgres(app_env)
    make_user("admin", email="owner@example.com")
    put_files(app_env.data_dir)
    queue_jobs(["queued-1", "queued-2"])
    writer = Writer(POSTGRES_WRITER, url, tmp_path)
    try:
        wait_for(lambda: SampleEffect.select().count() >= 200, message="the writer to get going")
        result = run_backup(app_env, "--to", str(tmp_path / "backups"), "--no-files")
        written_during = SampleEffect.select().count()
    finally:
        writer.stop()
    assert result.returncode == 0, result.stderr
    (folder,) = (tmp_path / "backups").iterdir()
    assert sorted(p.name for p in folder.iterdir()) == ["manifest.json", "marketplace.dump"]

    target = f"marketplace_restore_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{target}"')
    target_url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/" + target
    try:
        restore = subprocess.run(["pg_restore", "--no-owner", f"--dbname={target_url}",
                                  str(folder / "marketplace.dump")], capture_output=True, text=True)
        assert restore.returncode == 0, restore.stderr
        with psycopg.connect(target_url) as conn:
            a, b = pairs(conn.execute("select key from sample_effect").fetchall())
            assert a == b and 100 <= len(a) and 2 * len(a) <= written_during
            assert conn.execute('select email from "user"').fetchall() == [("owner@example.com",)]
            # The postgres queue lives in the same database: its two messages came along.
            queued = conn.execute("select count(*) from huey_task where queue = %s",
                                  (app_env.environ["QUEUE_NAME"],)).fetchone()[0]
            assert queued == 2
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)')


@pytest.mark.consumer
@pytest.mark.postgres
def test_a_failed_backup_says_why_and_leaves_nothing_behind(app_env, tmp_path):
    need_postgres()
    missing = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/no_such_db_{uuid.uuid4().hex[:6]}"
    app_env.environ["DATABASE_URL"] = missing
    result = run_backup(app_env, "--to", str(tmp_path / "backups"))
    assert result.returncode == 1
    assert result.stderr.startswith("Backup failed: pg_dump failed:") and "no_such_db" in result.stderr
    assert list((tmp_path / "backups").iterdir()) == []


@pytest.mark.consumer
def test_keep_removes_the_oldest_backups_and_leftovers(app_env, tmp_path):
    use_sqlite(app_env)
    folder = tmp_path / "backups"
    (folder / ".partial-marketplace-20000101T000000Z").mkdir(parents=True)
    made = []
    for _ in range(4):
        result = run_backup(app_env, "--to", str(folder), "--keep", "2", "--no-files")
        assert result.returncode == 0, result.stderr
        made.append(result.stdout.split("Backup written to ")[1].split()[0])
    assert sorted(str(p) for p in folder.iterdir()) == sorted(made[-2:])


def test_the_postgres_password_stays_off_the_command_line():
    from shop.operations import backup

    uri, password = backup._libpq_target("postgresql://shop:s%40cret@db.internal:5433/shop?sslmode=require")
    assert uri == "postgresql://shop@db.internal:5433/shop?sslmode=require"
    assert password == "s@cret"
