"""No-op task throughput of Celery, RQ and Dramatiq on the same Redis, beside the
job runtime and plain Huey (from throughput.py), measured in one run.

    python bench/peers.py [--jobs 10000] [--workers 4] [--runs 1]

Each run enqueues N no-op tasks first, then starts the peer's worker with 4
threads (Celery: threads pool; RQ: a worker pool of 4 SimpleWorkers, RQ's
fastest; Dramatiq: one process with 4 threads) and times the drain until the
broker holds nothing. Logging is quiet everywhere.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
REDIS_URL = "redis://127.0.0.1:6379/0"
sys.path.insert(0, str(ROOT))


def _env(queue):
    env = dict(os.environ, PYTHONPATH=str(ROOT), BENCH_PEER_QUEUE=queue, BENCH_REDIS_URL=REDIS_URL,
               BENCH_PEER_NAMESPACE=queue)
    return env


def _timed_drain(command, env, remaining):
    worker = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    start = time.perf_counter()
    try:
        while remaining() > 0:
            if worker.poll() is not None:
                raise RuntimeError(f"{command[0]} exited early with {worker.returncode}")
            time.sleep(0.02)
        return time.perf_counter() - start
    finally:
        worker.send_signal(2)
        try:
            worker.wait(30)
        except subprocess.TimeoutExpired:
            worker.kill()


def run_celery(jobs, workers):
    queue = f"bench-celery-{uuid.uuid4().hex[:6]}"
    env = _env(queue)
    os.environ.update(env)
    import importlib

    import bench.peer_celery as peer

    importlib.reload(peer)
    start = time.perf_counter()
    for _ in range(jobs):
        peer.noop.delay()
    enqueue = jobs / (time.perf_counter() - start)
    conn = redis.Redis.from_url(REDIS_URL)
    elapsed = _timed_drain([str(BIN / "celery"), "-A", "bench.peer_celery", "worker", "--pool", "threads",
                            "-c", str(workers), "-Q", queue, "--loglevel", "WARNING", "--without-gossip",
                            "--without-mingle", "--without-heartbeat"], env, lambda: conn.llen(queue))
    conn.delete(queue)
    return jobs / elapsed, enqueue


def run_rq(jobs, workers):
    from rq import Queue

    queue_name = f"bench-rq-{uuid.uuid4().hex[:6]}"
    conn = redis.Redis.from_url(REDIS_URL)
    queue = Queue(queue_name, connection=conn)
    from bench.peer_rq import noop

    start = time.perf_counter()
    for _ in range(jobs):
        queue.enqueue(noop, result_ttl=0)
    enqueue = jobs / (time.perf_counter() - start)

    def remaining():
        return queue.count + queue.started_job_registry.count

    elapsed = _timed_drain([str(BIN / "rq"), "worker-pool", "-n", str(workers), "-w", "rq.worker.SimpleWorker",
                            "-u", REDIS_URL, "-q", queue_name], _env(queue_name), remaining)
    queue.delete(delete_jobs=True)
    return jobs / elapsed, enqueue


def run_dramatiq(jobs, workers):
    queue = f"bench-dramatiq-{uuid.uuid4().hex[:6]}"
    env = _env(queue)
    os.environ.update(env)
    import importlib

    import bench.peer_dramatiq as peer

    importlib.reload(peer)
    start = time.perf_counter()
    for _ in range(jobs):
        peer.noop.send()
    enqueue = jobs / (time.perf_counter() - start)
    conn = redis.Redis.from_url(REDIS_URL)
    msgs_key = f"{queue}:{queue}.msgs"
    elapsed = _timed_drain([str(BIN / "dramatiq"), "bench.peer_dramatiq", "-p", "1", "-t", str(workers)],
                           env, lambda: conn.hlen(msgs_key))
    for key in conn.scan_iter(f"{queue}:*"):
        conn.delete(key)
    return jobs / elapsed, enqueue


def run_huey(kind, jobs, workers):
    import bench.throughput as throughput

    return throughput.one_run(kind, "redis", "sqlite", jobs, workers)


PEERS = {
    "job runtime": lambda n, w: run_huey("runtime", n, w),
    "plain Huey": lambda n, w: run_huey("plain", n, w),
    "Celery (threads)": run_celery,
    "RQ (worker pool)": run_rq,
    "Dramatiq (1x threads)": run_dramatiq,
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=10000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    print(f"{args.jobs} no-op tasks on Redis, {args.workers} workers, median of {args.runs} run(s)")
    results = {name: [] for name in PEERS}
    for _ in range(args.runs):
        for name, run in PEERS.items():
            results[name].append(run(args.jobs, args.workers))
    ours = statistics.median(r[0] for r in results["job runtime"])
    for name, runs in results.items():
        drain = statistics.median(r[0] for r in runs)
        enqueue = statistics.median(r[1] for r in runs)
        print(f"  {name:<22} drain {drain:7.0f}/s   enqueue {enqueue:7.0f}/s   runtime / this: {ours / drain:5.2f}")


if __name__ == "__main__":
    main()
