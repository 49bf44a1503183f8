"""A no-op job declared through the job runtime (loaded by the consumer via JOB_MODULES)."""

from job_runtime import job


@job(tries=1)
def noop_job():
    pass
