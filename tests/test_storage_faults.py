"""The storage server going away in the middle of work: an upload, a thumbnail job, a
`storage copy`. Each time the shop reports a clear error, leaves nothing half-written,
and a retry once the server is back completes.

The shop talks to moto's server through a relay that the test cuts (StorageOutage), so
the bucket can still be inspected for anything left behind."""

import hashlib
import subprocess

import pytest
from webtest import Upload

import tasks
from job_runtime.models import JobRecord
from shop.catalog import images
from shop.errors import StorageError
from shop.storage import MEDIA, PRODUCTS, INVOICES, build, key_for, storage
from shop.storage import copy as storage_copy
from shop.storage.s3 import S3Storage
from models import Product
from tests.catalog_helpers import form_for, jpeg_bytes
from tests.conftest import cli_process, wait_for
from tests.s3_server import PREFIX, StorageOutage, storage_settings
from tests.test_storage import sell

BIG = b"".join(hashlib.sha256(str(i).encode()).digest() for i in range(100_000))  # 3.2 MB


@pytest.fixture
def outage(own_s3_server, app_env):
    """(relay, bucket): the shop on STORAGE=s3 through a relay the test can cut."""
    relay = StorageOutage(own_s3_server)
    bucket = own_s3_server.new_bucket()
    app_env.reload(**storage_settings(relay, bucket))
    yield relay, bucket
    relay.cut()


def submit_product(client, content):
    form = form_for(client.get("/seller/products/new"), "/seller/products")
    form["title"], form["description"], form["price"] = "Field recordings", "Four hours of rain.", "9.00"
    form["file"], form["thumbnail"] = Upload("rain.zip", content), Upload("cover.jpg", jpeg_bytes())
    return form.submit(expect_errors=True)


def test_an_upload_cut_off_leaves_nothing_and_the_retry_completes(outage, own_s3_server, client, login_as):
    relay, bucket = outage
    login_as("seller")
    relay.cut_after(1_000_000)  # a third of the product file is on its way when the server goes
    response = submit_product(client, BIG)
    assert response.status_int == 503 and "file storage cannot be reached" in response.text
    assert Product.select().count() == 0
    assert own_s3_server.objects(bucket) == {}  # no object, whole or partial, under any key

    relay.restore()
    assert submit_product(client, BIG).status_int == 303
    product = Product.get()
    objects = own_s3_server.objects(bucket)
    assert objects[PREFIX + key_for(PRODUCTS, product.file_path)] == BIG
    assert sorted(objects) == sorted([PREFIX + key_for(PRODUCTS, product.file_path),
                                      PREFIX + key_for(PRODUCTS, product.thumbnail_original)]
                                     + [PREFIX + key_for(MEDIA, p) for p in product.thumbnails.values()])


def test_a_thumbnail_job_cut_off_is_retried_without_orphans(outage, own_s3_server, make_user, monkeypatch):
    relay, bucket = outage
    product = sell(make_user("seller"), thumbnail=jpeg_bytes())
    put_file, outage_run = S3Storage.put_file, {"widths": 0, "over": False}

    def server_goes_after_the_first_width(store, key, fileobj, content_type=None):
        if key.startswith("media/") and not outage_run["over"]:
            outage_run["widths"] += 1
            if outage_run["widths"] == 2:
                outage_run["over"] = True
                relay.cut()
        return put_file(store, key, fileobj, content_type)

    monkeypatch.setattr(S3Storage, "put_file", server_goes_after_the_first_width)
    with pytest.raises(StorageError, match="could not upload media/"):
        images.process_thumbnail(product.id, product.thumbnail_original)
    assert Product.get_by_id(product.id).thumbnail_state == "processing"  # nothing recorded

    relay.restore()
    assert images.process_thumbnail(product.id, product.thumbnail_original) == images.ThumbnailOutcome.READY
    product = Product.get_by_id(product.id)
    media = sorted(name for name in own_s3_server.objects(bucket) if name.startswith(PREFIX + "media/"))
    # The first run's width was written again under the same name: every object is one the row names.
    assert media == sorted(PREFIX + key_for(MEDIA, p) for p in product.thumbnails.values()) and len(media) == 3


def local_shop_files(app_env):
    """A shop on the local disk with product files, thumbnails and an invoice; {key: bytes}."""
    local = build("local")
    files = {key_for(PRODUCTS, f"files/{i:02d}.zip"): BIG[i * 1000:i * 1000 + 300_000] for i in range(5)}
    files[key_for(MEDIA, "ab/abc-160.webp")] = b"RIFF....WEBP"
    files[key_for(INVOICES, "2026/INV-000001.pdf")] = b"%PDF-1.4 invoice"
    for key, data in files.items():
        local.put_bytes(key, data)
    return files


def test_storage_copy_cut_off_resumes_verified_and_copies_back(outage, own_s3_server, app_env, tmp_path):
    relay, bucket = outage
    app_env.reload(STORAGE="local")
    files = local_shop_files(app_env)
    local, bucket_store = build("local"), build("s3")

    relay.cut_after(700_000)  # in the middle of the third product file
    with pytest.raises(StorageError):
        storage_copy.copy_files(local, bucket_store)
    partial = own_s3_server.objects(bucket)
    assert 0 < len(partial) < len(files)
    assert all(files[name.removeprefix(PREFIX)] == data for name, data in partial.items())  # only whole files

    relay.restore()
    # The command itself, as an operator runs it (the shop may keep running meanwhile).
    run = cli_process(app_env, "storage", "copy", "--to", "s3", stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                      text=True)
    output = run.communicate(timeout=60)[0]
    assert run.returncode == 0, output
    assert f"Copied {len(files) - len(partial)} files" in output and f"{len(partial)} already there" in output
    assert {name.removeprefix(PREFIX): data for name, data in own_s3_server.objects(bucket).items()} == files

    # And back: a shop leaving the bucket gets every file onto its disk, verified.
    for key in files:
        local.delete(key)
    report = storage_copy.copy_files(bucket_store, local)
    assert report.copied == len(files) and {key: local.read_bytes(key) for key in files} == files
    assert storage_copy.copy_files(bucket_store, local).skipped == len(files)  # a second run copies nothing
    assert storage().kind == "local"


def test_a_real_consumer_makes_the_thumbnails_once_the_storage_is_back(outage, own_s3_server, consumer, make_user):
    """The job's own retry (backoff 10 s) completes it, in `huey_consumer` on the bucket."""
    relay, bucket = outage
    product = sell(make_user("seller"), thumbnail=jpeg_bytes())
    relay.cut()
    consumer(workers=1)
    tasks.process_file_upload.dispatch(product.id, product.thumbnail_original)
    failed = wait_for(lambda: JobRecord.get_or_none((JobRecord.name == "process_file_upload")
                                                    & (JobRecord.exceptions >= 1)), timeout=60,
                      message="the first try to fail")
    assert "could not" in failed.last_error and Product.get_by_id(product.id).thumbnail_state == "processing"
    relay.restore()
    wait_for(lambda: Product.get_by_id(product.id).thumbnail_state == "ready", timeout=60,
             message="the retry to make the thumbnails")
    product = Product.get_by_id(product.id)
    media = sorted(name for name in own_s3_server.objects(bucket) if name.startswith(PREFIX + "media/"))
    assert media == sorted(PREFIX + key_for(MEDIA, p) for p in product.thumbnails.values()) and len(media) == 3
