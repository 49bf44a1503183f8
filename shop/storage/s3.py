"""S3-compatible object storage through boto3: Amazon S3, Cloudflare R2, Backblaze B2, Wasabi, MinIO.

An object's name is S3_PREFIX followed by the shop's key, so one bucket can
hold several shops. An upload becomes visible under its key only when it has
completed (a single PUT, or the last step of a multipart upload), which is the
bucket's own "write to a temporary name and move into place": a reader sees
the old object or the new one, never a part. A multipart upload cut off by a
fault leaves no object, only parts that the bucket's lifecycle rule
(DEPLOY.md) clears.

Each object carries the SHA-256 of its bytes in its metadata, computed by the
shop while uploading; `storage copy` compares it, and reads the object back to
verify it, before it counts a file as copied.
"""

import contextlib
import tempfile
from urllib.parse import urlparse

import boto3
import botocore.config
import botocore.exceptions
from boto3.exceptions import Boto3Error

from shop.errors import MissingObject, StorageError
from shop.storage.base import CHUNK, Storage, StoredObject, sha256_of

# How long the shop waits for the storage server before it reports it unreachable:
# a download page or a job should fail with a clear message, not hang a worker.
CONNECT_TIMEOUT = 5
READ_TIMEOUT = 60
SPOOL_IN_MEMORY = 8 * CHUNK


class S3Storage(Storage):
    kind = "s3"

    def __init__(self, bucket, prefix="", region=None, endpoint_url=None, access_key_id=None,
                 secret_access_key=None, attempts=3):
        self.bucket = bucket
        self.prefix = prefix
        self.endpoint_url = endpoint_url
        self.client = boto3.session.Session().client(
            "s3", region_name=region, endpoint_url=endpoint_url, aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            config=botocore.config.Config(
                signature_version="s3v4", connect_timeout=CONNECT_TIMEOUT, read_timeout=READ_TIMEOUT,
                retries={"max_attempts": attempts, "mode": "standard"},
                # R2, B2 and MinIO are addressed by their endpoint with the bucket in the path;
                # Amazon's own endpoint picks virtual hosts.
                s3={"addressing_style": "path" if endpoint_url else "auto"}))

    def describe(self):
        where = urlparse(self.endpoint_url).netloc if self.endpoint_url else "S3"
        return f"the bucket {self.bucket} at {where}"

    def _name(self, key):
        return self.prefix + key

    def _error(self, action, key, exc):
        if isinstance(exc, botocore.exceptions.ClientError):
            code = exc.response.get("Error", {}).get("Code", "")
            if code in ("404", "NoSuchKey", "NotFound"):
                return MissingObject(f"no stored file {key}")
            detail = f"{code}: {exc.response.get('Error', {}).get('Message', '')}".strip(": ")
        else:
            detail = str(exc)
        return StorageError(f"could not {action} {key} in {self.describe()}: {detail}")

    def put_file(self, key, fileobj, content_type=None):
        with _seekable(fileobj) as (body, start):
            sha256, size = sha256_of(body)
            body.seek(start)
            extra = {"Metadata": {"sha256": sha256}, "ContentType": content_type or "application/octet-stream"}
            try:
                self.client.upload_fileobj(body, self.bucket, self._name(key), ExtraArgs=extra)
                stored = self.client.head_object(Bucket=self.bucket, Key=self._name(key))
            except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError, Boto3Error) as exc:
                raise self._error("upload", key, exc) from exc
        if stored["ContentLength"] != size:
            raise StorageError(f"the upload of {key} to {self.describe()} stored {stored['ContentLength']} "
                               f"bytes of {size}")
        return StoredObject(key, size, sha256)

    def open(self, key):
        try:
            reply = self.client.get_object(Bucket=self.bucket, Key=self._name(key))
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
            raise self._error("read", key, exc) from exc
        return _Body(reply["Body"], self, key)

    def _head(self, key):
        try:
            return self.client.head_object(Bucket=self.bucket, Key=self._name(key))
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
            error = self._error("look up", key, exc)
            if isinstance(error, MissingObject):
                return None
            raise error from exc

    def size(self, key):
        head = self._head(key)
        return None if head is None else head["ContentLength"]

    def recorded_checksum(self, key):
        """The SHA-256 the shop recorded when it uploaded the object (read whole if it has none)."""
        head = self._head(key)
        if head is None:
            return None
        return head.get("Metadata", {}).get("sha256") or self.checksum(key)

    def delete(self, key):
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self._name(key))
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
            raise self._error("delete", key, exc) from exc

    def keys(self, prefix=""):
        found = []
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket,
                                                                          Prefix=self._name(prefix))
            for page in pages:
                found.extend(item["Key"][len(self.prefix):] for item in page.get("Contents", ()))
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
            raise self._error("list", prefix or "the files", exc) from exc
        return sorted(found)

    def download_url(self, key, disposition, content_type, ttl):
        # Signed here, without a request: the bucket checks the signature and the expiry.
        return self.client.generate_presigned_url(
            "get_object", ExpiresIn=int(ttl),
            Params={"Bucket": self.bucket, "Key": self._name(key), "ResponseContentDisposition": disposition,
                    "ResponseContentType": content_type, "ResponseCacheControl": "private, no-store"})


class _Body:
    """An object's bytes as a file: errors of a read half-way become StorageError."""

    def __init__(self, stream, store, key):
        self._stream, self._store, self._key = stream, store, key

    def read(self, size=-1):
        try:
            return self._stream.read(None if size is None or size < 0 else size)
        except (botocore.exceptions.BotoCoreError, OSError) as exc:
            raise self._store._error("read", self._key, exc) from exc

    def close(self):
        self._stream.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


@contextlib.contextmanager
def _seekable(fileobj):
    """(a seekable file, position of its first byte): the upload's own file when it can
    seek (a form upload), else a spooled copy (another store's object being copied)."""
    try:
        start = fileobj.tell()
        fileobj.seek(start)
    except (AttributeError, OSError, ValueError):
        start = None
    if start is not None:
        yield fileobj, start
        return
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY) as spool:
        while chunk := fileobj.read(CHUNK):
            spool.write(chunk)
        spool.seek(0)
        yield spool, 0
