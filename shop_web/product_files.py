"""A product's private file as an attachment: for its buyers, its seller and moderators.

The customer's downloads, the seller's area and the admin's moderation area all
hand out the file a product sells, so its headers are built here once and no
area imports another.

Every product file goes out as an attachment of a neutral type, whatever its
name says: a seller's upload may be HTML or SVG, and served as such to the admin
who reviews it, it would run as a page of this site.
"""

from urllib.parse import quote

from bottle import HTTPResponse, static_file

from shop import config
from shop.orders import downloads

NEUTRAL_TYPE = "application/octet-stream"


def content_disposition(filename):
    """attachment with an ASCII fallback name and the exact name in RFC 5987 form.

    The name is cleaned (no paths, quotes or control characters) because a seller's
    file name may hold any character and a header may not.
    """
    name = downloads.safe_filename(filename)
    ascii_name = name.encode("ascii", "ignore").decode("ascii").strip() or "download"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


def attachment_headers(filename):
    """The headers of every product file sent: a download, never a page to render."""
    return {"Content-Type": NEUTRAL_TYPE, "Content-Disposition": content_disposition(filename),
            "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"}


def send_file(root, relative, filename):
    """The file `relative` inside folder `root` (which it cannot leave) as an attachment named `filename`."""
    result = static_file(str(relative), root=str(root), mimetype=NEUTRAL_TYPE)
    if isinstance(result, HTTPResponse) and result.status_code in (200, 206, 304):
        for name, value in attachment_headers(filename).items():
            result.set_header(name, value)
    return result


def send_product_file(product):
    """A product's private file as an attachment (for its seller and for moderators)."""
    return send_file(config.UPLOADS_DIR, product.file_path, product.file_name or product.file_path)
