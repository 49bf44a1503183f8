"""Product previews: up to MAX_IMAGES images a seller shows before the sale, and the first
page of the product's PDF, drawn for it. Both are made into clean WebP sizes by the job
process_product_preview in a killable child, as thumbnails are (images.make_sized_copies);
the product page shows each once it is ready.
"""

import logging

from shop import config
from shop.catalog import images
from shop.errors import NotAnImage, PayloadTooLarge, ValidationError
from models import ProductFile, ProductPreview, db

log = logging.getLogger(__name__)

MAX_IMAGES = 4
PREVIEW_WIDTHS = (480, 960)
PREVIEWS_FOLDER = "previews"


def of_product(product_id, ready_only=False):
    query = ProductPreview.select().where(ProductPreview.product == product_id)
    if ready_only:
        query = query.where(ProductPreview.state == "ready")
    # The PDF's first page first, then the images in the order they came.
    return sorted(query, key=lambda p: (p.kind != "pdf_page", p.id))


def add_images(product, uploads, staged):
    """New image previews (checked as images now, sized by the job); returns their rows."""
    have = ProductPreview.select().where((ProductPreview.product == product.id)
                                         & (ProductPreview.kind == "image")).count()
    if have + len(uploads) > MAX_IMAGES:
        raise ValidationError(errors={"previews": f"A product shows at most {MAX_IMAGES} preview images."})
    extensions = []
    for upload in uploads:
        upload.file.seek(0, 2)
        if upload.file.tell() > config.THUMBNAIL_MAX_MB * 1048576:
            raise PayloadTooLarge(f"A preview image is over the limit of {config.THUMBNAIL_MAX_MB} MB.")
        try:
            extensions.append(images.check_upload(upload.file))
        except NotAnImage as exc:
            raise ValidationError(errors={"previews": str(exc)}) from None
    made = []
    with db.atomic():
        for upload, extension in zip(uploads, extensions):
            stored = staged.store(upload.file, PREVIEWS_FOLDER, extension)
            made.append(ProductPreview.create(product=product, kind="image", source=stored.path))
    return made


def remove(product, preview_id, staged):
    preview = ProductPreview.get_or_none((ProductPreview.id == preview_id) & (ProductPreview.product == product.id)
                                         & (ProductPreview.kind == "image"))
    if preview is None:
        return False
    with db.atomic():
        ProductPreview.delete().where(ProductPreview.id == preview.id).execute()
    staged.replaced_uploads.append(preview.source)
    staged.replaced_thumbnails.append(preview.images)
    return True


def pdf_page_for(product_id, staged=None):
    """Keep the PDF first-page preview in step with the product's first file: made anew for a
    new PDF, gone when the file is no PDF. Returns the row to process, or None."""
    first = ProductFile.get_or_none((ProductFile.product == product_id) & (ProductFile.position == 0))
    current = ProductPreview.get_or_none((ProductPreview.product == product_id)
                                         & (ProductPreview.kind == "pdf_page"))
    is_pdf = first is not None and first.name.lower().endswith(".pdf")
    if current is not None and (not is_pdf or current.source != first.path):
        ProductPreview.delete().where(ProductPreview.id == current.id).execute()
        if staged is not None:
            staged.replaced_thumbnails.append(current.images)
        current = None
    if is_pdf and current is None:
        return ProductPreview.create(product=product_id, kind="pdf_page", source=first.path)
    return None


def process(preview_id, source, timeout=None):
    """Make and record the preview's sizes; idempotent. Returns an images.ThumbnailOutcome."""
    preview = ProductPreview.get_or_none(ProductPreview.id == preview_id)
    if preview is None or preview.source != source:
        return images.ThumbnailOutcome.STALE
    if preview.state == "ready":
        return images.ThumbnailOutcome.DONE
    if preview.kind == "pdf_page":
        try:
            made = images.make_sized_copies(source, PREVIEW_WIDTHS, timeout=timeout,
                                            renderer=images.render_pdf_first_page)
        except NotAnImage as exc:
            # A PDF that cannot be drawn still sells; it just has no page preview. Not a
            # failed job: nothing for the owner to do, and a retry draws it no better.
            mark_failed(preview_id, source, str(exc))
            return images.ThumbnailOutcome.STALE
    else:
        made = images.make_sized_copies(source, PREVIEW_WIDTHS, timeout=timeout)
    recorded = (ProductPreview.update(images=made, state="ready", error=None)
                .where((ProductPreview.id == preview_id) & (ProductPreview.source == source)).execute())
    if not recorded:
        images.delete_thumbnails(made)
        return images.ThumbnailOutcome.STALE
    return images.ThumbnailOutcome.READY


def mark_failed(preview_id, source, message):
    return (ProductPreview.update(state="failed", error=message[:500])
            .where((ProductPreview.id == preview_id) & (ProductPreview.source == source)
                   & (ProductPreview.state != "ready")).execute())
