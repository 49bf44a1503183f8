"""The shop's set-up of the job runtime: its database, its settings, its cipher,
and its admins as the people queue alerts go to.

Every process that dispatches or runs jobs calls `setup_job_runtime()` once the
settings are loaded, through tasks.start() (the consumer, the web app, the
`marketplace` command); the test suite calls it again for every test's database
and queue.
"""

import job_runtime
import models
from job_runtime import killable
from shop import config, mail, security
from shop.operations import schema


def runtime_settings():
    """The runtime's settings, from the shop's."""
    postgres_dsn = None
    if config.QUEUE_CONNECTION == "postgres":
        postgres_dsn = "postgresql://" + config.DATABASE_URL.partition("://")[2]
    return job_runtime.RuntimeSettings(
        queue_connection=config.QUEUE_CONNECTION,
        queue_name=config.QUEUE_NAME,
        sqlite_path=str(config.QUEUE_SQLITE_PATH),
        redis_url=config.REDIS_URL,
        postgres_dsn=postgres_dsn,
        poll_max_delay=config.QUEUE_POLL_MAX_DELAY,
        sweep_seconds=config.QUEUE_SWEEP_SECONDS,
        heartbeat_seconds=config.QUEUE_HEARTBEAT_SECONDS,
        worker_stale_seconds=config.QUEUE_WORKER_STALE_SECONDS,
        timeout_grace_seconds=config.QUEUE_TIMEOUT_GRACE_SECONDS,
        worker_memory_mb=config.QUEUE_WORKER_MEMORY_MB,
        worker_max_seconds=config.QUEUE_WORKER_MAX_SECONDS,
        hostname=config.QUEUE_HOSTNAME,
        async_commit=config.QUEUE_ASYNC_COMMIT,
        max_lost=config.QUEUE_MAX_LOST,
        job_retention_hours=config.QUEUE_JOB_RETENTION_HOURS,
        failed_retention_hours=config.QUEUE_FAILED_RETENTION_HOURS,
        alert_wait_seconds=config.ALERT_WAIT_SECONDS,
        alert_failure_rate=config.ALERT_FAILURE_RATE,
        alert_cooldown_minutes=config.ALERT_COOLDOWN_MINUTES,
        app_name=config.APP_NAME,
        dashboard_url=f"{config.APP_URL}/admin/queue",
    )


class JobPayloadCipher:
    """Fernet, keyed from APP_SECRET (security.encrypt), for jobs declared encrypted."""

    def encrypt(self, data):
        return security.encrypt(data)

    def decrypt(self, token):
        return security.decrypt(token)


# Where a notice goes beside the admins' mail: channel(key, subject, text) -> how many
# were told. tasks.py adds the chat webhook's (a job this module cannot import:
# the jobs are the layer above it).
alert_channels = []


def notify_admins(key, subject, text, channels=True):
    """Mail every admin once per key (the mailer remembers keys), and hand the notice to
    every alert channel unless told not to; returns how many were told."""
    sent = 0
    for admin in models.User.select().where(models.User.role == "admin").order_by(models.User.id):
        if mail.send(f"{key}:{admin.id}", admin.email, subject, text):
            sent += 1
    for channel in alert_channels if channels else ():
        sent += channel(key, subject, text)
    return sent


def open_database(asynchronous_commit=False):
    return models.init_db(config.DATABASE_URL, asynchronous_commit=asynchronous_commit)


def setup_job_runtime():
    """Point the job runtime at the shop's database and queue, as the settings say now."""
    if models.db.obj is None:
        models.init_db()
    # A consumer refuses a database whose schema is behind or ahead of this code.
    job_runtime.setup(models.db, runtime_settings(), cipher=JobPayloadCipher(), notifier=notify_admins,
                      open_database=open_database, startup_check=schema.refuse_to_start_unless_current)
    # What the killable children draw with: thumbnails and invoices.
    killable.preload("PIL.Image", "fpdf", "shop.catalog.images", "shop.orders.invoice_pdf", "shop.orders.invoice_fonts")
