"""What the job runtime is given at set-up, and holds for the life of the process.

The runtime reads nothing of the application around it: no settings module, no
environment, no tables but its own. The application calls `job_runtime.setup()`
with its database, a RuntimeSettings, a cipher for encrypted payloads and a
notifier for alerts, as Huey is configured by its constructor. Until then the
database handle is an uninitialised proxy and the queue refuses work.
"""

import dataclasses
import socket
from typing import Callable, Optional, Protocol

from peewee import DatabaseProxy, Proxy

# The runtime's handle on the application's database. Its tables (models.py) are
# bound to it; setup() points it at the application's database (or at the
# application's own proxy, which it then follows).
db = DatabaseProxy()

QUEUE_CONNECTIONS = ("sqlite", "redis", "postgres")


@dataclasses.dataclass(frozen=True)
class RuntimeSettings:
    """Every setting the runtime reads. The defaults are those of a small shop."""

    # Where Huey's doorbells go: "sqlite" (a file), "redis" or "postgres".
    queue_connection: str = "sqlite"
    queue_name: str = "jobs"
    sqlite_path: str = "queue.db"
    redis_url: str = "redis://127.0.0.1:6379/0"
    postgres_dsn: Optional[str] = None
    # Consumers: polling, sweeping, heartbeats, timeouts, caps.
    poll_max_delay: float = 0.25
    sweep_seconds: float = 15
    heartbeat_seconds: float = 5
    worker_stale_seconds: float = 30
    timeout_grace_seconds: float = 5
    worker_memory_mb: int = 0
    worker_max_seconds: int = 0
    hostname: str = dataclasses.field(default_factory=socket.gethostname)
    # On PostgreSQL, consumers commit without waiting for the disk.
    async_commit: bool = True
    # A job whose worker dies this many times is failed.
    max_lost: int = 10
    # Pruning of finished records and of the failed-job store.
    job_retention_hours: int = 24 * 7
    failed_retention_hours: int = 24 * 30
    # Queue alerts: a wait longer than this, a failure rate above this percent,
    # and how long before the same alert is sent again.
    alert_wait_seconds: float = 120
    alert_failure_rate: float = 20.0
    alert_cooldown_minutes: int = 30
    # How alerts name the application and where they send the reader.
    app_name: str = "Jobs"
    dashboard_url: Optional[str] = None

    def __post_init__(self):
        if self.queue_connection not in QUEUE_CONNECTIONS:
            raise ValueError(f"queue_connection must be one of {', '.join(QUEUE_CONNECTIONS)}, "
                             f"not {self.queue_connection!r}")
        if self.queue_connection == "postgres" and not self.postgres_dsn:
            raise ValueError("queue_connection 'postgres' needs postgres_dsn")


class Cipher(Protocol):
    """Encrypts the arguments of jobs declared with encrypted=True."""

    def encrypt(self, data: bytes) -> bytes: ...

    def decrypt(self, token: bytes) -> bytes: ...


# notifier(key, subject, text) -> how many people were told. The key is the same
# for a retry of the same notice, so a notifier that remembers keys sends it once.
Notifier = Callable[[str, str, str], int]


@dataclasses.dataclass
class State:
    settings: RuntimeSettings = dataclasses.field(default_factory=RuntimeSettings)
    cipher: Optional[Cipher] = None
    notifier: Optional[Notifier] = None
    # open_database(asynchronous_commit) reopens the application's database in a
    # consumer process (PostgreSQL consumers ask for asynchronous commits).
    open_database: Optional[Callable[[bool], object]] = None
    # Called once when a consumer starts; raises SystemExit to refuse (see setup()).
    startup_check: Optional[Callable[[], None]] = None
    ready: bool = False


state = State()


def settings():
    return state.settings


def database():
    """The Database object itself, through any proxies in front of it."""
    database_ = db.obj
    while isinstance(database_, Proxy):
        database_ = database_.obj
    return database_


def is_sqlite():
    return type(database()).__name__.lower().startswith("sqlite")


def placeholder():
    """The database's parameter placeholder ("?" on SQLite, "%s" on PostgreSQL)."""
    return database().param
