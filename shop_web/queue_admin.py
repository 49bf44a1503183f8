"""The queue dashboard under /admin/queue, and Prometheus' /metrics.

Admins only: anonymous visitors are sent to the login page, customers and
sellers get a 403, and every action is a POST checked for CSRF by the app's
plugin. The figures come from the job runtime's monitoring subpackage
(job_runtime/monitoring/); this module only picks them, renders them and turns
actions into calls of the runtime's own services (the failed-job store, batches
and chains, pausing queues, ringing waiting jobs again), the same ones the
`marketplace queue` commands use.

The dashboard refreshes itself: views/static/queue-live.js polls
/admin/queue/stats.json, which returns the figures and, for each live section
of the page, its HTML rendered by the same template as the page, so the page
and its refreshes can never disagree.
"""

import hmac
import ipaddress
import json
from urllib.parse import quote

import bottle

from shop import config
from job_runtime import failed as failed_jobs
from job_runtime import flow as job_flow
from job_runtime.monitoring import charts as queue_charts
from job_runtime import control as queue_control
from job_runtime import pending as pending_jobs
from job_runtime.monitoring import dashboard as queue_dashboard
from job_runtime.monitoring import search as job_search
from job_runtime.monitoring import formatting as queue_format
from job_runtime.monitoring import metrics as queue_metrics
from job_runtime.monitoring import prometheus as queue_prometheus
from job_runtime import sweeper
from shop.errors import NotFound
from job_runtime.models import FailedJob
from models import utcnow
from job_runtime.backends import QUEUES
from shop_web.common import (
    RouteTable,
    client_ip,
    csrf_token,
    flash,
    header,
    int_param,
    json_response,
    redirect_to,
    render,
    request,
    require_role,
    response,
    safe_next,
    timed,
)

routes = RouteTable()

LIVE_SCRIPT = "/static/queue-live.js"
REFRESH_MS = 3000
# A search of jobs shows at most this many, the newest.
SEARCH_LIMIT = 100
PERIODS = {
    # name: (label, minutes shown, minutes per bucket)
    "1h": ("Last hour", 60, 1),
    "24h": ("Last 24 hours", 24 * 60, 15),
    "7d": ("Last 7 days", 7 * 24 * 60, 120),
}


def _fragment(name, **context):
    """One live section's HTML, rendered by the same template the page includes."""
    return bottle.template(name, f=queue_format, csrf_token=csrf_token(), **context)


def _back(default="/admin/queue"):
    """Where an action returns to: the page it was posted from, if it is a queue page."""
    target = safe_next(request.forms.getunicode("next") or "", default)
    return target if target.startswith("/admin/queue") else default


def _failed_count():
    return FailedJob.select().count()


# ---------------------------------------------------------------------------
# The dashboard and its JSON
# ---------------------------------------------------------------------------


def _dashboard_context():
    overview = queue_dashboard.overview()
    points = queue_dashboard.throughput(minutes=60, step=1)
    charts = [queue_charts.throughput(points, 1, "Jobs per minute"),
              queue_charts.runtime(points, 1, "Average runtime")]
    return {"o": overview, "charts": charts, "next_url": "/admin/queue"}


DASHBOARD_SECTIONS = {
    "alerts": "_queue_alerts.tpl", "tiles": "_queue_tiles.tpl", "workload": "_queue_workload.tpl",
    "charts": "_queue_charts.tpl", "workers": "_queue_workers.tpl", "batches": "_queue_batches.tpl",
    "recent": "_queue_recent.tpl",
}


@routes.get("/admin/queue")
@require_role("admin")
@timed
def queue_index():
    context = _dashboard_context()
    return render("queue_dashboard.tpl", title="Queue", f=queue_format, active="dashboard",
                  failed_count=context["o"]["tiles"]["failed_stored"], scripts=[LIVE_SCRIPT],
                  live_url="/admin/queue/stats.json", refresh_ms=REFRESH_MS, **context)


@routes.get("/admin/queue/stats.json")
@require_role("admin")
@timed
def queue_stats_json():
    context = _dashboard_context()
    html = {name: _fragment(template, **context) for name, template in DASHBOARD_SECTIONS.items()}
    response.set_header("Cache-Control", "no-store")
    return json_response({"stats": context["o"], "html": html,
                          "counts": {"failed": context["o"]["tiles"]["failed_stored"]}})


# ---------------------------------------------------------------------------
# Jobs
# ---------------------------------------------------------------------------


@routes.get("/admin/queue/jobs")
@require_role("admin")
@timed
def queue_jobs():
    state = request.query.get("state") or None
    if state not in queue_dashboard.JOB_STATES:
        state = None
    queue = request.query.get("queue") or None
    if queue not in QUEUES:
        queue = None
    before = int_param(request.query.get("before"), None, 1)
    search = {key: (request.query.getunicode(key) or "").strip()[:200] or None for key in ("name", "tag", "q")}
    if any(search.values()):
        # A search shows its newest matches, on one page.
        rows = job_search.search(name=search["name"], tag=search["tag"], argument=search["q"], queue=queue,
                                 limit=SEARCH_LIMIT)
        if state:
            rows = [row for row in rows if row["state"] == state]
        before = next_before = None
    else:
        rows, next_before = queue_dashboard.jobs_page(state, queue, before)
    return render("queue_jobs.tpl", title="Jobs · Queue", f=queue_format, active="jobs",
                  failed_count=_failed_count(), jobs=rows, state=state, queue=queue, before=before,
                  next_before=next_before, states=queue_dashboard.JOB_STATES, queues=QUEUES, search=search,
                  search_limit=SEARCH_LIMIT)


@routes.get("/admin/queue/jobs/<job_uuid>")
@require_role("admin")
def queue_job(job_uuid):
    detail = queue_dashboard.job_detail(job_uuid)
    if detail is None:
        raise NotFound("There is no job with this id; finished jobs are pruned after a while.")
    arguments = (json.dumps(detail["arguments"], indent=2, ensure_ascii=False, sort_keys=True)
                 if detail["arguments"] is not None else None)
    return render("queue_job.tpl", title=f"{detail['name']} · Queue", f=queue_format, active="jobs",
                  failed_count=_failed_count(), job=detail, arguments=arguments, scripts=[LIVE_SCRIPT],
                  next_url=f"/admin/queue/jobs/{job_uuid}")


def _act_on_waiting_job(job_uuid, act, done_message):
    """Delete or run now a job that is still waiting, and say which happened."""
    if act(job_uuid):
        flash(done_message, "success")
    else:
        flash("That job is no longer waiting: it has started, finished or gone.", "warning")
    redirect_to(_back(f"/admin/queue/jobs/{quote(job_uuid)}"))


@routes.post("/admin/queue/jobs/<job_uuid>/delete")
@require_role("admin")
def queue_job_delete(job_uuid):
    _act_on_waiting_job(job_uuid, pending_jobs.delete,
                        "The job is deleted: it will not run. Its record stays, marked cancelled.")


@routes.post("/admin/queue/jobs/<job_uuid>/run-now")
@require_role("admin")
def queue_job_run_now(job_uuid):
    _act_on_waiting_job(job_uuid, pending_jobs.run_now, "The job is due now: the next free worker takes it.")


# ---------------------------------------------------------------------------
# Failed jobs
# ---------------------------------------------------------------------------


@routes.get("/admin/queue/failed")
@require_role("admin")
@timed
def queue_failed():
    queue = request.query.get("queue") or None
    if queue not in QUEUES:
        queue = None
    page = queue_dashboard.failed_page(int_param(request.query.get("page"), 1, 1), queue=queue)
    return render("queue_failed.tpl", title="Failed jobs · Queue", f=queue_format, active="failed",
                  failed_count=page["total"] if not queue else _failed_count(), page=page, queue=queue,
                  scripts=[LIVE_SCRIPT],
                  queues=QUEUES, next_url=request.fullpath + ("?" + request.query_string if request.query_string else ""))


@routes.get("/admin/queue/failed/<failed_id:int>")
@require_role("admin")
def queue_failed_job(failed_id):
    """The failed-job store's address for a failure: the job's own page, which shows it."""
    failed = FailedJob.get_or_none(FailedJob.id == failed_id)
    if failed is None:
        raise NotFound("This failed job is gone: it was retried, forgotten or pruned.")
    return queue_job(failed.uuid)


@routes.post("/admin/queue/failed/<failed_id:int>/retry")
@require_role("admin")
def queue_failed_retry(failed_id):
    failed = FailedJob.get_or_none(FailedJob.id == failed_id)
    if failed is None:
        flash("That failed job is no longer in the store: it was retried, forgotten or pruned.", "warning")
        redirect_to(_back("/admin/queue/failed"))
    job_uuid = failed_jobs.retry(failed_id)
    if job_uuid is None:  # another request retried it first
        flash("That failed job is no longer in the store: it was retried, forgotten or pruned.", "warning")
        redirect_to(_back("/admin/queue/failed"))
    flash(f"{failed.name} is back on the {failed.queue} queue with fresh attempts.", "success")
    # The failed job's own page would 404 now; its record's page follows the retry.
    target = _back("/admin/queue/failed")
    redirect_to(f"/admin/queue/jobs/{quote(job_uuid)}" if target.startswith("/admin/queue/jobs/") else target)


@routes.post("/admin/queue/failed/<failed_id:int>/forget")
@require_role("admin")
def queue_failed_forget(failed_id):
    if failed_jobs.forget(failed_id):
        flash(f"Failed job #{failed_id} is forgotten.", "success")
    else:
        flash("That failed job is no longer in the store.", "warning")
    target = _back("/admin/queue/failed")
    redirect_to("/admin/queue/failed" if target.startswith("/admin/queue/jobs/") else target)


@routes.post("/admin/queue/failed/retry-all")
@require_role("admin")
def queue_failed_retry_all():
    queue = request.forms.get("queue") or None
    if queue not in QUEUES:
        queue = None
    ids = failed_jobs.select_ids(all_=True, queue=queue)
    retried = sum(1 for failed_id in ids if failed_jobs.retry(failed_id))
    if retried:
        flash(f"{retried} failed job(s) are back on their queues.", "success")
    else:
        flash("There were no failed jobs to retry.", "info")
    redirect_to(_back("/admin/queue/failed"))


@routes.post("/admin/queue/failed/flush")
@require_role("admin")
def queue_failed_flush():
    removed = failed_jobs.flush()
    flash(f"{removed} failed job(s) deleted." if removed else "There were no failed jobs to delete.",
          "success" if removed else "info")
    redirect_to("/admin/queue/failed")


# ---------------------------------------------------------------------------
# Queues: pause and continue
# ---------------------------------------------------------------------------


def _queue_or_404(name):
    if name not in QUEUES:
        raise NotFound(f"There is no queue named {name!r}.")
    return name


@routes.post("/admin/queue/queues/<name>/pause")
@require_role("admin")
def queue_pause(name):
    queue_control.pause(_queue_or_404(name))
    flash(f"The {name} queue is paused: workers finish what they run and take nothing new from it.", "success")
    redirect_to(_back())


@routes.post("/admin/queue/queues/<name>/continue")
@require_role("admin")
def queue_continue(name):
    queue_control.resume(_queue_or_404(name))
    rung = sweeper.ring_missing(name)
    flash(f"The {name} queue runs again ({rung} waiting job(s) queued).", "success")
    redirect_to(_back())


# ---------------------------------------------------------------------------
# Batches and chains
# ---------------------------------------------------------------------------


@routes.get("/admin/queue/batches")
@require_role("admin")
@timed
def queue_batches():
    return render("queue_batches.tpl", title="Batches · Queue", f=queue_format, active="batches",
                  failed_count=_failed_count(), batches=queue_dashboard.batches(), scripts=[LIVE_SCRIPT],
                  live_url="/admin/queue/batches.json", refresh_ms=REFRESH_MS, next_url="/admin/queue/batches")


@routes.get("/admin/queue/batches.json")
@require_role("admin")
def queue_batches_json():
    rows = queue_dashboard.batches()
    response.set_header("Cache-Control", "no-store")
    return json_response({"batches": rows, "html": {
        "batch-list": _fragment("_queue_batch_list.tpl", batches=rows, next_url="/admin/queue/batches")}})


@routes.get("/admin/queue/batches/<batch_id>")
@require_role("admin")
def queue_batch(batch_id):
    detail = queue_dashboard.batch_detail(batch_id)
    if detail is None:
        raise NotFound("There is no batch with this id; finished batches are pruned after a while.")
    return render("queue_batch.tpl", title=f"Batch {detail['batch']['name'] or batch_id[:8]} · Queue",
                  f=queue_format, active="batches", failed_count=_failed_count(), detail=detail,
                  next_url=f"/admin/queue/batches/{batch_id}")


@routes.post("/admin/queue/batches/<batch_id>/cancel")
@require_role("admin")
def queue_batch_cancel(batch_id):
    found = job_flow.find_batch(batch_id)
    if found is None:
        raise NotFound("There is no batch with this id.")
    if job_flow.cancel(batch_id):
        flash(f"Batch “{found.name or batch_id[:8]}” is cancelled: its jobs that have not started are skipped.",
              "success")
    else:
        flash("That batch has already finished or been cancelled.", "warning")
    redirect_to(_back("/admin/queue/batches"))


@routes.get("/admin/queue/chains")
@require_role("admin")
@timed
def queue_chains():
    return render("queue_chains.tpl", title="Chains · Queue", f=queue_format, active="chains",
                  failed_count=_failed_count(), chains=queue_dashboard.chains())


@routes.get("/admin/queue/chains/<chain_id>")
@require_role("admin")
def queue_chain(chain_id):
    steps = queue_dashboard.chain_detail(chain_id)
    if steps is None:
        raise NotFound("There is no chain with this id; finished chains are pruned after a while.")
    return render("queue_chain.tpl", title="Chain · Queue", f=queue_format, active="chains",
                  failed_count=_failed_count(), chain_id=chain_id, steps=steps)


# ---------------------------------------------------------------------------
# Metrics over time, per job and per queue
# ---------------------------------------------------------------------------


@routes.get("/admin/queue/metrics")
@require_role("admin")
@timed
def queue_metrics_page():
    period = request.query.get("period") if request.query.get("period") in PERIODS else "1h"
    label, minutes, step = PERIODS[period]
    job_name = (request.query.getunicode("job") or "").strip()[:200] or None
    queue = request.query.get("queue") if request.query.get("queue") in QUEUES else None
    now = utcnow()
    rows = queue_metrics.window(queue_dashboard.period_start(minutes, step, now), now=now)
    by_job = sorted(queue_dashboard.merge_by(rows, "name").values(), key=lambda r: (-r["processed"], r["name"]))
    by_queue = queue_dashboard.merge_by(rows, "queue")
    queue_rows = [by_queue.get(q) or {"queue": q, "processed": 0, "failed": 0, "avg_duration": None,
                                      "duration_max": 0.0, "avg_wait": None, "wait_max": 0.0} for q in QUEUES]
    points = queue_dashboard.throughput(minutes=minutes, step=step, name=job_name, queue=queue, now=now)
    subject = f"job {job_name}" if job_name else f"the {queue} queue" if queue else "all jobs"
    per = "minute" if step == 1 else f"{step} minutes" if step < 60 else f"{step // 60} hours"
    charts = [queue_charts.throughput(points, step, f"Throughput of {subject}, per {per}"),
              queue_charts.runtime(points, step, f"Average runtime of {subject}")]
    # How long jobs waited for a worker, one chart per queue (or the chosen queue's alone).
    wait_charts = [queue_charts.wait(queue_dashboard.throughput(minutes=minutes, step=step, name=job_name,
                                                                queue=q, now=now),
                                     step, f"Wait on the {q} queue" + (f", job {job_name}" if job_name else ""))
                   for q in ([queue] if queue else QUEUES)]
    return render("queue_metrics.tpl", title="Metrics · Queue", f=queue_format, active="metrics",
                  failed_count=_failed_count(), periods=PERIODS, period=period, period_label=label,
                  minutes=minutes, job_name=job_name, queue=queue, charts=charts, by_job=by_job,
                  queue_rows=queue_rows, subject=subject, wait_charts=wait_charts)


# ---------------------------------------------------------------------------
# Prometheus
# ---------------------------------------------------------------------------


def _loopback_request():
    """A request made on this machine, not one forwarded by a proxy in front of the app."""
    if header("X-Forwarded-For") or header("Forwarded"):
        return False
    try:
        return ipaddress.ip_address(client_ip()).is_loopback
    except ValueError:
        return False


@routes.get("/metrics")
def metrics():
    """Prometheus text format. With METRICS_TOKEN set, only with `Authorization: Bearer <token>`;
    without it, only from loopback (a Prometheus on the same machine)."""
    if config.METRICS_TOKEN:
        sent = header("Authorization") or ""
        scheme, _, token = sent.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(),
                                                                 config.METRICS_TOKEN.encode()):
            response.set_header("WWW-Authenticate", 'Bearer realm="metrics"')
            return _plain(401, "Send the METRICS_TOKEN as `Authorization: Bearer <token>`.\n")
    elif not _loopback_request():
        return _plain(403, "/metrics answers only on loopback; set METRICS_TOKEN to scrape it from elsewhere.\n")
    body, content_type = queue_prometheus.exposition()
    response.content_type = content_type
    response.set_header("Cache-Control", "no-store")
    return body


def _plain(status, text):
    response.status = status
    response.content_type = "text/plain; charset=utf-8"
    return text
