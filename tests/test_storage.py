"""The shop's files on either store: every test here runs on the local disk and on an
S3 bucket (moto's server on loopback, through the real boto3 client)."""

import hashlib
import io
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from webtest import Upload

from shop import config
from shop.catalog import images
from shop.errors import ConfigError, MissingObject
from shop.orders import cart, downloads, invoices, orders
from shop.storage import INVOICES, MEDIA, PRODUCTS, key_for, storage
from models import DownloadLink, Order, Product, utcnow
from tests.catalog_helpers import form_for, jpeg_bytes
from tests.conftest import login

PDF = b"%PDF-1.4\n" + b"A product file worth buying.\n" * 300


def stored_keys(area):
    return storage().keys(f"{area}/")


def sell(seller, content=PDF, file_name="Grüße presets.zip", thumbnail=None):
    """An approved product whose file (and thumbnail original) are in the current store."""
    file_path = f"files/{hashlib.sha256(content).hexdigest()[:24]}.zip"
    storage().put_bytes(key_for(PRODUCTS, file_path), content)
    fields = {}
    if thumbnail is not None:
        fields = {"thumbnail_original": "thumbs/cover0123456789.jpg", "thumbnail_state": "processing"}
        storage().put_bytes(key_for(PRODUCTS, fields["thumbnail_original"]), thumbnail)
    return Product.create(seller=seller, title="Grüße presets", slug=f"presets-{Product.select().count()}",
                          description="Presets.", price=1500, currency="USD", status="approved",
                          file_path=file_path, file_name=file_name, file_size=len(content),
                          file_sha256=hashlib.sha256(content).hexdigest(), approved_at=utcnow(),
                          **fields)


def bought(customer, product):
    cart.add(customer, product.id)
    order = orders.create_from_cart(customer, "test")
    orders.mark_paid(order.id, payment_ref="pi_test_1")
    return Order.get_by_id(order.id)


# ---------------------------------------------------------------------------
# The interface
# ---------------------------------------------------------------------------


def test_a_stored_file_reads_back_whole_and_goes_away(store):
    blob = bytes(range(256)) * 5000
    stored = storage().put_file("products/files/a.bin", io.BytesIO(blob))
    assert stored == ("products/files/a.bin", len(blob), hashlib.sha256(blob).hexdigest())
    assert storage().read_bytes("products/files/a.bin") == blob
    assert storage().size("products/files/a.bin") == len(blob) and storage().exists("products/files/a.bin")
    assert storage().checksum("products/files/a.bin") == stored.sha256
    assert storage().recorded_checksum("products/files/a.bin") == stored.sha256
    storage().put_bytes("products/files/a.bin", b"replaced")  # a write replaces whole
    assert storage().read_bytes("products/files/a.bin") == b"replaced"
    storage().put_bytes("media/ab/c-160.webp", b"RIFF")
    assert storage().keys("products/") == ["products/files/a.bin"]
    assert storage().keys("") == ["media/ab/c-160.webp", "products/files/a.bin"]
    storage().delete("products/files/a.bin")
    storage().delete("products/files/a.bin")  # deleting twice is fine
    assert storage().size("products/files/a.bin") is None and not storage().exists("products/files/a.bin")
    with pytest.raises(MissingObject):
        storage().open("products/files/a.bin")
    with storage().local_copy("media/ab/c-160.webp") as path:
        assert path.read_bytes() == b"RIFF"


@pytest.mark.parametrize("relative", ["../app_secret", "files/../../x", "/etc/passwd", "", "a//b", "files/\x00"])
def test_keys_cannot_leave_their_area(relative):
    with pytest.raises(MissingObject):
        key_for(PRODUCTS, relative)


def test_a_local_shop_keeps_its_files_where_they_always_were(app_env):
    """STORAGE=local is today's data/: an existing shop needs no move."""
    storage().put_bytes(key_for(PRODUCTS, "files/x.zip"), b"zip")
    storage().put_bytes(key_for(INVOICES, "2026/INV-000001.pdf"), b"%PDF")
    assert (config.UPLOADS_DIR / "files/x.zip").read_bytes() == b"zip"
    assert (config.INVOICES_DIR / "2026/INV-000001.pdf").read_bytes() == b"%PDF"
    assert not [p for p in config.UPLOADS_DIR.rglob(".*")]  # no partial file left beside it


@pytest.mark.parametrize("environ, message", [
    ({"STORAGE": "s3"}, "STORAGE=s3 needs S3_BUCKET"),
    ({"STORAGE": "disk"}, "STORAGE must be one of local, s3"),
    ({"S3_ACCESS_KEY_ID": "k"}, "S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY go together"),
    ({"STORAGE": "s3", "S3_BUCKET": "b", "DOWNLOAD_ACCEL_PREFIX": "/_protected/"}, "unset it with STORAGE=s3"),
    ({"S3_ENDPOINT_URL": "minio:9000"}, "S3_ENDPOINT_URL must be an absolute http/https URL"),
    ({"DOWNLOAD_URL_TTL_SECONDS": "0"}, "DOWNLOAD_URL_TTL_SECONDS must be at least 1"),
    ({"S3_PREFIX": "shop a"}, "S3_PREFIX may hold only"),
])
def test_a_bad_storage_setting_stops_start_up_with_one_line(environ, message):
    with pytest.raises(ConfigError) as error:
        config.load_settings(environ, dotenv=False)
    assert message in str(error.value) and "\n" not in str(error.value)


# ---------------------------------------------------------------------------
# Uploads, thumbnails, downloads and invoices on either store
# ---------------------------------------------------------------------------


def test_a_sellers_upload_and_its_thumbnails_land_in_the_store(store, client, login_as):
    login_as("seller")
    form = form_for(client.get("/seller/products/new"), "/seller/products")
    form["title"], form["description"], form["price"] = "Pixel Icons", "Forty icons.", "12.50"
    form["file"], form["thumbnail"] = Upload("icons.zip", PDF), Upload("cover.jpg", jpeg_bytes())
    assert form.submit().status_int == 303
    product = Product.get()
    assert storage().read_bytes(key_for(PRODUCTS, product.file_path)) == PDF
    assert product.file_sha256 == hashlib.sha256(PDF).hexdigest()
    # Immediate mode ran the thumbnail job: three widths in media/, named on the row.
    assert product.thumbnail_state == "ready"
    assert stored_keys(MEDIA) == sorted(key_for(MEDIA, p) for p in product.thumbnails.values())
    page = client.get(product.thumbnail_url(160))
    assert page.content_type == "image/webp" and page.body.startswith(b"RIFF")

    # A new file replaces the old one, which goes only after the commit.
    old = product.file_path
    form = form_for(client.get(f"/seller/products/{product.id}/edit"), f"/seller/products/{product.id}/edit")
    form["file"] = Upload("icons-2.zip", PDF + b"v2")
    form.submit()
    product = Product.get_by_id(product.id)
    assert stored_keys(PRODUCTS) == sorted([key_for(PRODUCTS, product.file_path),
                                            key_for(PRODUCTS, product.thumbnail_original)])
    assert not storage().exists(key_for(PRODUCTS, old))
    seller_copy = client.get(f"/seller/products/{product.id}/file")
    if store[0] == "s3":
        seller_copy = requests.get(seller_copy.headers["Location"], timeout=10)
        assert seller_copy.content == PDF + b"v2"
    else:
        assert seller_copy.body == PDF + b"v2"


def test_thumbnails_come_from_the_buckets_public_url(store, app_env, make_user, client):
    if store[0] == "local":
        assert config.MEDIA_URL == "/media"
        return
    app_env.reload(S3_PUBLIC_URL="https://cdn.example.com/")
    product = sell(make_user("seller"), thumbnail=jpeg_bytes())
    assert images.process_thumbnail(product.id, product.thumbnail_original) == images.ThumbnailOutcome.READY
    url = Product.get_by_id(product.id).thumbnail_url(480)
    assert url.startswith("https://cdn.example.com/shop-a/media/") and url.endswith("-480.webp")
    # The pages allow images from there, and from nowhere else new.
    policy = client.get("/").headers["Content-Security-Policy"]
    assert "img-src 'self' data: https://cdn.example.com;" in policy


def test_the_buyer_downloads_through_the_store(store, client, make_user):
    customer = make_user("customer")
    bought(customer, sell(make_user("seller")))
    link = DownloadLink.get()
    login(client, customer)
    url = downloads.url_for(link)

    probe = client.head(url)  # a HEAD checks the link and counts nothing
    assert probe.status_int == 200 and DownloadLink.get().download_count == 0
    assert probe.headers["Content-Disposition"].startswith("attachment;")

    response = client.get(url)
    assert DownloadLink.get().download_count == 1
    if store[0] == "local":
        assert response.status_int == 200 and response.body == PDF
        return
    assert probe.headers["Content-Length"] == str(len(PDF))
    # A redirect to a presigned URL of a few minutes, which the bucket answers with the
    # file's name; the bytes never pass through the shop.
    assert response.status_int == 302 and "private" in response.headers["Cache-Control"]
    location = response.headers["Location"]
    query = parse_qs(urlparse(location).query)
    assert query["X-Amz-Expires"] == [str(config.DOWNLOAD_URL_TTL_SECONDS)] and query["X-Amz-Signature"]
    fetched = requests.get(location, timeout=10)
    assert fetched.status_code == 200 and fetched.content == PDF
    assert fetched.headers["Content-Disposition"] == downloads.content_disposition("Grüße presets.zip")
    assert fetched.headers["Content-Type"] == "application/octet-stream"


def test_a_missing_file_is_refused_before_counting(store, client, make_user):
    customer = make_user("customer")
    product = sell(make_user("seller"))
    bought(customer, product)
    storage().delete(key_for(PRODUCTS, product.file_path))
    login(client, customer)
    response = client.get(downloads.url_for(DownloadLink.get()), expect_errors=True)
    assert response.status_int == 404 and "missing on our side" in response.text
    assert DownloadLink.get().download_count == 0


def test_the_invoice_is_stored_mailed_and_served(store, client, make_user):
    customer = make_user("customer")
    order = bought(customer, sell(make_user("seller")))
    invoice = invoices.generate(order.id)
    assert stored_keys(INVOICES) == [key_for(INVOICES, invoice.pdf_path)]
    pdf = storage().read_bytes(invoices.pdf_key(invoice))
    assert pdf.startswith(b"%PDF-") and len(pdf) == invoice.pdf_size
    assert invoices.generate(order.id).pdf_path == invoice.pdf_path  # made once
    login(client, customer)
    response = client.get(f"/orders/{order.id}/invoice?view=1")
    if store[0] == "s3":
        response = requests.get(response.headers["Location"], timeout=10)
        body, headers = response.content, response.headers
    else:
        body, headers = response.body, response.headers
    assert body == pdf and headers["Content-Type"] == "application/pdf"
    assert headers["Content-Disposition"].startswith('inline; filename="INV-000001.pdf"')


# ---------------------------------------------------------------------------
# Backups into the bucket
# ---------------------------------------------------------------------------


def test_a_backup_goes_into_the_bucket_whole(s3_server, app_env, make_user):
    import json
    import tarfile

    from shop.operations import backup
    from tests.s3_server import PREFIX, storage_settings

    bucket = s3_server.new_bucket()
    app_env.reload(**storage_settings(s3_server, bucket))
    make_user("customer")
    (config.DATA_DIR / "backups").mkdir(exist_ok=True)
    (config.DATA_DIR / "backups" / "old-local-backup.bin").write_bytes(b"x" * 1000)
    first, _ = backup.backup_to_storage(keep=1)
    second, deleted = backup.backup_to_storage(keep=1)
    assert first != second and deleted == [first.split("/")[1]]
    objects = {name.removeprefix(PREFIX): data for name, data in s3_server.objects(bucket).items()}
    manifest = json.loads(objects[second + "manifest.json"])
    assert "files.tar" in manifest["files"] and manifest["storage"] == "s3"
    assert sorted(objects) == sorted(f"{second}{name}" for name in [*manifest["files"], "manifest.json"])
    for name, entry in manifest["files"].items():
        assert hashlib.sha256(objects[second + name]).hexdigest() == entry["sha256"]
    with tarfile.open(fileobj=io.BytesIO(objects[second + "files.tar"])) as tar:
        assert not [n for n in tar.getnames() if n.startswith("backups") or n.startswith(".backup-upload")]
    assert not list(config.DATA_DIR.glob(".backup-upload-*"))  # nothing left on the disk
