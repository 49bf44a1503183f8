"""What every store of the shop's files offers, whichever disk or bucket holds them.

The shop keeps four kinds of file, each under a top-level folder of its key:
products/ (the sellers' private files and thumbnail originals), media/ (the
generated thumbnails, public), invoices/ (PDFs) and backups/. A key is that
folder and the path the database records, so `products/files/ab12.zip` is the
file whose Product.file_path is `files/ab12.zip`: the rows stay the same
whichever store is in use, and an existing shop's disk needs no move.

A write never leaves a half-written object under its key: the local disk
writes a partial file and renames it into place; object storage makes an
object visible only once its upload has completed. Deleting what an edit
replaced is the caller's business, after its database commit.
"""

import abc
import collections
import contextlib
import hashlib
import io
import re
import shutil
import tempfile
from pathlib import Path

from shop.errors import MissingObject

PRODUCTS = "products"
MEDIA = "media"
INVOICES = "invoices"
BACKUPS = "backups"
AREAS = (PRODUCTS, MEDIA, INVOICES, BACKUPS)
# What `marketplace storage copy` moves: every file a row of the database names.
# Backups stay where they were written.
COPIED_AREAS = (PRODUCTS, MEDIA, INVOICES)
CHUNK = 1024 * 1024

_SAFE_PART = re.compile(r"[A-Za-z0-9._+=@-][A-Za-z0-9._+=@ -]*")


StoredObject = collections.namedtuple("StoredObject", "key size sha256")


def key_for(area, relative):
    """The key of `relative` (as the database records it) in `area`, refusing any path that leaves it."""
    relative = str(relative).replace("\\", "/")
    parts = relative.split("/")
    if not relative or any(part in ("", ".", "..") or not _SAFE_PART.fullmatch(part) for part in parts):
        raise MissingObject(f"not a stored file name: {relative!r}")
    return f"{area}/{relative}"


def sha256_of(fileobj):
    """(sha256 hex, size) of what is left to read in `fileobj`."""
    digest, size = hashlib.sha256(), 0
    while chunk := fileobj.read(CHUNK):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


class Storage(abc.ABC):
    """One place that keeps the shop's files, addressed by key."""

    kind = ""

    @abc.abstractmethod
    def put_file(self, key, fileobj, content_type=None):
        """Store the rest of `fileobj` under `key` whole or not at all; returns a StoredObject."""

    def put_bytes(self, key, data, content_type=None):
        return self.put_file(key, io.BytesIO(data), content_type)

    def put_path(self, key, path, content_type=None):
        with open(path, "rb") as handle:
            return self.put_file(key, handle, content_type)

    @abc.abstractmethod
    def open(self, key):
        """A readable binary file of the object, to use in `with`; MissingObject if there is none."""

    def read_bytes(self, key):
        with self.open(key) as handle:
            return handle.read()

    @abc.abstractmethod
    def size(self, key):
        """The object's size in bytes, or None when there is no object under `key`."""

    def exists(self, key):
        return self.size(key) is not None

    @abc.abstractmethod
    def delete(self, key):
        """Remove the object; a missing one is fine."""

    @abc.abstractmethod
    def keys(self, prefix=""):
        """Every stored key that starts with `prefix`, in order (partial writes excluded)."""

    def checksum(self, key):
        """The SHA-256 of the object's bytes as stored (read back, never taken on trust)."""
        with self.open(key) as handle:
            return sha256_of(handle)[0]

    def recorded_checksum(self, key):
        """The SHA-256 the store keeps for the object without reading it, else its checksum;
        None when there is no object."""
        return self.checksum(key) if self.exists(key) else None

    def local_path(self, key):
        """The object's file on this machine's disk, or None when it lives elsewhere."""
        return None

    def download_url(self, key, disposition, content_type, ttl):
        """A short-lived URL that hands out the object with these headers, or None when the
        shop serves the file itself (the local disk)."""
        return None

    @contextlib.contextmanager
    def local_copy(self, key, suffix=""):
        """A path on disk holding the object, for work that needs a file (a thumbnail's decoder).

        The local disk hands out its own file; any other store a temporary copy,
        removed when the block ends.
        """
        path = self.local_path(key)
        if path is not None:
            if not path.is_file():
                raise MissingObject(f"no stored file {key}")
            yield path
            return
        with tempfile.TemporaryDirectory(prefix="marketplace-") as folder:
            target = Path(folder) / f"object{suffix}"
            with self.open(key) as source, open(target, "wb") as out:
                shutil.copyfileobj(source, out, CHUNK)
            yield target

    def describe(self):
        """Where the files are, for messages: a folder or a bucket."""
        return self.kind
