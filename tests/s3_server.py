"""A local S3-compatible server for the object storage tests: moto's server mode on loopback.

One server serves the whole session (it starts in under a second, but the suite
runs three times in CI); each test gets a bucket of its own, so no test sees
another's objects. Fault tests take a server of their own, which they stop and
start again on the same port.
"""

import socket
import subprocess
import threading
import sys
import uuid
from pathlib import Path

import boto3
import botocore.config
import pytest

from tests.conftest import free_port, marks_its_tests, port_open, wait_for

BIN = Path(sys.executable).parent
# moto accepts any credentials; the shop still signs every request with these (SigV4).
ACCESS_KEY, SECRET_KEY = "marketplace-test-key", "marketplace-test-secret"
PREFIX = "shop-a/"


class S3Server:
    """A moto_server process on 127.0.0.1:<port>, stopped by its own PID."""

    def __init__(self, log_path, port=None):
        self.port = port or free_port()
        self.log_path = log_path
        self.process = None

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        self.log = open(self.log_path, "ab")
        self.process = subprocess.Popen([str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(self.port)],
                                        stdout=self.log, stderr=subprocess.STDOUT)
        wait_for(lambda: port_open("127.0.0.1", self.port) or self.process.poll() is not None, timeout=20,
                 message="moto_server to listen")
        assert self.process.poll() is None, Path(self.log_path).read_text()[-2000:]
        return self

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process is not None:
            self.log.close()

    def client(self):
        return boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
                            config=botocore.config.Config(signature_version="s3v4",
                                                          s3={"addressing_style": "path"}))

    def new_bucket(self):
        name = f"shop-{uuid.uuid4().hex[:16]}"
        self.client().create_bucket(Bucket=name)
        return name

    def objects(self, bucket):
        """{object name: bytes} of everything in `bucket`."""
        client = self.client()
        names = [item["Key"] for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
                 for item in page.get("Contents", ())]
        return {name: client.get_object(Bucket=bucket, Key=name)["Body"].read() for name in names}

    def unfinished_uploads(self, bucket):
        return self.client().list_multipart_uploads(Bucket=bucket).get("Uploads", [])


class StorageOutage:
    """A TCP relay between the shop and the S3 server that a fault test cuts and restores.

    moto keeps its buckets in memory, so stopping its process would also forget
    what was half-written; cut off here, the shop meets a storage server that has
    gone away (connections reset, then refused) while the test can still look
    into the bucket for anything left behind.
    """

    def __init__(self, server):
        self.server = server
        self.port = free_port()
        self.listener = None
        self.connections = []
        self.lock = threading.Lock()
        self.budget = None  # bytes the shop may still send before the outage
        self.restore()

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"

    def restore(self):
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self.listener, self.budget = listener, None
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self):
        """The server goes away now: open connections are reset and new ones refused."""
        with self.lock:
            listener, self.listener = self.listener, None
            connections, self.connections = self.connections, []
        if listener is not None:
            listener.close()
        for sock in connections:
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                sock.close()
            except OSError:
                pass

    def cut_after(self, nbytes):
        """Cut once the shop has sent `nbytes` more bytes (in the middle of an upload)."""
        self.budget = nbytes

    def _accept(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.server.port))
            with self.lock:
                self.connections += [client, upstream]
            threading.Thread(target=self._pipe, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, False), daemon=True).start()

    def _pipe(self, source, target, from_shop):
        try:
            while data := source.recv(65536):
                if from_shop and self.budget is not None:
                    self.budget -= len(data)
                    if self.budget <= 0:
                        self.cut()
                        return
                target.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


def storage_settings(server, bucket, **extra):
    return {"STORAGE": "s3", "S3_BUCKET": bucket, "S3_ENDPOINT_URL": server.endpoint, "S3_REGION": "us-east-1",
            "S3_ACCESS_KEY_ID": ACCESS_KEY, "S3_SECRET_ACCESS_KEY": SECRET_KEY, "S3_PREFIX": PREFIX, **extra}


@pytest.fixture(scope="session")
@marks_its_tests("consumer")
def s3_server(tmp_path_factory):
    """The session's moto_server."""
    server = S3Server(tmp_path_factory.mktemp("s3") / "moto.log").start()
    yield server
    server.stop()


@pytest.fixture
@marks_its_tests("consumer")
def own_s3_server(tmp_path):
    """A moto_server of this test alone, which it may pause, resume or stop."""
    server = S3Server(tmp_path / "moto.log").start()
    yield server
    server.stop()


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.consumer)])
def store(request, app_env):
    """Each storage test twice: on the local disk, and on a fresh bucket of the session's
    S3 server. Returns (kind, bucket or None); the shop's settings already point at it."""
    if request.param == "local":
        return "local", None
    server = request.getfixturevalue("s3_server")
    bucket = server.new_bucket()
    app_env.reload(**storage_settings(server, bucket))
    return "s3", bucket
