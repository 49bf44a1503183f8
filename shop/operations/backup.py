"""`marketplace backup`: a copy of data/ that is safe to take while the shop runs.

- SQLite databases (the DATABASE_URL file and the SQLite queue's queue.db) go
  through SQLite's online backup API: one consistent snapshot, taken while the
  web app and the consumer keep writing (in WAL mode a reader never blocks a
  writer). A plain file copy could catch a database in the middle of a
  transaction, or without the part of it that still sits in the -wal file.
- PostgreSQL (DATABASE_URL postgresql://, which also holds a postgres queue)
  goes through pg_dump, whose custom-format archive is a consistent snapshot
  that pg_restore reads back.
- Every other file under DATA_DIR (uploads, thumbnails, invoices, mail, the
  generated app secret) goes into files.tar, after the databases: a row in the
  snapshot names a file that was written before it, so that file is archived.

A Redis queue is not backed up: its messages are doorbells that the sweeper
rings again from the job records, which are in the database.

Each backup is a folder `marketplace-<UTC time>` under the backup folder
(default DATA_DIR/backups), written under a temporary name and renamed once
complete, so a folder with the final name is always whole.

With --to-storage the finished folder goes to the shop's bucket instead
(backups/<name>/ under S3_PREFIX), each file checked against the manifest's
SHA-256 as it is stored, and manifest.json last: a backup in the bucket is
whole once its manifest is there. With STORAGE=s3 the product files,
thumbnails and invoices are in the bucket already, not in files.tar.
"""

import datetime
import hashlib
import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from urllib.parse import unquote, urlparse, urlunparse

from playhouse.db_url import parse as parse_db_url

from shop import config
from shop.errors import BackupError, StorageError
from shop.storage import BACKUPS, storage

PREFIX = "marketplace-"
PARTIAL = ".partial-"


# ---------------------------------------------------------------------------
# Databases
# ---------------------------------------------------------------------------


def is_postgres_url(url):
    return urlparse(url).scheme in ("postgres", "postgresql", "postgresext")


def sqlite_file(url):
    """The file of a sqlite:/// URL, made absolute as SQLite itself would (from the working folder)."""
    return Path(parse_db_url(url)["database"]).resolve()


def backup_sqlite(source, target):
    """Copy the SQLite database `source` to `target` with the online backup API."""
    if not Path(source).exists():
        raise BackupError(f"the database {source} does not exist")
    src = sqlite3.connect(str(source), timeout=30)
    dst = sqlite3.connect(str(target))
    try:
        # One step (all pages at once): a single read transaction, so the copy
        # is one point in time however busy the writers are.
        src.backup(dst)
        # A self-contained file: no -wal beside it when it is restored.
        dst.execute("pragma journal_mode=delete")
        status = dst.execute("pragma integrity_check").fetchone()[0]
        if status != "ok":
            raise BackupError(f"the copy of {source} failed its integrity check: {status}")
    finally:
        dst.close()
        src.close()


def _libpq_target(url):
    """(connection URI without the password, the password) for pg_dump."""
    parsed = urlparse(url)
    netloc = parsed.hostname or ""
    if parsed.port:
        netloc = f"{netloc}:{parsed.port}"
    if parsed.username:
        netloc = f"{parsed.username}@{netloc}"
    uri = urlunparse(parsed._replace(scheme="postgresql", netloc=netloc))
    return uri, unquote(parsed.password) if parsed.password else None


def backup_postgres(url, target):
    """pg_dump the database of `url` into `target` (custom format, for pg_restore)."""
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        raise BackupError("pg_dump is not installed (apt install postgresql-client)")
    uri, password = _libpq_target(url)
    env = dict(os.environ)
    if password:
        # In the environment, not on the command line, where any user could read it.
        env["PGPASSWORD"] = password
    # No owner or grants in the archive: it restores into a database owned by
    # whichever role runs pg_restore.
    result = subprocess.run([pg_dump, "--format=custom", "--no-owner", "--no-privileges",
                             f"--file={target}", f"--dbname={uri}"],
                            env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(f"pg_dump failed: {result.stderr.strip()}")
    check = subprocess.run([shutil.which("pg_restore") or "pg_restore", "--list", str(target)],
                           env=env, capture_output=True, text=True)
    if check.returncode != 0:
        raise BackupError(f"pg_restore cannot read the dump: {check.stderr.strip()}")


# ---------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------


def _database_names(path):
    return {path.name, f"{path.name}-wal", f"{path.name}-shm", f"{path.name}-journal"}


def archive_files(data_dir, target, skip_paths, skip_names):
    """Tar every regular file under `data_dir` except the skipped; returns how many."""
    count = 0
    with tarfile.open(target, "w") as tar:
        for folder, subfolders, names in os.walk(data_dir):
            folder = Path(folder)
            subfolders[:] = sorted(d for d in subfolders if (folder / d) not in skip_paths)
            for name in sorted(names):
                path = folder / name
                if (folder == data_dir and name in skip_names) or path in skip_paths:
                    continue
                try:
                    if not stat.S_ISREG(path.lstat().st_mode):
                        continue  # links, sockets and pipes are not data
                    handle = open(path, "rb")
                except FileNotFoundError:
                    continue  # gone since the folder was listed (a temporary file)
                with handle:
                    # The size comes from the open file: a file renamed or
                    # deleted meanwhile is still read whole.
                    info = tar.gettarinfo(arcname=str(path.relative_to(data_dir)), fileobj=handle)
                    tar.addfile(info, handle)
                count += 1
    return count


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


# ---------------------------------------------------------------------------
# One backup
# ---------------------------------------------------------------------------


def default_folder():
    return config.DATA_DIR / "backups"


def _order(name):
    """(time stamp, sequence): backups made within one second are numbered -2, -3, ..."""
    stamp, _, number = name.removeprefix(PARTIAL).removeprefix(PREFIX).partition("-")
    return stamp, int(number) if number.isdigit() else 1


def _new_name(folder, also_taken=()):
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    names = [p.name for p in folder.iterdir()] + list(also_taken)
    taken = [_order(name)[1] for name in names if _order(name)[0] == stamp]
    return f"{PREFIX}{stamp}" if not taken else f"{PREFIX}{stamp}-{max(taken) + 1}"


def make_backup(folder=None, files=True, taken_names=()):
    """Write one complete backup under `folder` (named apart from `taken_names` too); returns its path."""
    folder = Path(folder) if folder else default_folder()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    name = _new_name(folder, taken_names)
    work = folder / f"{PARTIAL}{name}"
    work.mkdir(mode=0o700)
    manifest = {"created_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                "data_dir": str(config.DATA_DIR), "queue_connection": config.QUEUE_CONNECTION,
                "storage": config.STORAGE, "files": {}}
    # Never a backup inside a backup: neither this one's folder nor the default one.
    skip_paths = {folder.resolve(), work.resolve(), default_folder().resolve()}
    skip_names = set()
    try:
        if is_postgres_url(config.DATABASE_URL):
            backup_postgres(config.DATABASE_URL, work / "marketplace.dump")
            manifest["database"] = "postgresql"
        else:
            database = sqlite_file(config.DATABASE_URL)
            backup_sqlite(database, work / "marketplace.db")
            manifest["database"] = "sqlite"
            if database.parent == config.DATA_DIR:
                skip_names |= _database_names(database)
        # queue.db is never archived as a plain file; when the queue has moved
        # to Redis or PostgreSQL, the one left behind is unused.
        skip_names |= _database_names(config.QUEUE_SQLITE_PATH)
        if config.QUEUE_CONNECTION == "sqlite" and config.QUEUE_SQLITE_PATH.exists():
            backup_sqlite(config.QUEUE_SQLITE_PATH, work / "queue.db")
        if files:
            manifest["archived_files"] = archive_files(config.DATA_DIR, work / "files.tar",
                                                       skip_paths, skip_names)
        for path in sorted(work.iterdir()):
            path.chmod(0o600)  # the app secret and every customer's data: owner only
            manifest["files"][path.name] = {"bytes": path.stat().st_size, "sha256": _sha256(path)}
        (work / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
        (work / "manifest.json").chmod(0o600)
        final = folder / name
        work.rename(final)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return final


def complete_backups(folder=None):
    """Finished backups under `folder`, oldest first."""
    folder = Path(folder) if folder else default_folder()
    if not folder.exists():
        return []
    return sorted((p for p in folder.iterdir() if p.is_dir() and p.name.startswith(PREFIX)),
                  key=lambda p: _order(p.name))


def prune(folder=None, keep=7):
    """Delete all but the newest `keep` backups (0 keeps them all); returns the deleted."""
    old = complete_backups(folder)[:-keep] if keep > 0 else []
    for path in old:
        shutil.rmtree(path)
    return old


def remove_partial(folder=None):
    """Delete what an interrupted backup left behind (a power cut, a kill)."""
    folder = Path(folder) if folder else default_folder()
    for leftover in folder.glob(f"{PARTIAL}*") if folder.exists() else []:
        shutil.rmtree(leftover, ignore_errors=True)


# ---------------------------------------------------------------------------
# Backups in the bucket
# ---------------------------------------------------------------------------

MANIFEST = "manifest.json"


def upload_backup(path):
    """Store the finished backup folder `path` under backups/<name>/; returns that prefix."""
    store = storage()
    manifest = json.loads((path / MANIFEST).read_text())
    prefix = f"{BACKUPS}/{path.name}/"
    for name, expected in sorted(manifest["files"].items()):
        stored = store.put_path(prefix + name, path / name)
        if stored.sha256 != expected["sha256"]:
            raise BackupError(f"{name} changed while it was stored in {store.describe()}")
    store.put_path(prefix + MANIFEST, path / MANIFEST, content_type="application/json")
    return prefix


def stored_backups():
    """{backup name: [keys]} of the bucket's backups, oldest first; whole or not."""
    found = {}
    for key in storage().keys(f"{BACKUPS}/{PREFIX}"):
        found.setdefault(key.split("/")[1], []).append(key)
    return dict(sorted(found.items(), key=lambda item: _order(item[0])))


def prune_stored(keep=7):
    """Delete the bucket's backups but the newest `keep` whole ones, and every one an
    interrupted upload left without its manifest; returns the deleted names."""
    backups = stored_backups()
    whole = [name for name, keys in backups.items() if f"{BACKUPS}/{name}/{MANIFEST}" in keys]
    kept = set(whole[-keep:]) if keep > 0 else set(whole)
    deleted = [name for name in backups if name not in kept]
    for name in deleted:
        for key in backups[name]:
            storage().delete(key)
    return deleted


def backup_to_storage(files=True, keep=7):
    """One backup written into the bucket; returns (its prefix, the deleted old ones)."""
    if storage().kind == "local":
        raise BackupError("--to-storage writes into the S3 bucket; with STORAGE=local use --to")
    # Made beside the data (the same disk as the databases, never /tmp's small tmpfs),
    # and skipped by the archive because it is the backup folder.
    work = Path(tempfile.mkdtemp(prefix=".backup-upload-", dir=config.DATA_DIR))
    try:
        prefix = upload_backup(make_backup(work, files=files, taken_names=stored_backups()))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return prefix, prune_stored(keep)


# ---------------------------------------------------------------------------
# The command
# ---------------------------------------------------------------------------


def cmd_backup(args):
    if args.keep < 0:
        print("--keep must be 0 or more", file=sys.stderr)
        return 2
    if args.to_storage:
        try:
            prefix, deleted = backup_to_storage(files=not args.no_files, keep=args.keep)
        except (BackupError, StorageError, OSError, sqlite3.Error) as exc:
            print(f"Backup failed: {exc}", file=sys.stderr)
            return 1
        print(f"Backup written to {storage().describe()} under {prefix}")
        for name in deleted:
            print(f"Removed old backup {name}")
        return 0
    try:
        remove_partial(args.to)
        path = make_backup(args.to, files=not args.no_files)
    except (BackupError, OSError, sqlite3.Error) as exc:
        print(f"Backup failed: {exc}", file=sys.stderr)
        return 1
    print(f"Backup written to {path}")
    for old in prune(args.to, keep=args.keep):
        print(f"Removed old backup {old}")
    return 0


def add_command(commands):
    parser = commands.add_parser("backup", help="back up data/ while the shop runs",
                                 description="Back up the databases (SQLite online backup or pg_dump) "
                                             "and the files under DATA_DIR, safely while the shop runs.")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--to", type=Path, help="backup folder (default DATA_DIR/backups)")
    where.add_argument("--to-storage", action="store_true",
                       help="write the backup into the S3 bucket (STORAGE=s3), under backups/")
    parser.add_argument("--keep", type=int, default=7,
                        help="keep this many newest backups, delete older ones (default 7; 0 keeps all)")
    parser.add_argument("--no-files", action="store_true", help="databases only, no files.tar")
    # A backup reads the database and data/ only: it neither dispatches nor runs jobs, so it
    # must not need the queue (a backup of a shop whose queue server is down still runs).
    parser.set_defaults(func=cmd_backup, needs_jobs=False)
