"""Every job, listener and periodic task. `huey_consumer tasks.huey -w 4` runs them.

Jobs are thin: they take ids, load their rows and call the service that does
the work. This module never imports marketplace: the consumer must not build
the web app.
"""

import models
from jobs import huey, job  # noqa: F401  (huey is what huey_consumer loads)

if models.db.obj is None:
    models.init_db()


# ---------------------------------------------------------------------------
# Jobs of other modules named by JOB_MODULES
# ---------------------------------------------------------------------------

import importlib  # noqa: E402

import config  # noqa: E402

for _module in config.JOB_MODULES:
    importlib.import_module(_module)
