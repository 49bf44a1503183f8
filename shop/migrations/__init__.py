"""The shop's schema migrations, one module per version: NNNN_what_it_does.py.

`marketplace migrate` applies the ones a database has not had yet, in order,
and records each in the schema_version table (shop/operations/schema.py). A
module has:

- a docstring, whose first line `marketplace migrate --list` shows;
- upgrade(migrator, db): the change, written with playhouse.migrate's
  operations (`migrator.migrate(migrator.add_column("order", "note",
  TextField(null=True)))`), or plain SQL and queries for data (`db.execute_sql`);
  `db` is the database itself, `migrator` the SchemaMigrator for it;
- optionally `atomic = False`, for a change that PostgreSQL refuses inside a
  transaction (CREATE INDEX CONCURRENTLY). Such a module holds schema statements
  only, so that --dry-run can print them without running them, and each is safe
  to run again (IF NOT EXISTS), because a failure part-way is not rolled back:

      from shop.operations.schema import is_sqlite

      atomic = False

      def upgrade(migrator, db):
          concurrently = "" if is_sqlite(db) else " CONCURRENTLY"
          db.execute_sql(f'CREATE INDEX{concurrently} IF NOT EXISTS "job_name_created_at" '
                         f'ON "job" ("name", "created_at")')

Rules that keep an upgrade safe for the shop that runs it:
- Never edit a migration that has shipped; add the next one.
- Tables are frozen copies inside the migration, never the models of models.py,
  which will have changed by the time an old shop runs it.
- Add before you take away: a new column is nullable (or has a database default)
  so that consumers still on the previous release can keep inserting rows while
  the migration runs; a column is dropped one release after the code stopped
  using it.
- Each migration extends tests/test_migrations.py with rows of its own.
"""
