"""Every private attribute of Huey and peewee that the runtime touches, in one place.

Each use has a test (tests/test_compat.py) that checks the attribute is still
there and still behaves as the runtime expects, so an upgrade of either
library that changes one fails one clear test rather than a consumer in
production.

Besides the functions below, the runtime overrides some of Huey's private
methods in its subclasses; HUEY_OVERRIDES names them, for the same tests.
"""

import threading

from huey.consumer import Consumer as HueyConsumer
from huey.storage import BaseSqlStorage, PostgresStorage, RedisPriorityQueue, SqliteStorage

# (Huey class, private method) pairs that the runtime's subclasses override:
# consumer.Consumer builds its workers and joins them its own way, and the
# storages of backends.py open their SQLite connection and dequeue from
# PostgreSQL their own way.
HUEY_OVERRIDES = (
    (HueyConsumer, "_create_worker"),
    (HueyConsumer, "_join_workers"),
    (SqliteStorage, "_create_connection"),
    (PostgresStorage, "_dequeue"),
)

# Huey's priority Redis storage keeps each message behind an ordering prefix of
# this many bytes; a storage that pops messages itself strips it, as Huey does.
REDIS_PRIORITY_PREFIX = 8
REDIS_PRIORITY_STORAGE = RedisPriorityQueue


def strip_priority_prefix(data):
    return data[REDIS_PRIORITY_PREFIX:]


# ---------------------------------------------------------------------------
# peewee
# ---------------------------------------------------------------------------


def forget_pool_connections(database):
    """In a forked child: drop the parent's pooled connections without touching them.

    The child inherits the pool's lock and its list of connections; using or
    closing the parent's sockets would break the parent's, so the pool starts
    empty. A database without a pool is left alone.
    """
    if not hasattr(database, "_pool_lock"):
        return
    database._pool_lock = threading.RLock()
    database._pool_available = threading.Condition(database._pool_lock)
    database.dispose()


# ---------------------------------------------------------------------------
# Huey's storages
# ---------------------------------------------------------------------------


def forget_storage_connection(storage):
    """In a forked child: a SQL storage opens its own connection instead of its parent's."""
    if isinstance(storage, BaseSqlStorage):
        storage._conn = None
        storage.lock = threading.Lock()


# ---------------------------------------------------------------------------
# Huey's consumer
# ---------------------------------------------------------------------------


def consumer_logger(consumer):
    """The logger Huey's consumer writes its own lines to ("huey.consumer")."""
    return consumer._logger


def set_signal_handlers(consumer):
    """Install Huey's SIGINT/SIGTERM/SIGHUP handlers now (Huey does it late in start())."""
    consumer._set_signal_handlers()


def pending_signal(consumer):
    """The signal the consumer's main loop is about to act on, or None."""
    return consumer._signum


def signal_consumer(consumer, signum, restart, graceful):
    """Make the consumer's main loop act as if `signum` had arrived: stop or restart,
    after the running jobs (graceful) or at once."""
    consumer._signum, consumer._restart, consumer._graceful = signum, restart, graceful


def create_worker_process(consumer, worker, name):
    """A thread (or process) that runs `worker`'s loop the way Huey runs its own workers."""
    return consumer._create_process(worker, name)
