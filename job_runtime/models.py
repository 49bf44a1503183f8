"""Tables of the job runtime, in the application database.

A JobRecord is written, and committed, before its message is put on the Huey
queue; the message is only a doorbell that names the record. So the database
always knows every job, and a message lost with a killed worker or a Redis
restart is rung again by the sweeper (see sweeper.py).
"""

from peewee import (
    AutoField,
    BooleanField,
    Model,
    CharField,
    DateTimeField,
    FloatField,
    IntegerField,
    NodeList,
    SQL,
    SqliteDatabase,
    TextField,
)

import datetime
import json

from job_runtime.context import db



def utcnow():
    """Every time the runtime writes is naive UTC."""
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


class JSONField(TextField):
    """JSON text that reads back as Python values on SQLite and PostgreSQL alike."""

    def db_value(self, value):
        return None if value is None else json.dumps(value, separators=(",", ":"), sort_keys=True)

    def python_value(self, value):
        return None if value is None else json.loads(value)


class NeverReusedIdField(AutoField):
    """An id never handed out twice, so `queue retry ID` from an old listing cannot hit another row.

    SQLite gives a new row the highest id in use plus one, which reuses the ids
    of rows deleted at the end of the table, unless the key is AUTOINCREMENT.
    PostgreSQL's serial sequence never goes back on its own.
    """

    def ddl(self, ctx):
        node_list = super().ddl(ctx)
        database = self.model._meta.database
        if isinstance(getattr(database, "obj", database), SqliteDatabase):
            return NodeList((node_list, SQL("AUTOINCREMENT")))
        return node_list


class BaseModel(Model):
    class Meta:
        database = db
        legacy_table_names = False


JOB_STATES = ("pending", "running", "completed", "failed", "cancelled")


class JobRecord(BaseModel):
    uuid = CharField(unique=True)
    name = CharField()
    queue = CharField()
    # JSON [args, kwargs]; a Fernet token instead when the job is encrypted.
    payload = TextField()
    encrypted = BooleanField(default=False)
    state = CharField(default="pending")
    attempts = IntegerField(default=0)
    exceptions = IntegerField(default=0)
    # Attempts cut short by a dead worker; they do not count against `tries`.
    lost = IntegerField(default=0)
    # "pending" and available_at in the future is what the dashboard calls scheduled.
    available_at = DateTimeField(default=utcnow)
    enqueued_at = DateTimeField(null=True)
    reserved_at = DateTimeField(null=True)
    reserved_by = CharField(null=True)
    # A fresh token per attempt: only the holder may record the attempt's outcome,
    # so a worker that lost its job (timeout, sweep) cannot overwrite a newer one.
    reservation = CharField(null=True)
    finished_at = DateTimeField(null=True)
    duration = FloatField(null=True)
    last_error = TextField(null=True)
    # The traceback of last_error: a job failed before an attempt could start
    # (past retry_until, out of attempts) is recorded with the error it really raised.
    last_traceback = TextField(null=True)
    # When the failed store put the job back (`queue retry`): it runs even if its
    # batch was cancelled meanwhile, because someone asked for it by name.
    retried_at = DateTimeField(null=True)
    retry_until = DateTimeField(null=True)
    unique_key = CharField(null=True)
    chain_id = CharField(null=True)
    chain_step = IntegerField(null=True)
    chain_total = IntegerField(null=True)
    chain_rest = JSONField(null=True)  # the steps still to dispatch after this one
    batch_id = CharField(null=True)
    created_at = DateTimeField(default=utcnow)
    # What the job concerns ("order:42", "seller:7"), from its declaration's tags
    # (jobs.Job); shown on the job's page. The search goes through JobTag.
    tags = JSONField(null=True)

    class Meta:
        table_name = "job"
        # Every attempt updates a record twice, and each index on a changed row is
        # written again, so the job table keeps few indexes: the ones the claim, the
        # sweeper, the workload figures and pruning need.
        indexes = (
            (("state", "queue", "available_at"), False),
            (("finished_at",), False),
            # The search by name (monitoring/search.py). A job's name never changes,
            # so no claim or outcome writes this index again: it costs an insert only.
            (("name", "id"), False),
        )


# Most jobs are in no chain or batch; partial indexes cost those jobs nothing.
JobRecord.add_index(JobRecord.index(JobRecord.chain_id, where=JobRecord.chain_id.is_null(False)))
JobRecord.add_index(JobRecord.index(JobRecord.batch_id, where=JobRecord.batch_id.is_null(False)))


class JobTag(BaseModel):
    """One tag of one job record: the index a search by tag reads, newest job first.

    Rows are written with the record (dispatch.py) and go with it (retention.py).
    """

    tag = CharField()
    job_id = IntegerField()  # JobRecord.id

    class Meta:
        table_name = "job_tag"
        indexes = ((("tag", "job_id"), False), (("job_id",), False))


class FailedJob(BaseModel):
    """A job that used up its attempts: what `queue failed` lists and `queue retry` revives."""

    id = NeverReusedIdField()
    uuid = CharField(unique=True)
    name = CharField(index=True)
    queue = CharField()
    payload = TextField()
    encrypted = BooleanField(default=False)
    exception_class = CharField()
    message = TextField()
    traceback = TextField()
    attempts = IntegerField()
    chain_id = CharField(null=True)
    chain_step = IntegerField(null=True)
    chain_total = IntegerField(null=True)
    batch_id = CharField(null=True)
    failed_at = DateTimeField(default=utcnow, index=True)

    class Meta:
        table_name = "failed_job"


class Batch(BaseModel):
    id = CharField(primary_key=True)
    name = CharField(default="")
    total_jobs = IntegerField(default=0)
    pending_jobs = IntegerField(default=0)
    failed_jobs = IntegerField(default=0)
    failed_job_ids = JSONField(default=list)
    allow_failures = BooleanField(default=False)
    # Callbacks are jobs: {"then": [name, args, kwargs], "catch": ..., "finally": ...}.
    callbacks = JSONField(default=dict)
    cancelled_at = DateTimeField(null=True)
    finished_at = DateTimeField(null=True)
    # When each callback was dispatched: each is dispatched once in the batch's
    # life, however often its failed jobs are retried (see runner.batch_job_done).
    catch_at = DateTimeField(null=True)
    then_at = DateTimeField(null=True)
    finally_at = DateTimeField(null=True)
    created_at = DateTimeField(default=utcnow, index=True)

    class Meta:
        table_name = "job_batch"


class WorkerRecord(BaseModel):
    """One worker thread or process, as its last heartbeat described it."""

    id = CharField(primary_key=True)  # host:pid:worker-name
    host = CharField()
    pid = IntegerField()
    consumer_pid = IntegerField()
    queues = CharField(default="")
    started_at = DateTimeField(default=utcnow)
    last_beat_at = DateTimeField(default=utcnow, index=True)
    current_job = CharField(null=True)
    current_job_name = CharField(null=True)
    jobs_done = IntegerField(default=0)
    rss_bytes = IntegerField(default=0)
    stopped_at = DateTimeField(null=True)

    class Meta:
        table_name = "job_worker"


class QueueFlag(BaseModel):
    """Shared switches every worker reads: paused queues and the restart stamp."""

    key = CharField(primary_key=True)
    value = TextField()
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "job_flag"


class JobLock(BaseModel):
    """A named lock with an owner and an expiry, for overlap and uniqueness."""

    key = CharField(primary_key=True)
    owner = CharField()
    expires_at = DateTimeField()

    class Meta:
        table_name = "job_lock"


class JobCounter(BaseModel):
    """Counters in fixed time windows, for rate limits and exception throttles."""

    key = CharField()
    window = IntegerField()
    count = IntegerField(default=0)
    expires_at = DateTimeField(index=True)

    class Meta:
        table_name = "job_counter"
        primary_key = False
        indexes = ((("key", "window"), True),)


# The roll-ups of finished jobs read by the dashboard and /metrics (monitoring/metrics.py).


class JobMinute(BaseModel):
    """What finished in one minute, for one job name on one queue."""

    minute = IntegerField()  # minutes since the Unix epoch (UTC)
    name = CharField()
    queue = CharField()
    completed = IntegerField(default=0)
    failed = IntegerField(default=0)
    duration_sum = FloatField(default=0.0)
    duration_count = IntegerField(default=0)
    duration_max = FloatField(default=0.0)
    # How long the finished jobs waited between becoming due and being claimed
    # (their last attempt's), for the wait-time charts.
    # (their last attempt's), for the wait-time charts. Nullable, so that a consumer
    # of the previous release can still add minutes while a shop upgrades.
    wait_sum = FloatField(null=True, default=0.0)
    wait_count = IntegerField(null=True, default=0)
    wait_max = FloatField(null=True, default=0.0)

    class Meta:
        table_name = "job_minute"
        indexes = ((("minute", "name", "queue"), True),)


class JobHour(BaseModel):
    """What finished in one hour, for one job name on one queue: its minutes added up,
    kept beside them so the charts of a day or a week read a sixtieth of the rows."""

    hour = IntegerField()  # hours since the Unix epoch (UTC): the minutes hour * 60 to hour * 60 + 59
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
        indexes = ((("hour", "name", "queue"), True),)


class JobTotal(BaseModel):
    """Everything that ever finished, for one job name on one queue (the /metrics counters)."""

    name = CharField()
    queue = CharField()
    completed = IntegerField(default=0)
    failed = IntegerField(default=0)
    duration_sum = FloatField(default=0.0)
    duration_count = IntegerField(default=0)
    # Cumulative counts: le_counts[i] jobs took at most BUCKETS[i] seconds.
    le_counts = JSONField(default=list)

    class Meta:
        table_name = "job_total"
        indexes = ((("name", "queue"), True),)


MODELS = [JobRecord, JobTag, FailedJob, Batch, WorkerRecord, QueueFlag, JobLock, JobCounter, JobMinute, JobHour,
          JobTotal]
