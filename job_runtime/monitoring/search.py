"""The search of jobs by name, tag or argument, for the dashboard's Jobs page and `queue jobs`.

Each criterion has its index, so a search costs the same on a long table:
- a tag: the job_tag rows of that tag, newest job first (index tag, job_id);
- a name: the job table's index (name, id);
- an argument (a piece of text in the stored arguments): only the newest
  SCAN_LIMIT records are read, as the other lists of the dashboard do, since no
  index can find text inside the arguments.
Criteria combine (all must match). An encrypted job's arguments are a cipher's
token: they are never searched, and a search by argument finds no encrypted job.
"""

from peewee import fn

from job_runtime.context import is_sqlite
from job_runtime.models import JobRecord, JobTag
from job_runtime.monitoring.dashboard import LIST_COLUMNS, SCAN_LIMIT, job_row


def _contains(text):
    """Arguments that hold `text` as it is (no wildcards: % and _ are themselves)."""
    if is_sqlite():
        return fn.INSTR(JobRecord.payload, text) > 0
    return fn.STRPOS(JobRecord.payload, text) > 0


def search(name=None, tag=None, argument=None, queue=None, limit=50):
    """Newest first, the jobs matching every criterion given; [] without a criterion."""
    if not (name or tag or argument):
        return []
    query = JobRecord.select(*LIST_COLUMNS)
    if tag:
        query = (query.join(JobTag, on=(JobTag.job_id == JobRecord.id))
                 .where(JobTag.tag == tag).order_by(JobTag.job_id.desc()))
    else:
        query = query.order_by(JobRecord.id.desc())
    if name:
        query = query.where(JobRecord.name == name)
    if queue:
        query = query.where(JobRecord.queue == queue)
    if argument:
        query = query.where((JobRecord.encrypted == False) & _contains(argument))  # noqa: E712
        if not (tag or name):
            newest = JobRecord.select(fn.MAX(JobRecord.id)).scalar() or 0
            query = query.where(JobRecord.id > newest - SCAN_LIMIT)
    return [job_row(record) for record in query.limit(limit)]
