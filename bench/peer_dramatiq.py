"""Dramatiq with a no-op actor, for bench/peers.py (Redis broker)."""

import os

import dramatiq
from dramatiq.brokers.redis import RedisBroker

QUEUE = os.environ.get("BENCH_PEER_QUEUE", "bench-dramatiq")
broker = RedisBroker(url=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"),
                     namespace=os.environ.get("BENCH_PEER_NAMESPACE", "bench-dramatiq"))
dramatiq.set_broker(broker)


@dramatiq.actor(queue_name=QUEUE, max_retries=0)
def noop():
    pass
