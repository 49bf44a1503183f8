"""Celery with a no-op task, for bench/peers.py (Redis broker, results off)."""

import os

from celery import Celery

QUEUE = os.environ.get("BENCH_PEER_QUEUE", "bench-celery")
app = Celery("bench", broker=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"))
app.conf.update(task_default_queue=QUEUE, task_ignore_result=True, worker_hijack_root_logger=False,
                broker_connection_retry_on_startup=True)


@app.task
def noop():
    pass
