"""Where the shop keeps its files: `storage()` is the store the settings choose.

STORAGE=local (the default) keeps them under DATA_DIR as the shop always has;
STORAGE=s3 in an S3-compatible bucket. Callers address files by key
(`key_for(PRODUCTS, product.file_path)`) and never by a path on disk, so the
same jobs and pages work against either.
"""

import threading

from shop import config
from shop.errors import MissingObject, StorageError
from shop.storage.base import BACKUPS, COPIED_AREAS, INVOICES, MEDIA, PRODUCTS, Storage, StoredObject, key_for

__all__ = ["BACKUPS", "COPIED_AREAS", "INVOICES", "MEDIA", "PRODUCTS", "MissingObject", "Storage", "StorageError",
           "StoredObject", "build", "key_for", "storage"]

_lock = threading.Lock()
# (settings, store): settings change only in tests, so one entry is enough.
_current = (None, None)


def build(kind, settings=None):
    """A store of `kind` ("local" or "s3") from `settings` (the current ones by default)."""
    settings = settings or config.current()
    # The stores are imported here: a shop on the local disk never loads boto3, and a
    # thumbnail's child process (which imports the catalog) starts no slower for it.
    if kind == "local":
        from shop.storage.local import LocalStorage

        return LocalStorage(settings.DATA_DIR)
    if kind == "s3":
        if not settings.S3_BUCKET:
            raise StorageError("S3_BUCKET is not set: there is no bucket to use")
        from shop.storage.s3 import S3Storage

        return S3Storage(settings.S3_BUCKET, prefix=settings.S3_PREFIX, region=settings.S3_REGION,
                         endpoint_url=settings.S3_ENDPOINT_URL, access_key_id=settings.S3_ACCESS_KEY_ID,
                         secret_access_key=settings.S3_SECRET_ACCESS_KEY)
    raise StorageError(f"unknown storage {kind!r}")


def storage():
    """The store of the current settings, built once for them on first use.

    Built lazily, so each gunicorn worker and each forked consumer worker makes its
    own boto3 client after the fork (a client is thread-safe, not fork-safe)."""
    global _current
    settings = config.current()
    built_for, store = _current
    if built_for is not settings:
        with _lock:
            if _current[0] is not settings:
                _current = (settings, build(settings.STORAGE, settings))
            store = _current[1]
    return store
