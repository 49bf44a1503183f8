"""The consumer `huey_consumer tasks.huey` builds: Huey's own, plus what a
trustworthy worker needs and Huey does not have.

- Timeouts under thread workers. A watchdog raises JobTimeout in a job's thread
  when its time is up. Code blocked in a C call (a socket without a timeout, a
  long sleep) only sees it when the call returns, and no thread can be stopped
  from outside. If the job has not stopped timeout_grace_seconds later, its
  worker slot is handed to a fresh thread, but the attempt keeps the record
  running and reserved until the call returns and the timeout is recorded:
  only then is the job retried, so two attempts of one job never run at once.
  The heartbeat keeps naming the job as that thread's, so the sweeper leaves it
  alone; if the process dies, the sweeper takes the job back as for any dead
  worker. Under -k process the stuck worker process records the timeout and
  exits, and Huey starts another; the retry waits a second for it to be gone.
- Heartbeats: every worker writes host, pid, current job, jobs done and RSS.
- The sweeper (sweeper.py) at start-up and every sweep_seconds.
- `queue restart`, a memory cap and a maximum lifetime: the consumer finishes its
  running jobs and restarts itself in place, as Huey does on SIGHUP.
- Paused queues (checked in runner.execute) and queue filters (`--queue`).
- Options for `queue work`: once, stop_when_empty, max_jobs.

Huey's consumer internals it relies on are reached through compat.py.
"""

import logging
import os
import signal
import threading
import time

from huey.consumer import Consumer as HueyConsumer
from huey.consumer import Worker as HueyWorker
from peewee import DatabaseError

from job_runtime import compat, context, control, runner, sweeper, thread_state
from job_runtime.context import db
from job_runtime.doorbells import huey as runtime_huey
from job_runtime.errors import JobTimeout
from job_runtime.models import JobRecord, WorkerRecord, utcnow

log = logging.getLogger(__name__)

_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def rss_bytes():
    """Resident memory of this process."""
    try:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[1]) * _PAGE_SIZE
    except OSError:
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


# ---------------------------------------------------------------------------
# Per-process runtime: watchdog and heartbeat threads
# ---------------------------------------------------------------------------


class ProcessRuntime:
    """The watchdog and heartbeat of one process (the consumer, or one -k process worker)."""

    _instance = None
    _instance_lock = threading.Lock()

    @classmethod
    def get(cls, consumer):
        with cls._instance_lock:
            if cls._instance is None or cls._instance.pid != os.getpid():
                cls._instance = cls(consumer)
            return cls._instance

    def __init__(self, consumer):
        self.pid = os.getpid()
        self.consumer = consumer
        self.lock = threading.Lock()
        # Orders heartbeat writes against a worker being marked stopped.
        self.beat_lock = threading.Lock()
        self.workers = {}  # worker id -> Worker
        self.running = {}  # thread ident -> Attempt
        self.jobs_done = {}  # worker id -> count
        self.stopping = threading.Event()
        thread_state.attempt_started.append(self._started)
        thread_state.attempt_finished.append(self._finished)
        for target, name in ((self._watch, "Watchdog"), (self._beat, "Heartbeat")):
            threading.Thread(target=target, name=name, daemon=True).start()

    def add_worker(self, worker):
        with self.lock:
            self.workers[worker.worker_id] = worker
            self.jobs_done.setdefault(worker.worker_id, 0)
        self.write_heartbeat()

    def remove_worker(self, worker):
        # Under beat_lock: a heartbeat that had already listed this worker would
        # otherwise write its row back with stopped_at empty after this update.
        with self.beat_lock:
            with self.lock:
                self.workers.pop(worker.worker_id, None)
            try:
                WorkerRecord.update(stopped_at=utcnow(), current_job=None, current_job_name=None).where(
                    WorkerRecord.id == worker.worker_id).execute()
            except DatabaseError:
                log.warning("could not mark worker %s stopped", worker.worker_id)

    def _started(self, attempt):
        with self.lock:
            self.running[attempt.thread.ident] = attempt

    def _finished(self, attempt):
        with self.lock:
            if self.running.get(attempt.thread.ident) is attempt:
                del self.running[attempt.thread.ident]
            if attempt.worker_id in self.jobs_done:
                self.jobs_done[attempt.worker_id] += 1
        worker = self.workers.get(attempt.worker_id)
        if worker is not None:
            worker.jobs_done += 1

    # -- the watchdog ------------------------------------------------------

    def _watch(self):
        while not self.stopping.wait(0.1):
            now = time.monotonic()
            with self.lock:
                attempts = list(self.running.values())
            for attempt in attempts:
                if attempt.deadline is None or now < attempt.deadline or attempt.abandoned:
                    continue
                if not attempt.interrupted:
                    if not attempt.in_user_code:
                        continue  # its code has returned: only its outcome is being written
                    log.warning("job %s (%s) passed its %ss timeout; stopping it",
                                attempt.name, attempt.uuid, attempt.job.timeout)
                    attempt.interrupted_at = now
                    runner.interrupt_attempt(attempt, JobTimeout)
                elif now - attempt.interrupted_at >= context.state.settings.timeout_grace_seconds:
                    self._abandon(attempt)

    def _abandon(self, attempt):
        """The job ignored its timeout (blocked in C code): free its slot, not its record."""
        attempt.abandoned = True
        grace = context.state.settings.timeout_grace_seconds
        extra = {"job_uuid": attempt.uuid, "job_name": attempt.name, "queue": attempt.queue}
        if self.consumer.worker_type == "process":
            log.error("job %s (%s) did not stop %ss after its timeout; recording the timeout and "
                      "exiting its worker process", attempt.name, attempt.uuid, grace, extra=extra)
            try:
                runner.record_exception(attempt, JobTimeout(
                    f"{attempt.name} ran past its {attempt.job.timeout:g}s timeout and did not stop"), "",
                    not_before=1.0)
            except Exception:
                log.exception("could not record the timeout of job %s", attempt.uuid)
            os._exit(75)  # Huey's health check starts a fresh worker process
        # The attempt stays in `running`: the heartbeat keeps reporting the job as
        # this worker's, and its outcome is recorded when the thread comes back.
        log.error("job %s (%s) did not stop %ss after its timeout (blocked in a call a thread cannot "
                  "interrupt); a fresh worker takes its slot, and the job is retried once the call returns",
                  attempt.name, attempt.uuid, grace, extra=extra)
        worker = self.workers.get(attempt.worker_id)
        if worker is not None:
            self.consumer.replace_worker(worker)

    # -- the heartbeat -----------------------------------------------------

    def _beat(self):
        while not self.stopping.wait(context.state.settings.heartbeat_seconds):
            try:
                self.write_heartbeat()
            except DatabaseError:
                log.warning("heartbeat not written: database unavailable")
            finally:
                if not db.is_closed():
                    db.close()

    def write_heartbeat(self):
        with self.beat_lock:
            self._write_heartbeat()

    def _write_heartbeat(self):
        now = utcnow()
        rss = rss_bytes()
        with self.lock:
            by_worker = {attempt.worker_id: attempt for attempt in self.running.values()}
            rows = []
            for worker_id, worker in self.workers.items():
                attempt = by_worker.get(worker_id)
                rows.append({
                    "id": worker_id, "host": context.state.settings.hostname, "pid": self.pid, "consumer_pid": self.consumer.pid,
                    "queues": ",".join(self.consumer.queues or ()), "started_at": worker.started_at,
                    "last_beat_at": now, "current_job": attempt.uuid if attempt else None,
                    "current_job_name": attempt.name if attempt else None,
                    "jobs_done": self.jobs_done.get(worker_id, 0), "rss_bytes": rss, "stopped_at": None,
                })
        if not rows:
            return
        with db.atomic():
            for row in rows:
                (WorkerRecord.insert(**row)
                 .on_conflict(conflict_target=[WorkerRecord.id],
                              update={getattr(WorkerRecord, k): v for k, v in row.items() if k != "id"})
                 .execute())


# ---------------------------------------------------------------------------
# Worker and consumer
# ---------------------------------------------------------------------------


class Worker(HueyWorker):
    def __init__(self, *args, consumer=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.consumer = consumer
        self.retired = False
        self.jobs_done = 0
        self.worker_id = None
        self.started_at = utcnow()

    def initialize(self):
        super().initialize()
        name = threading.current_thread().name
        if self.consumer.worker_type == "process":
            name = f"{name}-{os.getpid()}"
        self.worker_id = f"{context.state.settings.hostname}:{os.getpid()}:{name}"
        thread_state.set_worker_identity(self.worker_id)
        if self.consumer.worker_type == "process":
            # Each worker process writes its own completions.
            runner.completion_writer = runner.CompletionWriter()
        self.runtime = ProcessRuntime.get(self.consumer)
        self.runtime.add_worker(self)

    def loop(self, now=None):
        if self.retired:
            log.info("%s retired: a replacement took its slot", self.worker_id)
            raise KeyboardInterrupt  # ends Huey's worker loop quietly
        consumer = self.consumer
        if consumer.max_jobs:
            # A worker takes a message only with a ticket: the jobs done and the
            # messages in hand never add up to more than max_jobs.
            if not consumer.take_ticket():
                if consumer.total_jobs_done() >= consumer.max_jobs:
                    # Take nothing more; the consumer's main loop stops everything gracefully.
                    consumer.stop_soon(f"it has run {consumer.max_jobs} job(s)")
                self.stop_flag.wait(0.05)
                return
            try:
                super().loop(now)
            finally:
                consumer.return_ticket()
        else:
            super().loop(now)
        if self.retired:
            raise KeyboardInterrupt
        if self.consumer.worker_type == "process" and self.consumer.over_memory():
            log.warning("%s uses more than %s MB; recycling it", self.worker_id, self.consumer.memory_mb)
            raise KeyboardInterrupt  # Huey's health check starts a fresh process

    def sleep(self):
        # Huey backs off to 10 s when idle; a customer waiting for a download link
        # should not wait that long, so the backoff stops at poll_max_delay.
        self.delay = min(self.delay, context.state.settings.poll_max_delay)
        super().sleep()

    def shutdown(self):
        if self.consumer.worker_type == "process" and runner.completion_writer is not None:
            runner.completion_writer.close()
        if getattr(self, "runtime", None) is not None:
            self.runtime.remove_worker(self)
        super().shutdown()
        if not db.is_closed():
            db.close()


def log_each_line_once():
    """Every log line of a consumer printed once, whoever configured logging.

    `huey_consumer` and `queue work` give Huey's logger a handler of its own. If
    the application configured logging too (a handler on the root logger), Huey's
    lines would be printed by both: the application's configuration wins. If it
    did not, the runtime's own lines (one per job outcome) go to Huey's handler,
    which would otherwise show nothing below WARNING.
    """
    root, huey_log, runtime_log = logging.getLogger(), logging.getLogger("huey"), logging.getLogger("job_runtime")
    if root.handlers:
        for handler in list(huey_log.handlers):
            huey_log.removeHandler(handler)
        return
    if huey_log.handlers and not runtime_log.handlers:
        for handler in huey_log.handlers:
            runtime_log.addHandler(handler)
        if runtime_log.level == logging.NOTSET:
            runtime_log.setLevel(huey_log.getEffectiveLevel())


def _reset_after_fork():
    """A forked worker process must not use its parent's database or queue connections."""
    compat.forget_pool_connections(context.database())
    compat.forget_storage_connection(runtime_huey.storage)


class Consumer(HueyConsumer):
    worker_class = Worker

    def __init__(self, huey, queues=None, once=False, stop_when_empty=False, max_jobs=None,
                 max_time=None, memory_mb=None, **options):
        self.queues = tuple(queues) if queues else None
        huey.storage.take_only(self.queues)
        if context.state.settings.async_commit and not context.is_sqlite() and context.state.open_database:
            # On PostgreSQL a consumer's commits need not wait for the disk. Its WAL
            # still reaches the disk in order, so a crash of the server can only
            # roll the job records back a little, to states the sweeper repairs by
            # running those (idempotent) jobs again; nothing is lost. The web
            # process's dispatches keep waiting for the disk.
            context.state.open_database(True)
        self.pid = os.getpid()
        self.once = once
        self.stop_when_empty = stop_when_empty or once
        self.max_jobs = 1 if once else max_jobs
        self.max_time = max_time if max_time is not None else (context.state.settings.worker_max_seconds or None)
        self.memory_mb = memory_mb if memory_mb is not None else (context.state.settings.worker_memory_mb or None)
        self.started = time.time()
        self._next_control = 0.0
        self._next_sweep = 0.0
        self._sweeping = threading.Lock()
        self._exit_reason = None
        self._tickets = threading.Lock()
        self._in_hand = 0
        self._retired = []  # workers replaced while stuck; their jobs still count
        log_each_line_once()
        super().__init__(huey, **options)

    def _create_worker(self):  # a Huey internal (compat.HUEY_OVERRIDES)
        return self.worker_class(
            huey=self.huey, stop_flag=self.stop_flag, default_delay=self.default_delay,
            max_delay=self.max_delay, backoff=self.backoff, max_tasks=self.max_tasks, consumer=self)

    def start(self):
        if context.state.startup_check is not None:
            context.state.startup_check()
        if self.worker_type != "process":
            runner.completion_writer = runner.CompletionWriter()
        if self.worker_type == "process":
            if not db.is_closed():
                db.close()
            os.register_at_fork(after_in_child=_reset_after_fork)
        compat.consumer_logger(self).info("Job runtime: queues %s; sweep every %ss; poll delay at most %ss%s%s",
                          ",".join(self.queues or ("all",)), context.state.settings.sweep_seconds,
                          context.state.settings.poll_max_delay,
                          f"; memory cap {self.memory_mb} MB" if self.memory_mb else "",
                          f"; restarts after {self.max_time}s" if self.max_time else "")
        # Huey installs its signal handlers after starting the workers; a SIGINT
        # or SIGHUP in between would kill the consumer outright. Install them first.
        compat.set_signal_handlers(self)
        super().start()
        if self.worker_type != "process":
            # Thread workers share this process's runtime; start it before any job runs.
            ProcessRuntime.get(self)

    def loop(self, health_check_ts=None):
        health_check_ts = super().loop(health_check_ts)
        now = time.monotonic()
        if now >= self._next_control:
            self._next_control = now + 1.0
            self._control(now)
        return health_check_ts

    # -- control -----------------------------------------------------------

    def over_memory(self):
        return bool(self.memory_mb) and rss_bytes() > self.memory_mb * 1024 * 1024

    def _control(self, now):
        if now >= self._next_sweep:
            self._next_sweep = now + context.state.settings.sweep_seconds
            threading.Thread(target=self._sweep, name="Sweeper", daemon=True).start()
        try:
            stamp = control.restart_stamp()
        except DatabaseError:
            stamp = None
        finally:
            if not db.is_closed():
                db.close()
        if stamp is not None and stamp > self.started:
            self.restart("a restart was requested (queue restart)")
        elif self.max_time and time.time() - self.started >= self.max_time:
            self.restart(f"it has run for {self.max_time}s")
        elif self.worker_type != "process" and self.over_memory():
            self.restart(f"it uses more than {self.memory_mb} MB")
        elif self.max_jobs and self.total_jobs_done() >= self.max_jobs:
            self.stop_soon(f"it has run {self.max_jobs} job(s)")
        elif self.stop_when_empty and self._queues_empty():
            self.stop_soon("its queues are empty")

    def _sweep(self):
        if not self._sweeping.acquire(blocking=False):
            return
        try:
            sweeper.sweep()
        except DatabaseError:
            log.warning("sweep skipped: database unavailable")
        except Exception:
            log.exception("sweep failed")
        finally:
            self._sweeping.release()
            if not db.is_closed():
                db.close()

    def total_jobs_done(self):
        return sum(worker.jobs_done for worker, _ in self.worker_threads) + sum(w.jobs_done for w in self._retired)

    def take_ticket(self):
        """Whether a worker may take one more message under max_jobs (see Worker.loop)."""
        with self._tickets:
            if self.total_jobs_done() + self._in_hand >= self.max_jobs:
                return False
            self._in_hand += 1
            return True

    def return_ticket(self):
        # The job it carried, if the message was one, is counted in jobs_done by now.
        with self._tickets:
            self._in_hand -= 1

    def _queues_empty(self):
        query = JobRecord.select().where(
            ((JobRecord.state == "pending") & (JobRecord.available_at <= utcnow()))
            | (JobRecord.state == "running"))
        if self.queues:
            query = query.where(JobRecord.queue.in_(self.queues))
        try:
            return not query.exists()
        finally:
            if not db.is_closed():
                db.close()

    def stop(self, graceful=False):
        super().stop(graceful)
        # The workers are done: write their last completions before exiting or exec'ing.
        if runner.completion_writer is not None:
            runner.completion_writer.close()
            runner.completion_writer = None

    def restart(self, reason):
        """Finish the running jobs, then exec this same command again (like SIGHUP)."""
        if compat.pending_signal(self) is None:
            compat.consumer_logger(self).info("Restarting: %s.", reason)
            compat.signal_consumer(self, signal.SIGHUP, restart=True, graceful=True)

    def stop_soon(self, reason):
        if compat.pending_signal(self) is None:
            compat.consumer_logger(self).info("Stopping: %s.", reason)
            compat.signal_consumer(self, signal.SIGINT, restart=False, graceful=True)

    def replace_worker(self, worker):
        """Give a stuck worker's slot to a new thread (thread workers only)."""
        if self.worker_type == "process":
            log.error("worker process %s is stuck; exiting it so a fresh one starts", os.getpid())
            os._exit(75)
        for index, (existing, thread) in enumerate(self.worker_threads):
            if existing is worker:
                worker.retired = True
                self._retired.append(worker)
                replacement = self._create_worker()
                process = compat.create_worker_process(
                    self, replacement, f"Worker-{index + 1}r{int(time.time()) % 10000}")
                process.start()
                self.worker_threads[index] = (replacement, process)
                return

    def _join_workers(self):  # a Huey internal (compat.HUEY_OVERRIDES)
        # A retired thread may stay blocked for a long time; do not wait for it.
        deadline = None if self.shutdown_timeout is None else time.monotonic() + self.shutdown_timeout
        procs = [p for w, p in self.worker_threads if not w.retired] + [self.scheduler]
        for proc in procs:
            proc.join(None if deadline is None else max(deadline - time.monotonic(), 0))
        return not any(self.environment.is_alive(p) for p in procs)

