"""Job tags and a search index for them; the wait of finished jobs in the per-minute roll-ups.

- job.tags: what a job concerns ("order:42"), as its declaration derives it
  from the arguments; nullable, so records written before have none.
- job_tag: one row per tag of a record, indexed by tag and record, which is
  what a search by tag reads.
- job_minute.wait_sum, wait_count, wait_max: how long the jobs that finished
  in a minute waited between becoming due and being claimed. Nullable, so a
  consumer of the previous release can still add minutes while the shop
  upgrades; the minutes rolled up before have no wait.
"""

from peewee import CharField, FloatField, IntegerField, Model, TextField


class JobTag(Model):
    tag = CharField()
    job_id = IntegerField()

    class Meta:
        table_name = "job_tag"
        legacy_table_names = False
        indexes = ((("tag", "job_id"), False), (("job_id",), False))


def upgrade(migrator, db):
    migrator.migrate(
        migrator.add_column("job", "tags", TextField(null=True)),
        migrator.add_column("job_minute", "wait_sum", FloatField(null=True)),
        migrator.add_column("job_minute", "wait_count", IntegerField(null=True)),
        migrator.add_column("job_minute", "wait_max", FloatField(null=True)),
    )
    with db.bind_ctx([JobTag]):
        db.create_tables([JobTag])
