"""What the runtime's real-consumer tests run: `huey_consumer job_runtime.tests.app.huey`.

It declares the sample jobs and sets the runtime up from the environment the
test passes (support.environ), as an application's own module would from its
settings.
"""

import os

import job_runtime
from job_runtime.tests import sample_jobs  # noqa: F401  (declares the jobs the tests dispatch)
from job_runtime.tests import support

support.set_up_from(os.environ)

huey = job_runtime.huey
