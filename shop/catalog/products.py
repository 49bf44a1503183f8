"""A seller's products: validation, private file storage, create and edit.

Uploaded files are written to the shop's storage (products/ on the disk or in
the bucket) with random names before the database row changes, inside a
StagedFiles block: if anything fails (a form error, the database, the job
dispatch in the same transaction, the storage itself) the new files are
removed again, and files that a successful edit replaced are removed only
after the commit. So there is never a row without its file nor a file without
its row.

The web layer hands uploads over as `Upload(filename, file)`, a plain pair, so
this module knows nothing of Bottle.
"""

import collections
import logging
import os
import re
import secrets
import unicodedata

from peewee import IntegrityError

from shop import config
from shop.catalog import images, search, taxonomy
from shop.errors import NotAnImage, PayloadTooLarge, StorageError, ValidationError
from shop.storage import PRODUCTS, key_for, storage
from models import Product, ProductFile, db, slugify, utcnow
from shop.money import format_money
from shop.selling import product_options

log = logging.getLogger(__name__)

Upload = collections.namedtuple("Upload", "filename file")

MAX_TITLE = 120
MAX_DESCRIPTION = 5000
FORM_FIELDS = ("title", "description", "price", "category", "tags", "stamp_pdfs") + product_options.FORM_FIELDS
FILES_FOLDER = "files"
THUMBS_FOLDER = "thumbs"
MAX_FILES = 10
# What the selling options (shop/selling/product_options.py) set on a product; like the
# price, a change of them applies at once, without a new review.
SELLING_OPTIONS = ("min_price", "license_activations", "license_days")


# ---------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------


def _size(fileobj):
    fileobj.seek(0, os.SEEK_END)
    size = fileobj.tell()
    fileobj.seek(0)
    return size


def clean_filename(name):
    """The name a buyer's download will carry: no folders, no control characters."""
    name = unicodedata.normalize("NFC", (name or "").replace("\\", "/").rsplit("/", 1)[-1])
    name = "".join("_" if unicodedata.category(c)[0] == "C" or c in '<>:"/\\|?*' else c for c in name)
    name = " ".join(name.split()).strip(" .")
    if len(name) > 150:
        stem, dot, ext = name.rpartition(".")
        name = (stem[:140] + dot + ext[:9]) if dot and len(ext) <= 9 else name[:150]
    return name or "download"


def _extension(name):
    suffix = os.path.splitext(name)[1].lower()
    return suffix if re.fullmatch(r"\.[a-z0-9]{1,10}", suffix) else ""


class StoredFile(collections.namedtuple("StoredFile", "path size sha256")):
    """A file written to the products/ area; `path` is relative to it (as Product.file_path)."""


class StagedFiles:
    """New files of a change not yet committed, and old files it replaces.

    Leaving the block with an exception removes the new files; leaving it
    normally removes the replaced ones (the commit happened inside the block).
    """

    def __init__(self):
        self.new = []
        self.replaced_uploads = []
        self.replaced_thumbnails = []

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            for relative in self.new:
                remove_upload(relative)
        else:
            for relative in self.replaced_uploads:
                remove_upload(relative)
            for thumbnails in self.replaced_thumbnails:
                images.delete_thumbnails(thumbnails, quiet=True)
        return False

    def store(self, fileobj, folder, extension):
        """Copy `fileobj` to products/<folder>/<random><extension> in the shop's storage."""
        relative = f"{folder}/{secrets.token_hex(16)}{extension}"
        fileobj.seek(0)
        # Recorded before the first byte is written, so a failure mid-copy is cleaned up too.
        self.new.append(relative)
        stored = storage().put_file(key_for(PRODUCTS, relative), fileobj)
        return StoredFile(relative, stored.size, stored.sha256)


def remove_upload(relative):
    """Delete a private file no row names any more. A store that cannot be reached is
    logged: the file is an orphan to sweep, never a row without its file."""
    try:
        storage().delete(key_for(PRODUCTS, relative))
    except StorageError:
        log.exception("could not remove %s", relative)


# ---------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------


def check_sizes(file, thumbnail):
    """Uploads over their limit are refused as a whole (413) before anything else."""
    if file is not None:
        size = _size(file.file)
        if size > config.UPLOAD_MAX_MB * 1048576:
            raise PayloadTooLarge(f"The product file is {human_size(size)}; the limit is "
                                  f"{config.UPLOAD_MAX_MB} MB.")
    if thumbnail is not None:
        size = _size(thumbnail.file)
        if size > config.THUMBNAIL_MAX_MB * 1048576:
            raise PayloadTooLarge(f"The thumbnail is {human_size(size)}; the limit is "
                                  f"{config.THUMBNAIL_MAX_MB} MB.")


def validate(form, file, thumbnail, creating):
    """Cleaned fields {title, description, price, category, tags, thumbnail_ext}, or ValidationError
    naming each problem."""
    check_sizes(file, thumbnail)
    errors, cleaned = {}, {}
    for field, clean in (("category", taxonomy.category_choice), ("tags", taxonomy.parse_tags)):
        try:
            cleaned[field] = clean(form.get(field))
        except ValidationError as exc:
            errors.update(exc.errors)
    title = " ".join((form.get("title") or "").split())
    if not title:
        errors["title"] = "Enter a title."
    elif len(title) > MAX_TITLE:
        errors["title"] = f"Use at most {MAX_TITLE} characters."
    cleaned["title"] = title
    description = (form.get("description") or "").replace("\r\n", "\n").strip()
    if not description:
        errors["description"] = "Describe what the buyer gets."
    elif len(description) > MAX_DESCRIPTION:
        errors["description"] = f"Use at most {MAX_DESCRIPTION} characters."
    cleaned["description"] = description
    cleaned["stamp_pdfs"] = (form.get("stamp_pdfs") or "") == "1"
    try:
        cleaned.update(product_options.validate(form, config.CURRENCY))
    except ValidationError as exc:
        errors.update(exc.errors)
    if file is None and creating:
        errors["file"] = "Choose the file buyers will download."
    elif file is not None and _size(file.file) == 0:
        errors["file"] = "The file is empty."
    if thumbnail is not None:
        try:
            cleaned["thumbnail_ext"] = images.check_upload(thumbnail.file)
        except NotAnImage as exc:
            errors["thumbnail"] = str(exc)
    if errors:
        raise ValidationError(errors=errors)
    return cleaned


def check_extra_files(uploads, keeping):
    """Files added beside the first: each within the limit and not empty, at most MAX_FILES in all."""
    for upload in uploads:
        size = _size(upload.file)
        if size > config.UPLOAD_MAX_MB * 1048576:
            raise PayloadTooLarge(f"“{clean_filename(upload.filename)}” is {human_size(size)}; the limit is "
                                  f"{config.UPLOAD_MAX_MB} MB.")
        if size == 0:
            raise ValidationError(errors={"extra_files": f"“{clean_filename(upload.filename)}” is empty."})
    if keeping + len(uploads) > MAX_FILES:
        raise ValidationError(errors={"extra_files": f"A product has at most {MAX_FILES} files."})


def files_of(product_id):
    return list(ProductFile.select().where(ProductFile.product == product_id).order_by(ProductFile.position))


def _store_file(staged, upload):
    stored = staged.store(upload.file, FILES_FOLDER, _extension(upload.filename))
    return {"name": clean_filename(upload.filename), "path": stored.path, "size": stored.size,
            "sha256": stored.sha256}


def _add_files(product_id, staged, uploads):
    position = (ProductFile.select(ProductFile.position).where(ProductFile.product == product_id)
                .order_by(ProductFile.position.desc()).scalar())
    position = -1 if position is None else position
    for upload in uploads:
        position += 1
        ProductFile.create(product=product_id, position=position, **_store_file(staged, upload))


def form_values(product):
    """The edit form's fields for an existing product."""
    amount = format_money(product.price, product.currency)
    return {"title": product.title, "description": product.description,
            "price": re.sub(r"[^\d.]", "", amount), "category": str(product.category_id or ""),
            "tags": taxonomy.tags_text(product.id), "stamp_pdfs": "1" if product.stamp_pdfs else "",
            **product_options.form_values(product)}


# ---------------------------------------------------------------------------
# Create and edit
# ---------------------------------------------------------------------------


def _unique_slug(title):
    base = slugify(title)
    if not Product.select().where(Product.slug == base).exists():
        return base
    return f"{base[:70]}-{secrets.token_hex(3)}"


def _thumbnail_fields(staged, thumbnail, extension):
    stored = staged.store(thumbnail.file, THUMBS_FOLDER, extension)
    return {"thumbnail_original": stored.path, "thumbnails": {}, "thumbnail_state": "processing",
            "thumbnail_error": None}


def create_product(seller, form, file, thumbnail, staged, extra_files=()):
    """A new product, pending review, selling `file` and then `extra_files`. Its thumbnail (if any)
    waits for process_file_upload."""
    cleaned = validate(form, file, thumbnail, creating=True)
    check_extra_files(extra_files, keeping=1)
    stored = staged.store(file.file, FILES_FOLDER, _extension(file.filename))
    fields = dict(seller=seller, title=cleaned["title"], description=cleaned["description"],
                  price=cleaned["price"], currency=config.CURRENCY, status="pending", category=cleaned["category"],
                  stamp_pdfs=cleaned["stamp_pdfs"], **{name: cleaned[name] for name in SELLING_OPTIONS},
                  file_path=stored.path, file_name=clean_filename(file.filename),
                  file_size=stored.size, file_sha256=stored.sha256)
    if thumbnail is not None:
        fields.update(_thumbnail_fields(staged, thumbnail, cleaned["thumbnail_ext"]))
    for _ in range(5):
        try:
            with db.atomic():
                product = Product.create(slug=_unique_slug(cleaned["title"]), **fields)
                ProductFile.create(product=product, position=0, name=fields["file_name"], path=stored.path,
                                   size=stored.size, sha256=stored.sha256)
                _add_files(product.id, staged, extra_files)
                taxonomy.set_tags(product.id, cleaned["tags"])
                return product
        except IntegrityError:
            continue  # another product took the slug between the check and the insert
    raise ValidationError(errors={"title": "Could not find a free web address for this title; change it a little."})


def update_product(product, form, file, thumbnail, staged, extra_files=(), remove_file_ids=()):
    """Apply an edit. Returns (product, sent_back_to_review).

    What needs a new review: on an approved product, a new title, description,
    file, thumbnail, or files added or removed (what buyers see and get); a new price, category or tags
    alone stay approved. A rejected product goes back to review on any save, which is how
    a seller resubmits it. A pending product simply stays pending.
    """
    cleaned = validate(form, file, thumbnail, creating=False)
    current = files_of(product.id)
    # The first file is replaced, never removed: a product always sells something.
    removing = [f for f in current if f.id in set(remove_file_ids) and f.position > 0]
    check_extra_files(extra_files, keeping=len(current) - len(removing))
    changes = {"title": cleaned["title"], "description": cleaned["description"], "price": cleaned["price"],
               "category": cleaned["category"], "stamp_pdfs": cleaned["stamp_pdfs"], "updated_at": utcnow(),
               **{name: cleaned[name] for name in SELLING_OPTIONS}}
    content_changed = (cleaned["title"] != product.title or cleaned["description"] != product.description
                       or file is not None or thumbnail is not None or bool(extra_files) or bool(removing))
    if file is not None:
        stored = staged.store(file.file, FILES_FOLDER, _extension(file.filename))
        changes.update(file_path=stored.path, file_name=clean_filename(file.filename), file_size=stored.size,
                       file_sha256=stored.sha256)
        if product.file_path:
            staged.replaced_uploads.append(product.file_path)
    if thumbnail is not None:
        changes.update(_thumbnail_fields(staged, thumbnail, cleaned["thumbnail_ext"]))
        if product.thumbnail_original:
            staged.replaced_uploads.append(product.thumbnail_original)
        if product.thumbnails:
            staged.replaced_thumbnails.append(product.thumbnails)
    review_again = product.status == "rejected" or (product.status == "approved" and content_changed)
    if review_again:
        changes.update(status="pending", rejection_reason=None, approved_at=None)
    with db.atomic():
        # Guarded by the files this edit saw, so two edits at once cannot orphan a file.
        updated = (Product.update(**changes)
                   .where((Product.id == product.id) & (Product.file_path == product.file_path)
                          & _same(Product.thumbnail_original, product.thumbnail_original))
                   .execute())
        if not updated:
            raise ValidationError("This product was changed in another window meanwhile. "
                                  "Reload the page and make your change again.")
        if file is not None:
            ProductFile.update(name=changes["file_name"], path=changes["file_path"], size=changes["file_size"],
                               sha256=changes["file_sha256"]).where(
                (ProductFile.product == product.id) & (ProductFile.position == 0)).execute()
        for old in removing:
            ProductFile.delete().where(ProductFile.id == old.id).execute()
            staged.replaced_uploads.append(old.path)
        _add_files(product.id, staged, extra_files)
        taxonomy.set_tags(product.id, cleaned["tags"])
        search.refresh(product.id)
    return Product.get_by_id(product.id), review_again


def _same(field, value):
    return field.is_null() if value is None else field == value


def products_of(seller):
    return Product.select().where(Product.seller == seller).order_by(Product.updated_at.desc(), Product.id.desc())


def human_size(size):
    """605 -> "605 bytes", 1229 -> "1.2 KB": the shop's one way to write a file size,
    on the product page, the seller's and the moderator's pages and in upload errors.
    Small sizes are exact, since rounding 605 bytes up to "1 KB" misleads a buyer."""
    size = int(size or 0)
    if size < 1024:
        return "1 byte" if size == 1 else f"{size} bytes"
    for unit in ("KB", "MB", "GB"):
        size /= 1024
        if size < 1024 or unit == "GB":
            return f"{size:.1f} {unit}" if size < 100 else f"{size:.0f} {unit}"
