"""The `queue` commands of an application's command line: workers, failed jobs, status,
clearing and watching queues, and the search of jobs.

    add_commands(subparsers, load_jobs)

`load_jobs()` is the application's: it imports the module that declares every
job and calls job_runtime.setup(), so that a job can be run or retried by name.
Each command calls it first.
"""

import json
import logging
import sys

from job_runtime import context, control, failed as failed_jobs, flow, jobs, pending, stats, sweeper
from job_runtime.backends import QUEUES
from job_runtime.doorbells import huey
from job_runtime.monitoring import alerts, conditions, dashboard, search


def _init(args):
    args.load_jobs()
    context.db.connect(reuse_if_open=True)


def _print_json(data):
    print(json.dumps(data, indent=2, default=str))


def _queue_list(text):
    names = [name.strip() for name in (text or "").split(",") if name.strip()]
    unknown = [name for name in names if name not in QUEUES]
    if unknown:
        raise SystemExit(f"Unknown queue(s): {', '.join(unknown)}. The queues are {', '.join(QUEUES)}.")
    return names or None


def cmd_work(args):
    """A consumer in the foreground; the same runtime as `huey_consumer <module>.huey`."""
    from huey.consumer_options import ConsumerConfig

    args.load_jobs()
    jobs.apply_defaults(tries=args.tries, timeout=args.timeout)
    queues = _queue_list(args.queue)
    # --once means one job: a single worker, so two cannot each take one at the same moment.
    options = {"workers": 1 if args.once else args.workers, "worker_type": args.worker_type, "periodic": not args.no_periodic,
               "verbose": True if args.verbose else None}
    config_ = ConsumerConfig(**{k: v for k, v in options.items() if v is not None})
    config_.validate()
    config_.setup_logger(logging.getLogger("huey"))
    consumer = huey.create_consumer(
        queues=queues, once=args.once, stop_when_empty=args.stop_when_empty, max_jobs=args.max_jobs,
        max_time=args.max_time, memory_mb=args.memory, **config_.values)
    consumer.run()
    return 0


def cmd_failed(args):
    _init(args)
    rows = [failed_jobs.describe(f, show_payload=args.json) for f in failed_jobs.listing(args.queue)]
    if args.json:
        _print_json(rows)
        return 0
    if not rows:
        print("No failed jobs.")
        return 0
    print(f"{'ID':>5}  {'Failed at (UTC)':<20}  {'Queue':<8}  {'Job':<28}  Error")
    for row in rows:
        error = f"{row['exception']}: {row['message']}".replace("\n", " ")
        print(f"{row['id']:>5}  {row['failed_at'][:19]:<20}  {row['queue']:<8}  {row['job']:<28}  {error[:80]}")
    return 0


def _parse_range(text):
    try:
        low, high = (int(part) for part in text.split("-", 1))
    except ValueError:
        raise SystemExit(f"--range takes FIRST-LAST, for example 1-100; got {text!r}") from None
    return low, high


def cmd_retry(args):
    _init(args)
    ids = [i for i in args.ids if i != "all"]
    bad = [i for i in ids if not i.isdigit()]
    if bad:
        raise SystemExit(f"Not a failed-job id: {', '.join(bad)} (see `queue failed`).")
    chosen = failed_jobs.select_ids(ids, all_="all" in args.ids,
                                    id_range=_parse_range(args.range) if args.range else None,
                                    queue=args.queue)
    if not chosen:
        print("No failed jobs matched.")
        return 1 if ids else 0
    for failed_id in chosen:
        job_uuid = failed_jobs.retry(failed_id)
        if job_uuid:
            print(f"Failed job {failed_id} pushed back onto the queue ({job_uuid}).")
        else:
            print(f"Failed job {failed_id} not found.")
    return 0


def cmd_forget(args):
    _init(args)
    if failed_jobs.forget(args.id):
        print(f"Failed job {args.id} deleted.")
        return 0
    print(f"No failed job with id {args.id}.")
    return 1


def cmd_flush(args):
    _init(args)
    count = failed_jobs.flush(args.hours)
    print(f"Deleted {count} failed job(s)" + (f" older than {args.hours} hours." if args.hours else "."))
    return 0


def cmd_prune_failed(args):
    _init(args)
    print(f"Pruned {failed_jobs.prune(args.hours)} failed job(s) older than {args.hours} hours.")
    return 0


def cmd_restart(args):
    _init(args)
    control.request_restart()
    print("Every worker will restart after its current job.")
    return 0


def cmd_pause(args):
    _init(args)
    control.pause(args.queue)
    print(f"Queue {args.queue} paused: workers take no new jobs from it.")
    return 0


def cmd_continue(args):
    _init(args)
    control.resume(args.queue)
    rung = sweeper.ring_missing(args.queue)
    print(f"Queue {args.queue} resumed ({rung} waiting job(s) queued again).")
    return 0


def cmd_status(args):
    _init(args)
    report = stats.status()
    if args.json:
        _print_json(report)
        return 0
    print(f"{'Queue':<8} {'Pending':>8} {'Scheduled':>10} {'Running':>8} {'Oldest wait':>12}  State")
    for name, q in report["queues"].items():
        print(f"{name:<8} {q['pending']:>8} {q['scheduled']:>10} {q['running']:>8} "
              f"{q['oldest_pending_seconds']:>11.1f}s  {'paused' if q['paused'] else 'running'}")
    print(f"\nFailed jobs: {report['failed']}    Running batches: {report['batches_running']}")
    print(f"Workers alive: {len(report['workers'])}")
    for w in report["workers"]:
        print(f"  {w['id']:<40} queues={w['queues']:<14} done={w['jobs_done']:<6} "
              f"rss={w['rss_mb']}MB job={w['current_job'] or '-'}")
    return 0


def cmd_batches(args):
    _init(args)
    if args.action == "cancel":
        return _cancel_batch(args.batch_id)
    rows = [flow.describe_batch(b) for b in flow.recent_batches(args.limit)]
    if args.json:
        _print_json(rows)
        return 0
    if not rows:
        print("No batches.")
        return 0
    print(f"{'ID':<36}  {'Name':<24} {'Total':>6} {'Pending':>8} {'Failed':>7} {'Progress':>9}  State")
    for b in rows:
        print(f"{b['id']:<36}  {b['name'][:24]:<24} {b['total']:>6} {b['pending']:>8} {b['failed']:>7} "
              f"{b['progress']:>8}%  {b['state']}")
    return 0


def _cancel_batch(batch_id):
    if not batch_id:
        raise SystemExit("Name the batch to cancel: `queue batches cancel ID` (see `queue batches`).")
    found = flow.find_batch(batch_id)
    if found is None:
        print(f"No batch with id {batch_id}.")
        return 1
    if not flow.cancel(batch_id):
        print(f"Batch {batch_id} has already finished or been cancelled.")
        return 1
    print(f"Batch {batch_id} cancelled: its jobs that have not started are skipped.")
    return 0


def _confirmed(question):
    """Ask on the terminal; without one (cron, a pipe) the answer is no."""
    if not sys.stdin.isatty():
        return False
    return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")


def cmd_clear(args):
    _init(args)
    where = f"the {args.queue} queue" if args.queue else "every queue"
    count = pending.pending_count(args.queue)
    if not count:
        print(f"No pending jobs on {where}.")
        return 0
    if not args.force and not _confirmed(f"Delete the {count} pending job(s) of {where}? They will not run."):
        print("Nothing was deleted (pass --force to clear without asking).")
        return 1
    cleared = pending.clear(args.queue)
    print(f"Deleted {cleared} pending job(s) from {where}; their records say they were cleared.")
    return 0


def _limits(text):
    """{queue: limit} from QUEUE:LIMIT,QUEUE:LIMIT."""
    limits = {}
    for part in (p.strip() for p in text.split(",") if p.strip()):
        queue, _, limit = part.partition(":")
        if queue not in QUEUES or not limit.isdigit():
            raise SystemExit(f"Cannot read {part!r}: write QUEUE:LIMIT, for example high:100,default:500 "
                             f"(the queues are {', '.join(QUEUES)}).")
        limits[queue] = int(limit)
    if not limits:
        raise SystemExit("Give at least one QUEUE:LIMIT, for example high:100,default:500.")
    return limits


def cmd_monitor(args):
    """Exit 1 when a queue holds more due jobs than its limit (for cron or a health check)."""
    limits = _limits(args.limits)
    _init(args)
    workload = stats.workload()
    over = conditions.depth(workload, limits)
    sent = alerts.report(over) if over and not args.no_alert else []
    rows = [{"queue": queue, "pending": workload.get(queue, {}).get("pending", 0), "limit": limit,
             "oldest_wait_seconds": round(workload.get(queue, {}).get("oldest_pending_seconds", 0.0), 1),
             "over": any(c["queue"] == queue for c in over)} for queue, limit in limits.items()]
    if args.json:
        _print_json({"ok": not over, "queues": rows, "alerted": [a["queue"] for a in sent]})
    else:
        for row in rows:
            verdict = "TOO DEEP" if row["over"] else "ok"
            print(f"{row['queue']:<8} {row['pending']:>8} waiting (limit {row['limit']})  {verdict}")
        if sent:
            print(f"Alert sent for: {', '.join(a['queue'] for a in sent)}.")
    return 1 if over else 0


def cmd_jobs(args):
    _init(args)
    if args.name or args.tag or args.argument:
        rows = search.search(name=args.name, tag=args.tag, argument=args.argument, queue=args.queue,
                             limit=args.limit)
    else:
        rows = dashboard.jobs_page(args.state, args.queue, limit=args.limit)[0]
    if args.state:
        rows = [row for row in rows if row["state"] == args.state]
    if args.json:
        _print_json(rows)
        return 0
    if not rows:
        print("No jobs matched.")
        return 0
    print(f"{'Id':<36}  {'Job':<28} {'Queue':<8} {'State':<10} {'Queued (UTC)':<20}  Tags")
    for row in rows:
        print(f"{row['uuid']:<36}  {row['name'][:28]:<28} {row['queue']:<8} {row['state']:<10} "
              f"{(row['created_at'] or '')[:19]:<20}  {' '.join(row['tags'])}")
    return 0


def cmd_sweep(args):
    _init(args)
    recovered, rung = sweeper.sweep()
    print(f"Recovered {recovered} job(s) from dead workers; rang {rung} missing doorbell(s).")
    return 0


def add_commands(commands, load_jobs):
    """Add `queue` and its actions to `commands` (an argparse subparsers object)."""
    queue = commands.add_parser("queue", help="the job queue: workers, failed jobs, status")
    queue.set_defaults(load_jobs=load_jobs)
    sub = queue.add_subparsers(dest="queue_command", metavar="ACTION", required=True)

    work = sub.add_parser("work", help="run a consumer in the foreground")
    work.add_argument("--queue", help=f"comma-separated queues to take ({','.join(QUEUES)}); default all")
    work.add_argument("--workers", "-w", type=int, default=4, help="worker threads (default 4)")
    work.add_argument("--worker-type", "-k", choices=("thread", "process"), default="thread")
    work.add_argument("--once", action="store_true", help="run one job, then exit")
    work.add_argument("--stop-when-empty", action="store_true", help="exit when the queues are empty")
    work.add_argument("--max-jobs", type=int, help="exit after this many jobs")
    work.add_argument("--max-time", type=int, help="restart after this many seconds")
    work.add_argument("--memory", type=int, help="restart when the consumer uses more MB than this")
    work.add_argument("--no-periodic", "-n", action="store_true", help="do not dispatch periodic jobs")
    work.add_argument("--tries", type=int, help="attempts for jobs whose declaration names no tries")
    work.add_argument("--timeout", type=float, help="seconds for jobs whose declaration names no timeout")
    work.add_argument("--verbose", "-v", action="store_true")
    work.set_defaults(func=cmd_work)

    failed = sub.add_parser("failed", help="list failed jobs")
    failed.add_argument("--json", action="store_true")
    failed.add_argument("--queue", choices=QUEUES)
    failed.set_defaults(func=cmd_failed)

    retry = sub.add_parser("retry", help="retry failed jobs: IDs, 'all', --range or --queue")
    retry.add_argument("ids", nargs="*", metavar="ID")
    retry.add_argument("--range", help="FIRST-LAST ids, for example 1-100")
    retry.add_argument("--queue", choices=QUEUES)
    retry.set_defaults(func=cmd_retry)

    forget = sub.add_parser("forget", help="delete one failed job")
    forget.add_argument("id", type=int)
    forget.set_defaults(func=cmd_forget)

    flush = sub.add_parser("flush", help="delete all failed jobs (or those older than --hours)")
    flush.add_argument("--hours", type=int)
    flush.set_defaults(func=cmd_flush)

    prune = sub.add_parser("prune-failed", help="delete failed jobs older than --hours")
    prune.add_argument("--hours", type=int, default=24)
    prune.set_defaults(func=cmd_prune_failed)

    sub.add_parser("restart", help="restart every worker after its current job").set_defaults(func=cmd_restart)

    pause = sub.add_parser("pause", help="stop taking jobs from a queue")
    pause.add_argument("queue", choices=QUEUES)
    pause.set_defaults(func=cmd_pause)

    resume = sub.add_parser("continue", help="resume a paused queue")
    resume.add_argument("queue", choices=QUEUES)
    resume.set_defaults(func=cmd_continue)

    status = sub.add_parser("status", help="depth per queue, failed jobs, workers")
    status.add_argument("--json", action="store_true")
    status.set_defaults(func=cmd_status)

    batches = sub.add_parser("batches", help="list recent batches, or cancel one: batches cancel ID")
    batches.add_argument("action", nargs="?", choices=("list", "cancel"), default="list")
    batches.add_argument("batch_id", nargs="?", metavar="ID")
    batches.add_argument("--json", action="store_true")
    batches.add_argument("--limit", type=int, default=50)
    batches.set_defaults(func=cmd_batches)

    clear = sub.add_parser("clear", help="delete the pending jobs of a queue (of every queue without one)")
    clear.add_argument("queue", nargs="?", choices=QUEUES)
    clear.add_argument("--force", action="store_true", help="do not ask for confirmation")
    clear.set_defaults(func=cmd_clear)

    monitor = sub.add_parser("monitor", help="exit 1 (and alert) when a queue is deeper than its limit")
    monitor.add_argument("limits", metavar="QUEUE:LIMIT,...", help="for example high:100,default:500")
    monitor.add_argument("--json", action="store_true")
    monitor.add_argument("--no-alert", action="store_true", help="report only; tell no one")
    monitor.set_defaults(func=cmd_monitor)

    found = sub.add_parser("jobs", help="list or search jobs: by --name, --tag or --argument")
    found.add_argument("--name", help="the job's name, for example process_purchase")
    found.add_argument("--tag", help="a tag, for example order:42")
    found.add_argument("--argument", help="text found in the arguments (never in an encrypted job's)")
    found.add_argument("--queue", choices=QUEUES)
    found.add_argument("--state", choices=dashboard.JOB_STATES)
    found.add_argument("--limit", type=int, default=50)
    found.add_argument("--json", action="store_true")
    found.set_defaults(func=cmd_jobs)

    sub.add_parser("sweep", help="recover lost jobs now (consumers also do this on their own)").set_defaults(
        func=cmd_sweep)
    return queue

