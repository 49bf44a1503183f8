"""Thumbnails: the upload check, the job that makes every width, and what a seller sees when it fails."""

import io

import pytest
from PIL import Image

from shop import config
from shop.catalog import images
import job_runtime
import tasks
from shop.errors import NotAnImage
from job_runtime.models import FailedJob, JobRecord
from models import Product, db
from tests.catalog_helpers import (
    BLUE,
    RED,
    bomb_png,
    jpeg_bytes,
    make_product,
    media_files,
    png_bytes,
    two_tone,
)


def close(pixel, colour, tolerance=40):
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, colour))


def run_job(product):
    with db.atomic():
        tasks.process_file_upload.dispatch(product.id, product.thumbnail_original)
    return Product.get_by_id(product.id)


def output(product, width):
    path = config.MEDIA_DIR / product.thumbnails[str(width)]
    return path.read_bytes(), Image.open(path)


def test_every_width_is_written_and_recorded(make_user):
    product = run_job(make_product(make_user("seller"), thumbnail=png_bytes(two_tone((1200, 900)), metadata=False),
                                   thumbnail_ext=".png"))
    assert product.thumbnail_state == "ready" and product.thumbnail_error is None
    assert sorted(product.thumbnails, key=int) == ["160", "480", "960"]
    for width in config.THUMBNAIL_WIDTHS:
        _, image = output(product, width)
        assert image.format == "WEBP"
        assert image.size == (width, width * 3 // 4)
    assert product.thumbnail_url(480) == "/media/" + product.thumbnails["480"]
    assert JobRecord.get().state == "completed"


def test_names_cannot_be_guessed_from_the_product(make_user):
    product = run_job(make_product(make_user("seller"), title="Guessable Title", thumbnail=jpeg_bytes()))
    for relative in product.thumbnails.values():
        name = relative.rsplit("/", 1)[1]
        stem = name.rsplit("-", 1)[0]
        assert len(stem) == 32 and str(product.id) not in stem.split("-") and "guessable" not in name
    # A different original gets different names.
    other = run_job(make_product(make_user("seller"), title="Guessable Title", thumbnail=jpeg_bytes()))
    assert set(other.thumbnails.values()).isdisjoint(product.thumbnails.values())


def test_exif_rotated_jpeg_is_turned_upright_and_stripped(make_user):
    # Stored 400×200 with red on the left; orientation 6 means "turn 90° clockwise to view".
    data = jpeg_bytes(two_tone((400, 200)), orientation=6, gps=True)
    assert b"SecretCam" in data
    product = run_job(make_product(make_user("seller"), thumbnail=data))
    raw, image = output(product, 160)
    assert image.size == (160, 320)  # portrait now
    rgb = image.convert("RGB")
    assert close(rgb.getpixel((80, 40)), RED), rgb.getpixel((80, 40))  # the red half is on top
    assert close(rgb.getpixel((80, 280)), BLUE), rgb.getpixel((80, 280))
    assert len(image.getexif()) == 0
    assert b"SecretCam" not in raw and b"Exif" not in raw


def test_png_metadata_and_profile_are_dropped(make_user):
    data = png_bytes()
    assert b"Hidden Author Name" in data
    product = run_job(make_product(make_user("seller"), thumbnail=data, thumbnail_ext=".png"))
    for width in config.THUMBNAIL_WIDTHS:
        raw, image = output(product, width)
        assert b"Hidden Author Name" not in raw and b"private-note" not in raw
        assert "icc_profile" not in image.info and "exif" not in image.info
    _, image = output(product, 480)
    assert close(image.convert("RGB").getpixel((10, 200)), RED)


def test_small_images_are_not_enlarged(make_user):
    product = run_job(make_product(make_user("seller"), thumbnail=jpeg_bytes(two_tone((300, 200)))))
    assert output(product, 160)[1].size == (160, 107)
    assert output(product, 480)[1].size == (300, 200)
    assert output(product, 960)[1].size == (300, 200)


def test_transparent_gif_keeps_its_transparency(make_user):
    image = Image.new("RGBA", (200, 150), (0, 0, 0, 0))
    image.paste((10, 200, 10, 255), (50, 50, 150, 100))
    buffer = io.BytesIO()
    image.save(buffer, "GIF", transparency=0)
    product = run_job(make_product(make_user("seller"), thumbnail=buffer.getvalue(), thumbnail_ext=".gif"))
    _, out = output(product, 160)
    assert out.mode == "RGBA" and out.getpixel((2, 2))[3] == 0


def test_upload_check_refuses_what_is_not_an_image():
    with pytest.raises(NotAnImage, match="not an image"):
        images.check_upload(io.BytesIO(b"%PDF-1.4 this is a PDF, not a picture"))
    with pytest.raises(NotAnImage):
        images.check_upload(io.BytesIO(b""))
    # A real image in a format sellers do not mean to upload.
    buffer = io.BytesIO()
    two_tone((32, 32)).save(buffer, "ICO")
    with pytest.raises(NotAnImage, match="not accepted"):
        images.check_upload(buffer)
    assert images.check_upload(io.BytesIO(jpeg_bytes())) == ".jpg"
    assert images.check_upload(io.BytesIO(png_bytes())) == ".png"


def test_upload_check_refuses_a_damaged_png():
    data = bytearray(png_bytes(metadata=False))
    data[60:64] = b"\x00\x00\x00\x00"  # corrupt the compressed pixels; the CRC no longer matches
    with pytest.raises(NotAnImage, match="damaged"):
        images.check_upload(io.BytesIO(bytes(data)))


def test_decompression_bomb_is_refused_without_decoding_it(make_user):
    bomb = bomb_png(100_000, 100_000)
    assert len(bomb) < 200
    with pytest.raises(NotAnImage, match="too many pixels|megapixels"):
        images.check_upload(io.BytesIO(bomb))
    # Had it reached the job (say the limit was lowered since), the job fails it at once.
    product = run_job(make_product(make_user("seller"), thumbnail=bomb, thumbnail_ext=".png"))
    assert product.thumbnail_state == "failed"
    assert "pixels" in product.thumbnail_error
    assert FailedJob.get().attempts == 1  # no retries: it can never work
    assert media_files() == []


def test_the_pixel_limit_comes_from_the_settings(app_env):
    app_env.reload(IMAGE_MAX_PIXELS=10_000)
    with pytest.raises(NotAnImage, match="0.01 megapixels"):
        images.check_upload(io.BytesIO(jpeg_bytes(two_tone((200, 100)))))
    assert images.check_upload(io.BytesIO(jpeg_bytes(two_tone((100, 100))))) == ".jpg"


def test_a_file_that_is_not_an_image_fails_with_a_message_for_the_seller(make_user):
    product = run_job(make_product(make_user("seller"), thumbnail=b"just some text, not a picture"))
    assert product.thumbnail_state == "failed"
    assert product.thumbnail_error == "This file is not an image we can read. Upload a JPEG, PNG, WebP or GIF."
    assert product.thumbnail_url() is None
    failed = FailedJob.get()
    assert failed.name == "process_file_upload" and failed.attempts == 1


def test_a_truncated_jpeg_fails_in_the_job(make_user):
    data = jpeg_bytes(two_tone((800, 600)))
    product = run_job(make_product(make_user("seller"), thumbnail=data[: len(data) // 2]))
    assert product.thumbnail_state == "failed"
    assert "could not be decoded" in product.thumbnail_error


def test_running_the_job_again_changes_nothing(make_user):
    product = run_job(make_product(make_user("seller"), thumbnail=jpeg_bytes()))
    before = {name: (config.MEDIA_DIR / name).stat().st_mtime_ns for name in media_files()}
    assert images.process_thumbnail(product.id, product.thumbnail_original) == "done"
    assert {name: (config.MEDIA_DIR / name).stat().st_mtime_ns for name in media_files()} == before


def test_a_replaced_thumbnail_makes_the_old_job_stale(make_user):
    product = make_product(make_user("seller"), thumbnail=jpeg_bytes())
    old = product.thumbnail_original
    Product.update(thumbnail_original="thumbs/newer.jpg").where(Product.id == product.id).execute()
    assert images.process_thumbnail(product.id, old) == "stale"
    assert media_files() == []


def test_a_timeout_stops_the_decoder_and_the_seller_is_told(make_user):
    big = jpeg_bytes(two_tone((4000, 3000)))
    product = make_product(make_user("seller"), thumbnail=big)
    with pytest.raises(job_runtime.JobTimeout):
        images.process_thumbnail(product.id, product.thumbnail_original, timeout=0.01)
    assert Product.get_by_id(product.id).thumbnail_state == "processing"
    # What the job's failed() hook records once the attempts are used up.
    tasks.process_file_upload_failed(job_runtime.JobTimeout("too slow"), product.id, product.thumbnail_original)
    product = Product.get_by_id(product.id)
    assert product.thumbnail_state == "failed" and "took too long" in product.thumbnail_error
