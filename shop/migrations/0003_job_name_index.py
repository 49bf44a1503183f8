"""An index on the job table by name, for the search of jobs by name.

Built outside a transaction, CONCURRENTLY on PostgreSQL, so that a shop with a
long job table keeps taking and finishing jobs while it is built.
"""

from shop.operations.schema import is_sqlite

atomic = False


def upgrade(migrator, db):
    concurrently = "" if is_sqlite(db) else " CONCURRENTLY"
    db.execute_sql(f'CREATE INDEX{concurrently} IF NOT EXISTS "job_name_id" ON "job" ("name", "id")')
