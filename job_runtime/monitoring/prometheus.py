"""/metrics in Prometheus' text format, computed from the database on every scrape.

The web app runs as several gunicorn processes and the jobs run in other
processes again, so counters kept in one process's memory would each tell a
part of the story. Every figure here is read from the database instead, the
source of truth: the workload from the job records, the counters and the
runtime histogram from metrics.py's roll-ups plus the live tail. A custom
collector on a fresh registry per scrape turns them into metric families, and
prometheus-client writes the exposition format.
"""

import datetime
import math

from peewee import fn
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

from job_runtime import control
from job_runtime.monitoring import dashboard
from job_runtime.monitoring import metrics
from job_runtime import stats
from job_runtime.models import FailedJob
from job_runtime.models import utcnow
from job_runtime.backends import QUEUES

PREFIX = "marketplace"


def _bound(value):
    return "+Inf" if math.isinf(value) else repr(float(value))


class QueueCollector:
    """One scrape's worth of queue figures, read when prometheus-client asks."""

    def __init__(self, now=None):
        self.now = now

    def describe(self):
        # Nothing to describe ahead of a scrape: the registry must not call collect() to learn the names.
        return []

    def collect(self):
        now = self.now or utcnow()
        workload = stats.workload()
        paused = set(control.paused_queues())

        depth = GaugeMetricFamily(f"{PREFIX}_queue_depth", "Jobs due now and waiting for a worker.",
                                  labels=["queue"])
        scheduled = GaugeMetricFamily(f"{PREFIX}_queue_scheduled_jobs", "Jobs waiting for a later time.",
                                      labels=["queue"])
        running = GaugeMetricFamily(f"{PREFIX}_queue_running_jobs", "Jobs running now.", labels=["queue"])
        oldest = GaugeMetricFamily(f"{PREFIX}_queue_oldest_pending_age_seconds",
                                   "How long the oldest due job of the queue has waited (0 when none).",
                                   labels=["queue"])
        paused_metric = GaugeMetricFamily(f"{PREFIX}_queue_paused", "1 when the queue is paused.",
                                          labels=["queue"])
        for queue in sorted(set(QUEUES) | set(workload)):
            figures = workload.get(queue, {"pending": 0, "scheduled": 0, "running": 0,
                                           "oldest_pending_seconds": 0.0})
            depth.add_metric([queue], figures["pending"])
            scheduled.add_metric([queue], figures["scheduled"])
            running.add_metric([queue], figures["running"])
            oldest.add_metric([queue], round(figures["oldest_pending_seconds"], 3))
            paused_metric.add_metric([queue], 1 if queue in paused else 0)
        yield from (depth, scheduled, running, oldest, paused_metric)

        # The wait of the jobs that finished in the past hour (from due to claimed), per queue.
        hour = {row["queue"]: row for row in metrics.window(now - datetime.timedelta(hours=1), group=("queue",),
                                                            now=now)}
        wait_avg = GaugeMetricFamily(f"{PREFIX}_queue_wait_seconds_past_hour",
                                     "Average wait between due and claimed of the jobs finished in the past hour "
                                     "(0 when none).", labels=["queue"])
        wait_max = GaugeMetricFamily(f"{PREFIX}_queue_wait_max_seconds_past_hour",
                                     "Longest wait between due and claimed of the jobs finished in the past hour.",
                                     labels=["queue"])
        for queue in sorted(set(QUEUES) | set(hour)):
            row = hour.get(queue) or {}
            wait_avg.add_metric([queue], round(row.get("avg_wait") or 0.0, 3))
            wait_max.add_metric([queue], round(row.get("wait_max") or 0.0, 3))
        yield from (wait_avg, wait_max)

        processed = CounterMetricFamily(f"{PREFIX}_jobs_processed",
                                        "Jobs finished, completed or failed after their last attempt.",
                                        labels=["job", "queue"])
        failed = CounterMetricFamily(f"{PREFIX}_jobs_failed", "Jobs failed after their last attempt.",
                                     labels=["job", "queue"])
        duration = HistogramMetricFamily(f"{PREFIX}_job_duration_seconds",
                                         "Runtime of the last attempt of each finished job.",
                                         labels=["job", "queue"])
        for total in metrics.totals(now):
            labels = [total["name"], total["queue"]]
            processed.add_metric(labels, total["completed"] + total["failed"])
            failed.add_metric(labels, total["failed"])
            buckets = [(_bound(bound), count) for bound, count in zip(metrics.BUCKETS, total["le_counts"])]
            buckets.append(("+Inf", total["duration_count"]))
            duration.add_metric(labels, buckets, sum_value=total["duration_sum"])
        yield from (processed, failed, duration)

        workers = dashboard.workers(now)
        live = [w for w in workers if not w["stale"]]
        # A plain total as well as one per host: with no worker alive anywhere there is no host to label,
        # and `marketplace_workers_alive == 0` is the alert to have.
        yield GaugeMetricFamily(f"{PREFIX}_workers_alive", "Workers whose heartbeat is recent, on every host.",
                                value=len(live))
        per_host = GaugeMetricFamily(f"{PREFIX}_workers_alive_on_host", "Workers whose heartbeat is recent.",
                                     labels=["host"])
        for host in sorted({w["host"] for w in live}):
            per_host.add_metric([host], sum(1 for w in live if w["host"] == host))
        yield per_host
        memory = GaugeMetricFamily(f"{PREFIX}_worker_resident_memory_bytes",
                                   "Resident memory of each live worker process (threads of one process share it).",
                                   labels=["host", "pid"])
        seen = set()
        for worker in live:
            key = (worker["host"], worker["pid"])
            if key not in seen:
                seen.add(key)
                memory.add_metric([worker["host"], str(worker["pid"])], worker["rss_bytes"])
        yield memory

        store = GaugeMetricFamily(f"{PREFIX}_failed_jobs_stored",
                                  "Failed jobs kept in the failed-job store (retry or forget them).",
                                  labels=["queue"])
        counts = {queue: 0 for queue in QUEUES}
        for row in FailedJob.select(FailedJob.queue, fn.COUNT(FailedJob.id).alias("n")).group_by(FailedJob.queue).dicts():
            counts[row["queue"]] = row["n"]
        for queue, count in sorted(counts.items()):
            store.add_metric([queue], count)
        yield store


def exposition(now=None):
    """(body bytes, content type) for one scrape."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(QueueCollector(now))
    return generate_latest(registry), CONTENT_TYPE_LATEST
