"""The hourly roll-up of finished jobs (job_hour), filled from the minutes already rolled up.

job_hour holds each job name's and queue's minutes added up by the hour, which the
metrics of the last day and week read instead of every minute. New table; no existing
table changes.

The roll-up keeps the hours in step with the minutes from then on: it adds to job_hour
in the same transaction as to job_minute, up to a watermark of the hours' own
(job_flag "metrics:hours-to"), written here as the minutes' watermark, since the
minutes filled in here are exactly those below it.
"""

from peewee import CharField, FloatField, IntegerField, Model


class JobHour(Model):
    hour = IntegerField()
    name = CharField()
    queue = CharField()
    completed = IntegerField(default=0)
    failed = IntegerField(default=0)
    duration_sum = FloatField(default=0.0)
    duration_count = IntegerField(default=0)
    duration_max = FloatField(default=0.0)
    wait_sum = FloatField(default=0.0)
    wait_count = IntegerField(default=0)
    wait_max = FloatField(default=0.0)

    class Meta:
        table_name = "job_hour"
        legacy_table_names = False
        indexes = ((("hour", "name", "queue"), True),)


def upgrade(migrator, db):
    with db.bind_ctx([JobHour]):
        db.create_tables([JobHour])
    # The hours' watermark first, then only the minutes below it: a consumer of the previous
    # release may roll up another minute meanwhile (on PostgreSQL each statement sees what
    # has committed when it starts), and the new code's next roll-up adds that one.
    db.execute_sql(
        'INSERT INTO "job_flag" ("key", "value", "updated_at") '
        'SELECT \'metrics:hours-to\', "value", "updated_at" FROM "job_flag" WHERE "key" = \'metrics:rolled-up-to\'')
    # Minutes rolled up before the wait was recorded have none (NULL): they add nothing to it.
    db.execute_sql(
        'INSERT INTO "job_hour" ("hour", "name", "queue", "completed", "failed", "duration_sum", '
        '"duration_count", "duration_max", "wait_sum", "wait_count", "wait_max") '
        'SELECT "minute" / 60, "name", "queue", SUM("completed"), SUM("failed"), SUM("duration_sum"), '
        'SUM("duration_count"), MAX("duration_max"), COALESCE(SUM("wait_sum"), 0.0), '
        'COALESCE(SUM("wait_count"), 0), COALESCE(MAX("wait_max"), 0.0) '
        'FROM "job_minute" WHERE "minute" < (SELECT CAST("value" AS INTEGER) FROM "job_flag" '
        'WHERE "key" = \'metrics:hours-to\') GROUP BY "minute" / 60, "name", "queue"')
