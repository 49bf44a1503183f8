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
# Catalog: thumbnails and moderation notifications (issue 2)
# ---------------------------------------------------------------------------

import images  # noqa: E402
import notifications  # noqa: E402
from errors import NotAnImage  # noqa: E402
from jobs import Fail, JobTimeout  # noqa: E402


@job(queue="low", tries=3, backoff=[10, 60], timeout=180)
def process_file_upload(product_id, thumbnail_path):
    """ProcessFileUpload: the product's thumbnail in every width; the shop shows a placeholder until then."""
    try:
        images.process_thumbnail(product_id, thumbnail_path)
    except NotAnImage as exc:
        # Trying again cannot make this file an image.
        raise Fail(str(exc)) from None


@process_file_upload.failed
def process_file_upload_failed(exc, product_id, thumbnail_path):
    if isinstance(exc, Fail):
        message = str(exc)
    elif isinstance(exc, JobTimeout):
        message = "Making the thumbnail took too long. Upload a smaller image."
    else:
        message = "The thumbnail could not be processed. Upload it again, or try another image."
    images.mark_failed(product_id, thumbnail_path, message)


# The seller's ProductApproved / ProductRejected notifications, keyed by the
# moderation decision: a retry after a mail failure only sends what is missing.
@job(tries=3, backoff=[30, 120], timeout=60)
def notify_product_approved(review_id):
    notifications.product_approved(review_id)


@job(tries=3, backoff=[30, 120], timeout=60)
def notify_product_rejected(review_id):
    notifications.product_rejected(review_id)


# ---------------------------------------------------------------------------
# Jobs of other modules named by JOB_MODULES
# ---------------------------------------------------------------------------

import importlib  # noqa: E402

import config  # noqa: E402

for _module in config.JOB_MODULES:
    importlib.import_module(_module)
