"""The private attributes of Huey and peewee that the runtime relies on (job_runtime/compat.py).

One test per attribute: after an upgrade of either library, a failure here
names the attribute that changed, before a consumer meets it in production.
"""

import inspect
import logging
import signal
import threading

import pytest
from huey import MemoryHuey
from huey.consumer import Consumer as HueyConsumer
from huey.consumer import ConsumerStopped
from huey.storage import PostgresStorage, PriorityRedisStorage, SqliteStorage
from peewee import SqliteDatabase
from playhouse.pool import PooledSqliteDatabase

from job_runtime import compat


def consumer_of(cls=HueyConsumer, **options):
    return cls(MemoryHuey("compat"), workers=options.pop("workers", 1), **options)


# ---------------------------------------------------------------------------
# peewee
# ---------------------------------------------------------------------------


def test_peewee_pool_lock_and_condition_are_replaced_after_fork(tmp_path):
    database = PooledSqliteDatabase(str(tmp_path / "pool.db"), max_connections=4)
    assert isinstance(database._pool_lock, type(threading.RLock()))
    assert isinstance(database._pool_available, threading.Condition)
    database.connect()
    database.close()  # back to the pool
    old_lock = database._pool_lock
    compat.forget_pool_connections(database)
    assert database._pool_lock is not old_lock
    assert database._pool_available.acquire() and database._pool_lock._is_owned()
    database._pool_available.release()
    database.connect()  # a fresh connection from an empty pool
    assert database.execute_sql("select 1").fetchone() == (1,)
    database.close()


def test_a_database_without_a_pool_is_left_alone(tmp_path):
    database = SqliteDatabase(str(tmp_path / "plain.db"))
    compat.forget_pool_connections(database)
    assert not hasattr(database, "_pool_lock")


# ---------------------------------------------------------------------------
# Huey's storages
# ---------------------------------------------------------------------------


def test_sql_storage_connection_and_lock_are_replaced_after_fork(tmp_path):
    storage = SqliteStorage("compat", filename=str(tmp_path / "queue.db"))
    storage.enqueue(b"doorbell")
    assert storage._conn is not None and isinstance(storage.lock, type(threading.Lock()))
    old_lock = storage.lock
    compat.forget_storage_connection(storage)
    assert storage._conn is None and storage.lock is not old_lock
    assert storage.dequeue() == b"doorbell"  # it opens its own connection


def test_sqlite_storage_opens_connections_through_create_connection(tmp_path):
    opened = []

    class Probe(SqliteStorage):
        def _create_connection(self):
            opened.append(True)
            return super()._create_connection()

    Probe("compat", filename=str(tmp_path / "queue.db")).enqueue(b"x")
    assert opened


def test_postgres_storage_dequeues_through_its_private_dequeue():
    storage = PostgresStorage.__new__(PostgresStorage)
    storage.blocking = False
    storage._dequeue = lambda: b"doorbell"
    assert storage.dequeue() == b"doorbell"


def test_redis_priority_storage_prefixes_each_message_with_eight_bytes():
    added = {}

    class FakeRedis:
        def zadd(self, key, mapping):
            added.update(mapping)

    storage = PriorityRedisStorage.__new__(PriorityRedisStorage)
    storage.conn, storage.queue_key = FakeRedis(), "q"
    assert isinstance(storage, compat.REDIS_PRIORITY_STORAGE)
    storage.enqueue(b"doorbell", priority=20)
    (member,) = added
    assert len(member) == compat.REDIS_PRIORITY_PREFIX + len(b"doorbell")
    assert compat.strip_priority_prefix(member) == b"doorbell"
    assert f"[{compat.REDIS_PRIORITY_PREFIX}:]" in inspect.getsource(compat.REDIS_PRIORITY_STORAGE.dequeue)


# ---------------------------------------------------------------------------
# Huey's consumer
# ---------------------------------------------------------------------------


def test_consumer_logger():
    logger = compat.consumer_logger(consumer_of())
    assert isinstance(logger, logging.Logger) and logger.name == "huey.consumer"


def test_consumer_set_signal_handlers():
    consumer = consumer_of()
    before = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    try:
        compat.set_signal_handlers(consumer)
        for signum in before:
            assert signal.getsignal(signum) == consumer._handle_signal
    finally:
        for signum, handler in before.items():
            signal.signal(signum, handler)


def test_consumer_signal_state_is_what_its_signal_handler_sets():
    consumer = consumer_of()
    assert compat.pending_signal(consumer) is None
    consumer._handle_signal(signal.SIGHUP, None)  # Huey's own handler
    assert compat.pending_signal(consumer) == signal.SIGHUP and consumer._restart and consumer._graceful


def test_consumer_main_loop_acts_on_a_signal_set_from_outside():
    consumer = consumer_of()
    stops = []
    consumer.stop = lambda graceful=False: stops.append(graceful)
    compat.signal_consumer(consumer, signal.SIGINT, restart=False, graceful=True)
    with pytest.raises(ConsumerStopped):
        consumer.loop()
    assert stops == [True] and consumer._restart is False


def test_consumer_create_process_wraps_a_worker_in_a_named_thread():
    consumer = consumer_of()
    worker = consumer._create_worker()
    process = compat.create_worker_process(consumer, worker, "Worker-1r1")
    assert isinstance(process, threading.Thread) and process.name == "Worker-1r1"
    assert not process.is_alive()


def test_consumer_builds_its_workers_through_create_worker():
    built = []

    class Probe(HueyConsumer):
        def _create_worker(self):
            built.append(True)
            return super()._create_worker()

    consumer_of(Probe, workers=3)
    assert len(built) == 3


def test_consumer_graceful_stop_waits_through_join_workers():
    joined = []

    class Probe(HueyConsumer):
        def _join_workers(self):
            joined.append(True)
            return True

    consumer_of(Probe).stop(graceful=True)
    assert joined


def test_every_overridden_huey_method_exists():
    for cls, name in compat.HUEY_OVERRIDES:
        method = getattr(cls, name, None)
        assert callable(method), f"{cls.__name__}.{name} is gone"
        assert list(inspect.signature(method).parameters) == ["self"], f"{cls.__name__}.{name} changed"
