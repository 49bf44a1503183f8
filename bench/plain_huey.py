"""Plain Huey, as a baseline: the same backend, Huey's own task decorator and consumer.

    huey_consumer bench.plain_huey.huey -w 4
"""

import os

from huey import PriorityRedisHuey, SqliteHuey

_backend = os.environ.get("BENCH_QUEUE", "sqlite")
_name = os.environ.get("BENCH_QUEUE_NAME", "bench-plain")
if _backend == "redis":
    huey = PriorityRedisHuey(_name, url=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"),
                             results=False)
else:
    huey = SqliteHuey(_name, filename=os.environ["BENCH_SQLITE_PATH"], results=False)


@huey.task()
def noop_task():
    pass
