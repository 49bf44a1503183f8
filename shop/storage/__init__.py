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
_built = {}


def build(kind, settings=None):
    """A store of `kind` ("local" or "s3") from `settings` (the current ones by default)."""
    settings = settings or config.current()
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
    """The store of the current settings, built once per settings (boto3's client is thread-safe)."""
    settings = config.current()
    store = _built.get(id(settings))
    if store is None or store[0] is not settings:
        with _lock:
            # One entry: settings change only in tests, and the old store is of no further use.
            _built.clear()
            store = _built[id(settings)] = (settings, build(settings.STORAGE, settings))
    return store[1]
