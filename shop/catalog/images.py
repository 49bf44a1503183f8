"""Product thumbnails: a cheap check at upload time, and the full processing for the job.

`check_upload()` runs inside the request: it reads the header and lets Pillow
verify the file's structure, so "this is not an image" becomes a form error
without decoding any pixels. `process_thumbnail()` runs in the job
process_file_upload: it decodes the image in a child process (killable.call,
so the job's timeout can stop a decoder stuck in C code), turns it upright from
its EXIF orientation, drops every piece of metadata, writes one WebP per width
of THUMBNAIL_WIDTHS into a temporary folder, stores them in the shop's storage
(media/, on the disk or in the bucket) and records them on the product.

Generated names are derived from the private original's random name with a key
from APP_SECRET: nobody can guess them, and a retried job writes the same files
again instead of leaving orphans behind.
"""

import enum
import io
import logging
import os
import tempfile
import warnings
from pathlib import Path

from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from shop import config
from shop.errors import MissingObject, NotAnImage, StorageError
from shop.storage import MEDIA, PRODUCTS, key_for, storage
from models import Product, db, utcnow

log = logging.getLogger(__name__)

# The formats a seller may upload as a thumbnail; anything else Pillow can read
# (PSD, ICO, EPS, ...) is refused, because browsers and sellers rarely mean it.
ACCEPTED_FORMATS = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp", "GIF": ".gif"}
OUTPUT_QUALITY = 82


def _too_large_message(width, height, max_pixels):
    return (f"The image is {width} × {height} pixels; the largest accepted is "
            f"{max_pixels / 1_000_000:g} megapixels.")


def _open(source, max_pixels):
    """Open an image lazily (header only), refusing bombs and foreign formats.

    Pillow's own bomb guard is a warning below twice its limit, so the pixel
    count is checked here against the setting before anything is decoded.
    """
    Image.MAX_IMAGE_PIXELS = max_pixels
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(source)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise NotAnImage(f"The image has too many pixels: the largest accepted is "
                         f"{max_pixels / 1_000_000:g} megapixels.") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise NotAnImage("This file is not an image we can read. Upload a JPEG, PNG, WebP or GIF.") from None
    if image.format not in ACCEPTED_FORMATS:
        image.close()
        raise NotAnImage(f"{image.format or 'This'} images are not accepted. Upload a JPEG, PNG, WebP or GIF.")
    width, height = image.size
    if width < 1 or height < 1:
        image.close()
        raise NotAnImage("The image has no pixels.")
    if width * height > max_pixels:
        image.close()
        raise NotAnImage(_too_large_message(width, height, max_pixels))
    return image


class _KeepOpen:
    """The upload's file object, except that Pillow cannot close it: it is stored after the check."""

    def __init__(self, fileobj):
        self._fileobj = fileobj

    def __getattr__(self, name):
        return getattr(self._fileobj, name)

    def close(self):
        pass


def check_upload(fileobj):
    """The quick check made in the request. Returns the file extension to store it under.

    Reads only the header and the file's structure (Image.verify), which is
    cheap even for large files; the pixels are decoded later, in the job.
    """
    fileobj.seek(0)
    try:
        image = _open(_KeepOpen(fileobj), config.IMAGE_MAX_PIXELS)
        try:
            extension = ACCEPTED_FORMATS[image.format]
            image.verify()
        finally:
            image.close()
    except NotAnImage:
        raise
    except Exception:  # verify() raises a variety of errors for truncated or forged files
        raise NotAnImage("This image is damaged or incomplete. Upload it again or choose another one.") from None
    finally:
        fileobj.seek(0)
    return extension


# ---------------------------------------------------------------------------
# The child process: decode, orient, strip, resize, write
# ---------------------------------------------------------------------------


def _to_srgb(image):
    """Convert pixels described by an embedded colour profile to sRGB, then forget the profile.

    Dropping a profile without converting would shift the colours of photos
    taken in Display P3 or Adobe RGB.
    """
    profile = image.info.get("icc_profile")
    if not profile or image.mode not in ("RGB", "RGBA"):
        return image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
        target = ImageCms.createProfile("sRGB")
        return ImageCms.profileToProfile(image, source, target, outputMode=image.mode)
    except (ImageCms.PyCMSError, OSError, ValueError):
        return image  # a broken profile: the pixels as they are are the best guess


def _normalise_mode(image):
    if image.mode in ("RGB", "RGBA"):
        return image
    has_alpha = image.mode in ("LA", "PA") or (image.mode == "P" and "transparency" in image.info)
    return image.convert("RGBA" if has_alpha else "RGB")


def render_thumbnails(source, dest_dir, stem, widths, max_pixels):
    """Write `<stem>-<width>.webp` in `dest_dir` for every width; returns {width: file name}.

    Runs in a child process (see killable), so it takes only paths and numbers.
    Images narrower than a width are not enlarged: that file keeps the original width.
    """
    dest_dir = Path(dest_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)
    with _open(source, max_pixels) as image:
        try:
            image.seek(0)  # the first frame of an animated GIF or WebP
            image.load()
        except Exception as exc:
            raise NotAnImage(f"The image could not be decoded: {exc}") from None
        upright = ImageOps.exif_transpose(image)
        pixels = _to_srgb(_normalise_mode(upright))
        # A new image from the pixels alone: no EXIF, GPS, XMP, comments or profile survive.
        clean = Image.new(pixels.mode, pixels.size)
        clean.paste(pixels)
    written = {}
    for width in widths:
        if clean.width > width:
            height = max(1, round(clean.height * width / clean.width))
            resized = clean.resize((width, height), Image.Resampling.LANCZOS, reducing_gap=3.0)
        else:
            resized = clean
        name = f"{stem}-{width}.webp"
        partial = dest_dir / f".{name}.partial"
        resized.save(partial, "WEBP", quality=OUTPUT_QUALITY, method=4)
        os.replace(partial, dest_dir / name)
        written[str(width)] = name
    return written


# ---------------------------------------------------------------------------
# The job's service
# ---------------------------------------------------------------------------


# killable and security are imported where they are used: the child process that
# runs render_thumbnails imports this module, and the job runtime they pull in
# (and the password hasher) would add a quarter of a second to every thumbnail.


def thumbnail_stem(original):
    """The unguessable, repeatable base name of the thumbnails made from `original`."""
    from shop import security

    return security.sign("thumbnail-name", original)[:32]


def thumbnail_folder(stem):
    # Two-character folders keep any one directory small in a large shop.
    return stem[:2]


def delete_thumbnails(thumbnails, quiet=False):
    """Remove generated files (a {width: relative path} dict); missing ones are fine.

    quiet: a store that cannot be reached is logged instead of raised, where the
    rows are committed already and the files are only left over.
    """
    for relative in (thumbnails or {}).values():
        try:
            storage().delete(key_for(MEDIA, relative))
        except StorageError:
            if not quiet:
                raise
            log.exception("could not remove the thumbnail %s", relative)


def _store_thumbnails(folder, rendered_dir, written):
    """Put each rendered width into media/<folder>/; returns {width: relative path}.

    A store that fails half-way gets back what it took of this run (best effort):
    the names are repeatable, so the job's retry writes the same files again.
    """
    thumbnails, store = {}, storage()
    try:
        for width, name in written.items():
            relative = f"{folder}/{name}"
            store.put_path(key_for(MEDIA, relative), Path(rendered_dir) / name, content_type="image/webp")
            thumbnails[width] = relative
    except StorageError:
        delete_thumbnails(thumbnails, quiet=True)
        raise
    return thumbnails


class ThumbnailOutcome(enum.StrEnum):
    READY = "ready"  # the thumbnails are made and recorded
    DONE = "done"  # an earlier run already made them
    STALE = "stale"  # the product is gone or has another thumbnail by now (a newer upload has its own job)


def process_thumbnail(product_id, original, timeout=None):
    """Make and record the thumbnails of `original` for the product; idempotent.

    Returns a ThumbnailOutcome. NotAnImage and JobTimeout propagate for the job
    to fail or retry.
    """
    product = Product.get_or_none(Product.id == product_id)
    if product is None or product.thumbnail_original != original:
        return ThumbnailOutcome.STALE
    if product.thumbnail_state == "ready":
        return ThumbnailOutcome.DONE
    from job_runtime import killable

    stem = thumbnail_stem(original)
    folder = thumbnail_folder(stem)
    try:
        with storage().local_copy(key_for(PRODUCTS, original), suffix=Path(original).suffix) as source, \
                tempfile.TemporaryDirectory(prefix="marketplace-thumbs-") as rendered:
            written = killable.call(render_thumbnails, str(source), rendered, stem,
                                    tuple(config.THUMBNAIL_WIDTHS), config.IMAGE_MAX_PIXELS, timeout=timeout)
            thumbnails = _store_thumbnails(folder, rendered, written)
    except MissingObject:
        raise NotAnImage("The uploaded thumbnail is missing on the server. Upload it again.") from None
    with db.atomic():
        recorded = (Product.update(thumbnails=thumbnails, thumbnail_state="ready", thumbnail_error=None,
                                   updated_at=utcnow())
                    .where((Product.id == product_id) & (Product.thumbnail_original == original))
                    .execute())
    if not recorded:
        # The seller replaced the thumbnail while this one was being made.
        delete_thumbnails(thumbnails)
        return ThumbnailOutcome.STALE
    log.info("thumbnails of product %s ready: %s", product_id, ", ".join(sorted(thumbnails, key=int)))
    return ThumbnailOutcome.READY


def render_pdf_first_page(source, dest_dir, stem, widths, max_pixels):
    """render_thumbnails of the first page of the PDF `source` (drawn by pdftoppm), in a child."""
    import subprocess

    page = Path(dest_dir) / f"{stem}-page"
    try:
        result = subprocess.run(["pdftoppm", "-png", "-f", "1", "-l", "1", "-r", "110", "-singlefile", str(source),
                                 str(page)], capture_output=True, timeout=120)
    except FileNotFoundError:
        # A server without poppler-utils: the product has no page preview, nothing is retried.
        raise NotAnImage("This server cannot draw PDF pages (pdftoppm, from poppler-utils, is not installed).") from None
    if result.returncode != 0 or not page.with_suffix(".png").is_file():
        raise NotAnImage("The first page of this PDF could not be drawn.")
    return render_thumbnails(str(page.with_suffix(".png")), dest_dir, stem, widths, max_pixels)


def make_sized_copies(original, widths, timeout=None, renderer=render_thumbnails):
    """The WebP copies of the private upload `original` in `widths`, made as thumbnails are
    (in a killable child process) and stored under media/; returns {width: relative path}.
    Storefront avatars and product previews are made this way; `renderer` is
    render_pdf_first_page for the first page of a PDF."""
    from job_runtime import killable

    stem = thumbnail_stem(original)
    try:
        with storage().local_copy(key_for(PRODUCTS, original), suffix=Path(original).suffix) as source, \
                tempfile.TemporaryDirectory(prefix="marketplace-thumbs-") as rendered:
            written = killable.call(renderer, str(source), rendered, stem, tuple(widths),
                                    config.IMAGE_MAX_PIXELS, timeout=timeout)
            return _store_thumbnails(thumbnail_folder(stem), rendered, written)
    except MissingObject:
        raise NotAnImage("The uploaded picture is missing on the server. Upload it again.") from None


def mark_failed(product_id, original, message):
    """Record why the thumbnail could not be made, if it is still the product's current one."""
    return (Product.update(thumbnail_state="failed", thumbnail_error=message[:500], updated_at=utcnow())
            .where((Product.id == product_id) & (Product.thumbnail_original == original)
                   & (Product.thumbnail_state != "ready"))
            .execute())
