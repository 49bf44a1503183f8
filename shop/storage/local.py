"""The local disk: keys are paths under DATA_DIR, exactly where the shop always kept its files."""

import contextlib
import hashlib
import os
import secrets
from pathlib import Path

from shop.errors import MissingObject, StorageError
from shop.storage.base import AREAS, CHUNK, Storage, StoredObject

PARTIAL_MARK = ".partial-"


class LocalStorage(Storage):
    kind = "local"

    def __init__(self, root):
        self.root = Path(root).resolve()

    def describe(self):
        return f"the folder {self.root}"

    def path(self, key):
        path = (self.root / key).resolve()
        if self.root not in path.parents:
            raise MissingObject(f"not a stored file name: {key!r}")
        return path

    def put_file(self, key, fileobj, content_type=None):
        target = self.path(key)
        partial = target.with_name(f".{target.name}{PARTIAL_MARK}{secrets.token_hex(4)}")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            written = _copy_counting(fileobj, partial)
            os.replace(partial, target)
        except OSError as exc:
            with contextlib.suppress(OSError):
                partial.unlink()
            raise StorageError(f"could not write {key} under {self.root}: {exc.strerror or exc}") from exc
        except BaseException:
            with contextlib.suppress(OSError):
                partial.unlink()
            raise
        return StoredObject(key, *written)

    def open(self, key):
        try:
            return open(self.path(key), "rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise MissingObject(f"no stored file {key}") from None

    def size(self, key):
        try:
            path = self.path(key)
            return path.stat().st_size if path.is_file() else None
        except (MissingObject, OSError):
            return None

    def delete(self, key):
        try:
            self.path(key).unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise StorageError(f"could not delete {key}: {exc.strerror or exc}") from exc

    def keys(self, prefix=""):
        # Only the stored areas: DATA_DIR also holds the databases, mail and the app secret.
        folder = prefix.rpartition("/")[0]
        starts = [self.root / folder] if folder else [self.root / area for area in AREAS]
        found = []
        for directory, subfolders, names in (step for start in starts for step in os.walk(start)):
            subfolders.sort()
            for name in names:
                if name.startswith(".") and PARTIAL_MARK in name:
                    continue  # a write in progress, or one that a power cut interrupted
                key = (Path(directory) / name).relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    found.append(key)
        return sorted(found)

    def local_path(self, key):
        return self.path(key)


def _copy_counting(fileobj, target):
    """Write `fileobj` to a new file `target`; returns (size, sha256)."""
    digest, size = hashlib.sha256(), 0
    with open(target, "xb") as out:
        while chunk := fileobj.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    return size, digest.hexdigest()

