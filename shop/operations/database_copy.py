"""`marketplace copy-database URL`: move the shop's data to another database,
typically from the SQLite file to PostgreSQL when the shop grows.

The target gets its tables from the migrations, as any new shop does (so it
has the source's schema version), then every table the app knows is filled
row by row through its model, parents before children, in one transaction:
the target ends up with all of it or none of it. On PostgreSQL the id
sequences are then moved past the copied ids, so new rows do not collide.

Queue messages are not copied: they are doorbells. Jobs still waiting are rows
of the job table, which is copied, and the first consumer on the new settings
rings them again (sweeper.ring_missing).

Stop the web app and the consumers first: rows written during the copy would
stay behind.
"""

import sys

from peewee import AutoField, BigAutoField, sort_models
from playhouse.db_url import connect as connect_url

from shop import config
import models
from shop.errors import DatabaseCopyError
from shop.operations import schema

BATCH = 500


def _open(url):
    if url.startswith("sqlite"):
        return connect_url(url, pragmas=models.SQLITE_PRAGMAS, timeout=15)
    return connect_url(url)


def all_tables():
    """Every model, parents before the tables that refer to them."""
    return sort_models(models.all_models())


def _count(database, model):
    with database.bind_ctx([model], bind_refs=False, bind_backrefs=False):
        return model.select().count()


def _reset_sequences(database, tables):
    """PostgreSQL hands out ids from sequences, which a copy with explicit ids leaves at 1."""
    for model in tables:
        pk = model._meta.primary_key
        if isinstance(pk, (AutoField, BigAutoField)):
            table, column = model._meta.table_name, pk.column_name
            database.execute_sql(
                f'SELECT setval(pg_get_serial_sequence(%s, %s), COALESCE(MAX("{column}"), 1), '
                f'MAX("{column}") IS NOT NULL) FROM "{table}"', (f'"{table}"', column))


def copy_database(source_url, target_url, report=lambda model, rows: None):
    """Copy every table from `source_url` into the empty database `target_url`; returns {table: rows}."""
    if source_url == target_url:
        raise DatabaseCopyError("the source and the target are the same database")
    tables = all_tables()
    source, target = _open(source_url), _open(target_url)
    copied = {}
    try:
        problem = schema.status(source).problem()
        if problem:
            raise DatabaseCopyError(f"the source is not at this code's schema: {problem}")
        schema.migrate(target, out=lambda line: None)
        with target.bind_ctx(tables, bind_refs=False, bind_backrefs=False):
            # Only tables no migration makes are left to create (none in a shop; a test's own).
            target.create_tables(tables, safe=True)
        for model in tables:
            rows = _count(target, model)
            if rows:
                raise DatabaseCopyError(f"the target already holds data ({rows} rows in "
                                        f"{model._meta.table_name}); copy into an empty database")
        with target.atomic():
            for model in tables:
                copied[model._meta.table_name] = _copy_table(source, target, model)
                report(model, copied[model._meta.table_name])
            if target.__class__.__name__.startswith("Postgres"):
                _reset_sequences(target, tables)
    finally:
        source.close()
        target.close()
    return copied


def _copy_table(source, target, model):
    order = [model._meta.primary_key] if model._meta.primary_key else list(model._meta.sorted_fields)
    page, total = 1, 0
    while True:
        with source.bind_ctx([model], bind_refs=False, bind_backrefs=False):
            rows = list(model.select().order_by(*order).paginate(page, BATCH).dicts())
        if not rows:
            return total
        with target.bind_ctx([model], bind_refs=False, bind_backrefs=False):
            model.insert_many(rows).execute()
        total += len(rows)
        page += 1


def cmd_copy_database(args):
    source = args.source or config.DATABASE_URL
    print(f"Copying {source} to {args.target}")
    try:
        copy_database(source, args.target,
                      report=lambda model, rows: print(f"  {model._meta.table_name}: {rows} rows"))
    except DatabaseCopyError as exc:
        print(f"Nothing copied: {exc}", file=sys.stderr)
        return 1
    print("Done. Point DATABASE_URL at the new database and start the shop again.")
    return 0


def add_command(commands):
    parser = commands.add_parser(
        "copy-database", help="copy every table into another (empty) database, e.g. PostgreSQL",
        description="Copy all data into an empty database (typically from SQLite to PostgreSQL). "
                    "Stop the web app and the consumers first.")
    parser.add_argument("target", help="the empty target, e.g. postgresql://user:password@host/db")
    parser.add_argument("--from", dest="source", help="the source (default DATABASE_URL)")
    parser.set_defaults(func=cmd_copy_database)
