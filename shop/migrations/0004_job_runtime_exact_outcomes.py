"""Job runtime: last traceback and retry time on job records, batch callbacks dispatched once, failed-job ids never reused.

- job.last_traceback: the traceback of job.last_error, so that a job failed
  before an attempt could start is recorded with the error it really raised.
- job.retried_at: when `queue retry` put the job back.
- job_batch.catch_at, then_at, finally_at: when each callback was dispatched,
  so that retrying a failed job of a batch dispatches none of them twice.
- failed_job.id AUTOINCREMENT on SQLite, which otherwise reuses the ids of
  deleted rows. The table is rebuilt with every row and id kept. PostgreSQL's
  serial sequence never reuses an id: nothing to do there.
"""

from peewee import DateTimeField, TextField

from shop.operations.schema import is_sqlite

# The failed-job table as the baseline made it, with its key now AUTOINCREMENT.
FAILED_JOB_COLUMNS = ('"id", "uuid", "name", "queue", "payload", "encrypted", "exception_class", "message", '
                      '"traceback", "attempts", "chain_id", "chain_step", "chain_total", "batch_id", "failed_at"')
FAILED_JOB_TABLE = (
    'CREATE TABLE "failed_job_new" ("id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, "uuid" VARCHAR(255) NOT NULL, '
    '"name" VARCHAR(255) NOT NULL, "queue" VARCHAR(255) NOT NULL, "payload" TEXT NOT NULL, '
    '"encrypted" INTEGER NOT NULL, "exception_class" VARCHAR(255) NOT NULL, "message" TEXT NOT NULL, '
    '"traceback" TEXT NOT NULL, "attempts" INTEGER NOT NULL, "chain_id" VARCHAR(255), "chain_step" INTEGER, '
    '"chain_total" INTEGER, "batch_id" VARCHAR(255), "failed_at" DATETIME NOT NULL)')
FAILED_JOB_INDEXES = (
    'CREATE UNIQUE INDEX "failed_job_uuid" ON "failed_job" ("uuid")',
    'CREATE INDEX "failed_job_name" ON "failed_job" ("name")',
    'CREATE INDEX "failed_job_failed_at" ON "failed_job" ("failed_at")',
)


def upgrade(migrator, db):
    migrator.migrate(
        migrator.add_column("job", "last_traceback", TextField(null=True)),
        migrator.add_column("job", "retried_at", DateTimeField(null=True)),
        migrator.add_column("job_batch", "catch_at", DateTimeField(null=True)),
        migrator.add_column("job_batch", "then_at", DateTimeField(null=True)),
        migrator.add_column("job_batch", "finally_at", DateTimeField(null=True)),
    )
    # Batches already finished have had their callbacks: a retry must not dispatch them again.
    db.execute_sql('UPDATE "job_batch" SET "finally_at" = "finished_at" WHERE "finished_at" IS NOT NULL')
    db.execute_sql('UPDATE "job_batch" SET "catch_at" = "created_at" WHERE "failed_jobs" > 0')
    if is_sqlite(db):
        db.execute_sql(FAILED_JOB_TABLE)
        db.execute_sql(f'INSERT INTO "failed_job_new" ({FAILED_JOB_COLUMNS}) '
                       f'SELECT {FAILED_JOB_COLUMNS} FROM "failed_job"')
        db.execute_sql('DROP TABLE "failed_job"')
        db.execute_sql('ALTER TABLE "failed_job_new" RENAME TO "failed_job"')
        for statement in FAILED_JOB_INDEXES:
            db.execute_sql(statement)
