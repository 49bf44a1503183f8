"""Huey storages for each queue connection, able to take only some queues.

Queues (high, default, low) are priorities within one Huey queue. Huey's own
storages always take the highest priority waiting; `queue work --queue high`
needs a worker that takes only some of them, so each storage here can be told
which priorities it may dequeue. Unfiltered, they behave exactly like Huey's.
"""

from huey.storage import BaseStorage, PostgresStorage, PriorityRedisStorage, SqliteStorage

from job_runtime import compat

# Highest first. Huey runs higher priorities first.
PRIORITIES = {"high": 30, "default": 20, "low": 10}
QUEUE_OF_PRIORITY = {priority: queue for queue, priority in PRIORITIES.items()}
QUEUES = tuple(PRIORITIES)


class _Filtered:
    """`only_priorities`: None for every queue, or the priorities to take, highest first."""

    only_priorities = None

    def take_only(self, queues):
        self.only_priorities = (
            None if not queues or set(queues) == set(QUEUES)
            else sorted((PRIORITIES[q] for q in queues), reverse=True)
        )


class FilteredSqliteStorage(_Filtered, SqliteStorage):
    def _create_connection(self):  # a Huey internal (compat.HUEY_OVERRIDES)
        conn = super()._create_connection()
        # Messages are doorbells rebuilt by the sweeper from the job records, so the
        # queue file needs WAL's crash safety, not an fsync per message.
        conn.execute("pragma synchronous=NORMAL")
        return conn

    def dequeue(self):
        if self.only_priorities is None:
            return super().dequeue()
        marks = ",".join("?" * len(self.only_priorities))
        params = (self.name, *self.only_priorities)
        if not self.sql(f"select 1 from task where queue = ? and priority in ({marks}) limit 1",
                        params, results=True):
            return None
        with self.db(commit=True) as curs:
            curs.execute(f"select id, data from task where queue = ? and priority in ({marks}) "
                         "order by priority desc, id limit 1", params)
            row = curs.fetchone()
            if row is not None:
                curs.execute("delete from task where id = ?", (row[0],))
                if curs.rowcount == 1:
                    return row[1]
        return None


# Pops the first member whose score is one of ARGV (scores are -priority), atomically.
_POP_SCORES_LUA = """
for _, score in ipairs(ARGV) do
  local items = redis.call('ZRANGEBYSCORE', KEYS[1], score, score, 'LIMIT', 0, 1)
  if #items > 0 then
    redis.call('ZREM', KEYS[1], items[1])
    return items[1]
  end
end
return false
"""


class FilteredRedisStorage(_Filtered, PriorityRedisStorage):
    def take_only(self, queues):
        super().take_only(queues)
        if self.only_priorities is not None:
            # A blocking pop cannot filter; poll instead (the consumer backs off when idle).
            self.blocking = False
            self._pop_scores = self.conn.register_script(_POP_SCORES_LUA)

    def dequeue(self):
        if self.only_priorities is None:
            return super().dequeue()
        data = self._pop_scores(keys=[self.queue_key], args=[-p for p in self.only_priorities])
        return compat.strip_priority_prefix(data) if data else None


class FilteredPostgresStorage(_Filtered, PostgresStorage):
    def _dequeue(self):  # a Huey internal (compat.HUEY_OVERRIDES)
        if self.only_priorities is None:
            return super()._dequeue()
        with self.db() as curs:
            curs.execute(
                "delete from {t} where id = ("
                "select id from {t} where queue = %s and priority = any(%s) "
                "order by priority desc, id limit 1 for update skip locked) "
                "returning data".format(t=self.table_task),
                (self.name, list(self.only_priorities)),
            )
            row = curs.fetchone()
        return bytes(row[0]) if row is not None else None


class NotSetUpStorage(BaseStorage):
    """The storage of the queue before job_runtime.setup(): every use is refused, clearly."""

    def _refuse(self, *args, **kwargs):
        raise RuntimeError("the job runtime is not set up: call job_runtime.setup() before using the queue")

    enqueue = dequeue = queue_size = enqueued_items = flush_queue = _refuse
    add_to_schedule = read_schedule = schedule_size = scheduled_items = flush_schedule = _refuse
    put_data = peek_data = pop_data = has_data_for_key = put_if_empty = _refuse
    result_store_size = result_items = flush_results = _refuse
