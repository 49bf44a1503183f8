"""Hostile uploads through the seller's form, beyond test_seller.py and test_images.py: files
that are not images, truncated images and decompression bombs as thumbnails, files over the
limit, hostile file names and broken multipart bodies. Each is a 4xx with a message and
nothing under the data folder's upload directories, or is stored under a random name with a
harmless display name; the app keeps serving."""

import io
import re

import pytest
from PIL import Image

from shop import config
from models import Product
from tests.bad_input import clear_error, still_serving, stored_files
from tests.catalog_helpers import bomb_png, form_for, jpeg_bytes, png_bytes, uploaded_files

PDF = b"%PDF-1.4\n" + b"A product file.\n" * 50


def csrf(client):
    return form_for(client.get("/seller/products/new"), "/seller/products")["csrf_token"].value


def upload(client, file=("icons.zip", PDF), thumbnail=None, **fields):
    params = {"title": "Pixel Icons", "description": "Forty icons.", "price": "12.50", "csrf_token": csrf(client)}
    params.update(fields)
    files = [("file", *file)] + ([("thumbnail", *thumbnail)] if thumbnail else [])
    return client.post("/seller/products", params, upload_files=files, expect_errors=True)


def nothing_stored():
    return Product.select().count() == 0 and stored_files() == []


def truncated(data, keep=0.5):
    return data[:int(len(data) * keep)]


def test_thumbnails_that_are_not_images_are_a_form_error(client, login_as):
    login_as("seller")
    cases = {
        "renamed text": ("cover.png", b"just some text, renamed to .png\n" * 20),
        "html": ("cover.png", b"<html><script>alert(1)</script></html>"),
        "svg": ("cover.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
        "pdf": ("cover.jpg", PDF),
        "empty": ("cover.png", b""),
        "png signature only": ("cover.png", b"\x89PNG\r\n\x1a\n"),
        "a png cut inside its header": ("cover.png", png_bytes()[:20]),
    }
    for name, thumbnail in cases.items():
        response = clear_error(upload(client, thumbnail=thumbnail))
        message = response.html.select_one("#e-thumbnail")
        assert message is not None and message.text.strip(), name
    assert nothing_stored()
    still_serving(client)


@pytest.mark.parametrize("width, height", [(50_000, 50_000), (65_535, 65_535), (1_000_000, 100)])
def test_a_decompression_bomb_is_refused_in_the_request(client, login_as, width, height):
    login_as("seller")
    bomb = bomb_png(width, height)
    assert len(bomb) < 2000
    response = clear_error(upload(client, thumbnail=("cover.png", bomb)))
    assert response.html.select_one("#e-thumbnail").text.strip()
    assert nothing_stored()
    still_serving(client)


def test_truncated_images_are_refused_or_fail_in_the_job_with_a_message(client, login_as):
    """The request reads only an image's header and structure; a file cut in its pixel data
    passes that and fails in process_file_upload, which tells the seller and writes no
    thumbnail."""
    seller = login_as("seller")
    cases = {"truncated png": ("cover.png", truncated(png_bytes())),
             "truncated jpeg": ("cover.jpg", truncated(jpeg_bytes(), 0.3)),
             "png header, then garbage": ("cover.png", png_bytes()[:33] + b"\x00garbage" * 100)}
    for number, (name, thumbnail) in enumerate(cases.items()):
        response = upload(client, thumbnail=thumbnail, title=f"Item {number}")
        if response.status_int == 400:
            assert response.html.select_one("#e-thumbnail").text.strip(), name
            continue
        assert response.status_int == 303, (name, response.status)
        product = Product.get(Product.title == f"Item {number}")
        assert product.thumbnail_state == "failed" and product.thumbnail_error, name
        assert not product.thumbnails
    page = client.get("/seller/products")
    assert page.status_int == 200 and Product.select().where(Product.seller == seller).count() <= len(cases)
    assert all(path.startswith(("files/", "thumbs/")) for path in uploaded_files())
    still_serving(client)


def test_an_image_just_over_the_pixel_limit_is_refused(client, login_as, app_env):
    app_env.reload(IMAGE_MAX_PIXELS=10_000)
    login_as("seller")
    out = io.BytesIO()
    Image.new("RGB", (101, 100), "red").save(out, "PNG")
    clear_error(upload(client, thumbnail=("cover.png", out.getvalue())))
    assert nothing_stored()


def test_files_over_the_limit_are_a_413_and_nothing_is_written(client, login_as, app_env):
    app_env.reload(UPLOAD_MAX_MB=1, THUMBNAIL_MAX_MB=1)
    login_as("seller")
    for file, thumbnail in [(("big.zip", b"x" * (1024 * 1024 + 1)), None),
                            (("icons.zip", PDF), ("cover.png", png_bytes() + b"\0" * (1024 * 1024))),
                            (("huge.zip", b"x" * (3 * 1024 * 1024)), None)]:
        response = clear_error(upload(client, file=file, thumbnail=thumbnail), 413)
        assert "limit" in response.text
    assert nothing_stored()
    # The data folder holds no stray upload anywhere, not even a temporary one.
    stray = [p for p in config.DATA_DIR.rglob("*") if p.is_file() and p.suffix not in (".db", ".db-wal", ".db-shm")
             and "mail" not in p.parts and p.name != "secret.key" and p.stat().st_size >= 1024 * 1024]
    assert stray == []
    still_serving(client)


HOSTILE_NAMES = [
    "../../etc/passwd",
    "..\\..\\windows\\system32\\config\\sam",
    "/etc/shadow",
    "nul\x00byte.zip",
    "a" * 1200 + ".zip",
    "é" * 600 + ".zip",
    "Résumé – 2025 ‮gpj.exe",
    "...",
    ".",
    "..",
    " . . ",
    "icons.zip\r\nX-Injected: yes",
    '"quoted";name=evil.zip',
    "<script>alert(1)</script>.zip",
    "CON",
]


def test_hostile_file_names_are_stored_under_random_names(client, login_as):
    login_as("seller")
    for number, name in enumerate(HOSTILE_NAMES):
        response = upload(client, file=(name, PDF), thumbnail=(name + ".png", png_bytes()), title=f"Item {number}")
        if response.status_int != 303:
            clear_error(response)  # refused with a message is fine too
            continue
        product = Product.select().order_by(Product.id.desc()).first()
        # Stored inside the upload folder under a name of our own making.
        for relative in (product.file_path, product.thumbnail_original):
            path = (config.UPLOADS_DIR / relative).resolve()
            assert config.UPLOADS_DIR.resolve() in path.parents and path.is_file(), (name, relative)
            assert re.fullmatch(r"(files|thumbs)/[0-9a-f]{32}(\.[a-z0-9]{1,10})?", relative), (name, relative)
        # The name buyers will see: no folders, no control characters, not too long.
        shown = product.file_name
        assert "/" not in shown and "\\" not in shown and "\x00" not in shown and "\r" not in shown, shown
        assert 0 < len(shown) <= 150 and shown.strip(". ") == shown
        # The seller fetches it back with a header-safe name.
        download = client.get(f"/seller/products/{product.id}/file")
        disposition = download.headers["Content-Disposition"]
        assert "\r" not in disposition and "\n" not in disposition and "X-Injected" not in download.headers
        assert download.body == PDF
    # Nothing was written outside the upload folder's own subfolders.
    assert all(re.fullmatch(r"(files|thumbs)/[0-9a-f]{32}(\.[a-z0-9]{1,10})?", path) for path in uploaded_files())
    assert not (config.DATA_DIR.parent / "etc").exists()
    still_serving(client)


def test_a_nul_in_the_field_name_or_a_broken_multipart_body_is_a_400(client, login_as):
    login_as("seller")
    token = csrf(client)
    boundary = b"bOuNdArY"
    cases = [
        ("multipart/form-data", b"no boundary given"),
        ("multipart/form-data; boundary=bOuNdArY", b"--bOuNdArY\r\nContent-Disposition: form-data; name=\"title\""),
        ("multipart/form-data; boundary=bOuNdArY", b"--bOuNdArY\r\nno headers at all\r\n--bOuNdArY--\r\n"),
        ("multipart/form-data; boundary=bOuNdArY",
         b"--%s\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n%s\r\n"
         b"--%s\r\nContent-Disposition: form-data; name=\"ti\x00tle\"\r\n\r\nx\r\n--%s--\r\n"
         % (boundary, token.encode(), boundary, boundary)),
    ]
    for content_type, body in cases:
        response = client.post("/seller/products", body, headers={"Content-Type": content_type},
                               expect_errors=True)
        assert 400 <= response.status_int < 500, (content_type, body[:60], response.status)
    assert nothing_stored()
    still_serving(client)
