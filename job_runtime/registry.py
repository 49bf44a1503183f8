"""Every declared job by name, and the listeners told of every job's final failure.

Jobs are added as they are declared (jobs.Job); the dispatcher, the runner, the
sweeper and the failed-job store look them up here by the name on their records.
"""

# job name -> jobs.Job
JOBS = {}

# listener(failed_job), for alerts and metrics (jobs.on_failure registers them)
FAILURE_LISTENERS = []


def declared(name):
    """The job declared under `name`, or None."""
    return JOBS.get(name)
