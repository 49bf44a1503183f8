"""An index on the job table by name, for the search of jobs by name.

Built outside a transaction, CONCURRENTLY on PostgreSQL, so that a shop with a
long job table keeps taking and finishing jobs while it is built. A concurrent
build that was interrupted leaves an invalid index behind, which IF NOT EXISTS
would keep; so on PostgreSQL a run of this migration (which is recorded only once
it has succeeded) drops any index of that name first and builds it again.
"""

from shop.operations.schema import is_sqlite

atomic = False


def upgrade(migrator, db):
    if is_sqlite(db):
        db.execute_sql('CREATE INDEX IF NOT EXISTS "job_name_id" ON "job" ("name", "id")')
        return
    db.execute_sql('DROP INDEX CONCURRENTLY IF EXISTS "job_name_id"')
    db.execute_sql('CREATE INDEX CONCURRENTLY "job_name_id" ON "job" ("name", "id")')
