"""Images, uploads and products for the catalog tests (thumbnails, seller area, moderation)."""

import io
import struct
import zlib

from PIL import Image, ImageCms, ImageDraw
from PIL.PngImagePlugin import PngInfo

from shop import config
from shop.catalog import search
from shop import security
from models import Product, ProductFile, utcnow

RED, BLUE = (220, 30, 30), (30, 60, 220)


def two_tone(size=(400, 200)):
    """Left half red, right half blue: shows which way an image was turned."""
    image = Image.new("RGB", size, BLUE)
    ImageDraw.Draw(image).rectangle((0, 0, size[0] // 2 - 1, size[1]), fill=RED)
    return image


def jpeg_bytes(image=None, orientation=None, gps=False, quality=90):
    image = image or two_tone()
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    exif[0x010F] = "SecretCam Manufacturer"
    if gps:
        exif[0x8825] = {1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 36.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality, exif=exif.tobytes())
    return out.getvalue()


def png_bytes(image=None, metadata=True):
    """A PNG with a text chunk and an sRGB colour profile, as exported by editors."""
    image = image or two_tone((600, 450))
    out = io.BytesIO()
    if metadata:
        info = PngInfo()
        info.add_text("Author", "Hidden Author Name")
        info.add_text("Comment", "private-note-do-not-publish")
        profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
        image.save(out, "PNG", pnginfo=info, icc_profile=profile)
    else:
        image.save(out, "PNG")
    return out.getvalue()


def bomb_png(width=100_000, height=100_000):
    """A tiny PNG whose header claims width × height pixels: a decompression bomb."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    rows = zlib.compress(b"\x00" * 1024, 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


def write_upload(folder, data, extension):
    relative = f"{folder}/{security.random_token(12)}{extension}"
    path = config.UPLOADS_DIR / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return relative


def make_product(seller, title="Field Notes Template", status="pending", price=1250, thumbnail=None,
                 thumbnail_ext=".jpg", file_data=b"%PDF-1.4 sample", **fields):
    """A product row with its private file (and thumbnail original, waiting for processing)."""
    values = dict(seller=seller, title=title, slug=f"{title.lower().replace(' ', '-')}-{security.random_token(3)}",
                  description="A useful thing.\n\nSecond paragraph.", price=price, currency=config.CURRENCY,
                  status=status, file_path=write_upload("files", file_data, ".pdf"), file_name="notes.pdf",
                  file_size=len(file_data), file_sha256="0" * 64,
                  approved_at=utcnow() if status == "approved" else None)
    if thumbnail is not None:
        values.update(thumbnail_original=write_upload("thumbs", thumbnail, thumbnail_ext),
                      thumbnail_state="processing")
    values.update(fields)
    product = Product.create(**values)
    ProductFile.create(product=product, position=0, name=product.file_name, path=product.file_path,
                       size=product.file_size, sha256=product.file_sha256)  # as products.create_product does
    search.refresh(product.id)  # as moderation does when it approves
    return product


def uploaded_files():
    """Every file under UPLOADS_DIR (relative paths), to prove nothing is left behind."""
    root = config.UPLOADS_DIR
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []


def media_files():
    root = config.MEDIA_DIR
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []


def form_for(page, action):
    """The form of `page` that posts to `action`."""
    for form in page.forms.values():
        if form.action == action:
            return form
    raise AssertionError(f"no form posting to {action} on the page")
