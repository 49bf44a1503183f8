"""The database's schema version: `marketplace migrate`, and the check the web app
and the consumer make before they start.

The migrations are the modules of shop/migrations (see its docstring). Each one
applied is a row of the schema_version table; the database's version is the
highest. Every migration runs in one transaction together with its row, so a
migration that fails leaves the database as it was: PostgreSQL and SQLite both
roll schema changes back with the data. On SQLite a copy of the database file is
taken first as well (SQLite's online backup, under DATA_DIR/backups), because a
table rebuild is many statements and the copy is what an owner restores by hand.

A shop created by release 0.1.0 has the baseline's tables and no schema_version
table: migrate records it at version 1 (the baseline) without touching a table.
"""

import dataclasses
import datetime
import enum
import functools
import importlib
import logging
import pkgutil
import re
import sys
from contextlib import contextmanager
from pathlib import Path

from peewee import CharField, DateTimeField, IntegerField, Model, Proxy
from playhouse.migrate import SchemaMigrator

import models
import shop.migrations
from shop import config
from shop.errors import MigrationError, SchemaMismatch

MODULE_NAME = re.compile(r"^(\d{4})_(\w+)$")
TRANSACTION_CONTROL = re.compile(r"^(SAVEPOINT|RELEASE SAVEPOINT|ROLLBACK TO SAVEPOINT|BEGIN|COMMIT|ROLLBACK)\b", re.I)
BASELINE = 1
BASELINE_RELEASE = "0.1.0"
# How long a migration on PostgreSQL waits for a table's lock (SQLite waits busy_timeout).
POSTGRES_LOCK_TIMEOUT = "10s"


class SchemaVersion(Model):
    """One applied migration. Not a models.BaseModel on purpose: copying the shop's data
    (copy-database) and emptying its tables (the test suite) must leave it alone."""

    version = IntegerField(primary_key=True)
    name = CharField()
    applied_at = DateTimeField(default=models.utcnow)

    class Meta:
        database = models.db
        table_name = "schema_version"


# ---------------------------------------------------------------------------
# The migrations this code knows
# ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Migration:
    version: int
    name: str
    upgrade: object  # upgrade(migrator, db)
    description: str = ""
    atomic: bool = True

    @property
    def label(self):
        return f"{self.version:04d}_{self.name}"


def available():
    """Every migration of shop/migrations, in order; their versions must run 1, 2, 3, ..."""
    return list(_discover())


@functools.cache
def _discover():
    # Once per process: /healthz asks for the schema's status on every call.
    found = []
    for info in pkgutil.iter_modules(shop.migrations.__path__):
        match = MODULE_NAME.match(info.name)
        if not match:
            continue
        module = importlib.import_module(f"shop.migrations.{info.name}")
        summary = (module.__doc__ or "").strip().partition("\n")[0]
        found.append(Migration(int(match.group(1)), match.group(2), module.upgrade, summary,
                               getattr(module, "atomic", True)))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise MigrationError(f"shop/migrations must number its modules 0001, 0002, ... without gaps; "
                             f"found {', '.join(f'{v:04d}' for v in versions)}")
    return tuple(found)


# ---------------------------------------------------------------------------
# Where a database stands
# ---------------------------------------------------------------------------


class State(enum.Enum):
    CURRENT = "current"
    BEHIND = "behind"            # migrations to apply: run `marketplace migrate`
    AHEAD = "ahead"              # migrated by a newer release than this code
    UNVERSIONED = "unversioned"  # made by release 0.1.0: migrate records it at the baseline
    EMPTY = "empty"              # no tables yet: migrate creates them


@dataclasses.dataclass(frozen=True)
class Status:
    state: State
    version: int | None  # the highest applied, None when nothing is recorded
    head: int            # the highest this code knows
    pending: tuple = ()  # Migrations not applied yet
    unknown: tuple = ()  # applied versions this code does not know

    def problem(self):
        """One line that says what is wrong and what to run, or None when the schema matches."""
        if self.state is State.CURRENT:
            return None
        if self.state is State.AHEAD:
            return (f"The database schema is at version {self.version}, but this code knows versions up to "
                    f"{self.head}: this database was migrated by a newer release. Run that release, "
                    f"or restore the backup taken before its migration.")
        if self.state is State.EMPTY:
            return "The database has no tables yet: run `marketplace migrate` (or `marketplace init`)."
        if self.state is State.UNVERSIONED:
            return (f"The database was made by release {BASELINE_RELEASE} and has no schema version yet: "
                    f"run `marketplace migrate`.")
        return (f"The database schema is at version {self.version}, but this code needs version {self.head}: "
                f"run `marketplace migrate`.")



def _database(database):
    """The Database itself, through the shop's proxy."""
    database = database if database is not None else models.db
    while isinstance(database, Proxy):
        database = database.obj
    return database


def _baseline_tables():
    return importlib.import_module("shop.migrations.0001_baseline").TABLES


def status(database=None, migrations=None):
    """Where `database` (default the shop's) stands against the migrations of this code."""
    database = _database(database)
    migrations = available() if migrations is None else migrations
    head = migrations[-1].version if migrations else 0
    with database.bind_ctx([SchemaVersion]), _connection(database):
        tables = set(database.get_tables())
        if SchemaVersion._meta.table_name not in tables:
            baseline = {t._meta.table_name for t in _baseline_tables()}
            state = State.UNVERSIONED if tables & baseline else State.EMPTY
            return Status(state, None, head, tuple(migrations))
        applied = {row.version for row in SchemaVersion.select(SchemaVersion.version)}
    known = {m.version for m in migrations}
    version = max(applied) if applied else None
    unknown = tuple(sorted(applied - known))
    pending = tuple(m for m in migrations if m.version not in applied)
    if unknown:
        return Status(State.AHEAD, version, head, pending, unknown)
    if pending:
        return Status(State.BEHIND if applied else State.EMPTY, version, head, pending)
    return Status(State.CURRENT, version, head)


def require_current(database=None):
    """Raise SchemaMismatch (one line: what to run) unless the schema is the one this code needs."""
    problem = status(database).problem()
    if problem:
        raise SchemaMismatch(problem)


def refuse_to_start_unless_current():
    """The start-up check of the web app and the consumer: exit with the one line if the schema
    does not match. Called where they start, never on import (tests import them first)."""
    if models.db.obj is None:
        models.init_db()
    try:
        require_current()
    except SchemaMismatch as exc:
        raise SystemExit(f"Refusing to start: {exc}") from None
    finally:
        # The check runs in gunicorn's master and the consumer's main process, which then
        # fork: no pooled connection of theirs may be inherited by the children.
        models.close_all(models.db.obj)


# ---------------------------------------------------------------------------
# Migrating
# ---------------------------------------------------------------------------


@contextmanager
def _printed_sql(out):
    """Print every statement peewee sends while the block runs (peewee logs each at DEBUG)."""

    class Printer(logging.Handler):
        def emit(self, record):
            sql, params = record.msg if isinstance(record.msg, tuple) else (record.getMessage(), None)
            sql = sql.strip().rstrip(";")
            if not TRANSACTION_CONTROL.match(sql):  # the dry run's own savepoints
                out(f"    {sql};" + (f"  -- {list(params)}" if params else ""))

    logger = logging.getLogger("peewee")
    handler, level, propagate = Printer(logging.DEBUG), logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate


@contextmanager
def _not_executed(database):
    """Statements of a migration that runs outside a transaction are printed, not run, by --dry-run."""
    def record(sql, params=None, *args, **kwargs):
        logging.getLogger("peewee").debug((sql, params))
        return database.cursor()  # an idle cursor: such migrations read nothing back

    database.execute_sql = record
    try:
        yield
    finally:
        del database.execute_sql  # the method of the class again


def is_sqlite(database):
    return type(database).__name__.lower().startswith("sqlite")


def backup_before_migrating(database):
    """A copy of the SQLite file as it is now, under DATA_DIR/backups; returns its path."""
    from shop.operations import backup

    folder = config.DATA_DIR / "backups"
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")
    target = folder / f"before-migration-{stamp}.db"
    backup.backup_sqlite(Path(database.database), target)
    return target


def _record(database, migration):
    with database.bind_ctx([SchemaVersion]):
        SchemaVersion.create_table(safe=True)
        SchemaVersion.create(version=migration.version, name=migration.name)


def _check_foreign_keys(database):
    """SQLite runs a migration with foreign keys off (a table rebuild would cascade); whatever
    the migration did must still satisfy them before it commits."""
    broken = database.execute_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise MigrationError(f"the migration left {len(broken)} rows whose foreign keys point nowhere "
                             f"(first: table {broken[0][0]}, row {broken[0][1]})")


def _apply(database, migrator, migration):
    try:
        if migration.atomic:
            with migrator.migration_context(atomic=True):
                if not is_sqlite(database):
                    # An ALTER waits for the table's lock, and every query of the shop then
                    # queues behind it: give up instead (nothing changed; run it again).
                    database.execute_sql(f"SET LOCAL lock_timeout = '{POSTGRES_LOCK_TIMEOUT}'")
                migration.upgrade(migrator, database)
                if is_sqlite(database):
                    _check_foreign_keys(database)
                _record(database, migration)
            return
        migration.upgrade(migrator, database)
    except Exception as exc:
        outcome = ("was rolled back: the database is as it was before it" if migration.atomic else
                   "ran outside a transaction: whatever it finished stays (an interrupted CREATE INDEX "
                   "CONCURRENTLY leaves an INVALID index to drop)")
        raise MigrationError(f"{migration.label} failed and {outcome} ({type(exc).__name__}: {exc})") from exc
    with database.atomic():
        _record(database, migration)


def _adopt_baseline(database, out, dry_run):
    """Record a shop made by release 0.1.0 at the baseline, after checking it has the baseline's
    tables and columns (an older shop's would lack some, and no migration would add them)."""
    tables = set(database.get_tables())
    missing = []
    for table in _baseline_tables():
        name = table._meta.table_name
        if name not in tables:
            missing.append(name)
            continue
        columns = {c.name for c in database.get_columns(name)}
        missing.extend(f"{name}.{f.column_name}" for f in table._meta.sorted_fields if f.column_name not in columns)
    if missing:
        raise MigrationError(f"the database has some of the shop's tables but not release {BASELINE_RELEASE}'s "
                             f"schema (missing: {', '.join(missing[:8])}): it predates that release, "
                             f"and no migration brings a shop that old up to date")
    out(f"The tables were made by release {BASELINE_RELEASE}: recording them as version {BASELINE:04d} "
        f"(baseline) without changing them.")
    if not dry_run:
        with database.atomic():
            _record(database, Migration(BASELINE, "baseline", None))


def migrate(database=None, migrations=None, dry_run=False, out=print):
    """Apply every pending migration in order; returns the labels applied (or that would be).

    dry_run prints each statement inside a transaction that is then rolled back:
    the database is not changed.
    """
    database = _database(database)
    migrations = available() if migrations is None else migrations
    with _connection(database):
        current = status(database, migrations)
        if current.state is State.AHEAD:
            raise SchemaMismatch(current.problem())
        if dry_run:
            with database.atomic() as transaction:
                applied = _migrate(database, migrations, current, True, out)
                transaction.rollback()
            out("Dry run: nothing was changed.")
            return applied
        return _migrate(database, migrations, current, False, out)


def _migrate(database, migrations, current, dry_run, out):
    if current.state is State.UNVERSIONED:
        _adopt_baseline(database, out, dry_run)
        current = Status(State.BEHIND, BASELINE, current.head, tuple(m for m in migrations if m.version > BASELINE))
    if not current.pending:
        out(f"The schema is up to date (version {current.version:04d}).")
        return []
    if is_sqlite(database) and not dry_run and current.state is not State.EMPTY:
        out(f"Backup of the database before migrating: {backup_before_migrating(database)}")
    migrator = SchemaMigrator.from_database(database)
    applied = []
    for migration in current.pending:
        out(f"{'Would apply' if dry_run else 'Applying'} {migration.label}: {migration.description}")
        if dry_run:
            _print_run(database, migrator, migration, out)
        else:
            _apply(database, migrator, migration)
        applied.append(migration.label)
    if not dry_run:
        out(f"The schema is at version {migrations[-1].version:04d}.")
    return applied


def _print_run(database, migrator, migration, out):
    with _printed_sql(out):
        if migration.atomic:
            with database.atomic():
                migration.upgrade(migrator, database)
        else:
            out("    -- runs outside a transaction (printed, not run):")
            with _not_executed(database):
                migration.upgrade(migrator, database)


@contextmanager
def _connection(database):
    """The open connection, or one opened for the block (and closed after it)."""
    opened = database.is_closed()
    if opened:
        database.connect()
    try:
        yield
    finally:
        if opened and not database.is_closed():
            database.close()


# ---------------------------------------------------------------------------
# The command
# ---------------------------------------------------------------------------


def print_listing(out=print):
    current = status()
    applied = {row.version: row.applied_at for row in _applied_rows()}
    for migration in available():
        when = applied.get(migration.version)
        if when is None and current.state is State.UNVERSIONED and migration.version == BASELINE:
            mark = f"as release {BASELINE_RELEASE} made it, not recorded yet"
        else:
            mark = f"applied {when:%Y-%m-%d %H:%M:%S} UTC" if when else "pending"
        out(f"  {migration.label:<32} {mark:<44} {migration.description}")
    for version in current.unknown:
        out(f"  {version:04d} (unknown to this code: applied by a newer release)")
    out(current.problem() or f"The schema is up to date (version {current.version:04d}).")


def _applied_rows():
    database = _database(None)
    with database.bind_ctx([SchemaVersion]), _connection(database):
        if SchemaVersion._meta.table_name not in database.get_tables():
            return []
        return list(SchemaVersion.select().order_by(SchemaVersion.version))


def cmd_migrate(args):
    models.init_db()
    if args.list:
        print_listing()
        return 0
    try:
        migrate(dry_run=args.dry_run)
    except (SchemaMismatch, MigrationError) as exc:
        print(f"Migration failed: {exc}" if isinstance(exc, MigrationError) else f"Nothing was migrated: {exc}",
              file=sys.stderr)
        return 1
    return 0


def add_command(commands):
    parser = commands.add_parser(
        "migrate", help="apply the schema migrations this release brings (see DEPLOY.md)",
        description="Apply the pending schema migrations in order, each in one transaction. On SQLite a "
                    "copy of the database file is taken first, under DATA_DIR/backups.")
    options = parser.add_mutually_exclusive_group()
    options.add_argument("--list", action="store_true", help="list the migrations and which are applied")
    options.add_argument("--dry-run", action="store_true",
                         help="print the SQL the pending migrations would run, and change nothing")
    parser.set_defaults(func=cmd_migrate)
