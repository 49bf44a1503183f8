"""Stored files as downloads: product files for buyers, sellers and moderators, and invoices.

The customer's downloads, the seller's area and the admin's moderation area all
hand out the file a product sells, so its headers are built here once and no
area imports another.

On the local disk the app sends the file itself. From object storage it sends a
redirect to a presigned URL that lives DOWNLOAD_URL_TTL_SECONDS, which the
bucket answers with the same Content-Disposition and type: the bytes never pass
through the web workers.

Every product file goes out as an attachment of a neutral type, whatever its
name says: a seller's upload may be HTML or SVG, and served as such to the admin
who reviews it, it would run as a page of this site.
"""

from bottle import HTTPResponse, request, static_file

from shop import config
from shop.errors import MissingObject
from shop.orders import downloads
from shop.storage import PRODUCTS, key_for, storage

NEUTRAL_TYPE = "application/octet-stream"


def content_disposition(filename, disposition="attachment"):
    return downloads.content_disposition(filename, disposition)


def attachment_headers(filename, content_type=NEUTRAL_TYPE, disposition="attachment"):
    """The headers of every stored file sent: never a page to render, never cached."""
    return {"Content-Type": content_type, "Content-Disposition": content_disposition(filename, disposition),
            "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"}


def send_stored(key, filename, content_type=NEUTRAL_TYPE, disposition="attachment"):
    """The stored file `key` as a download named `filename`.

    A HEAD request on a bucket's file answers with its headers and size and no
    redirect: a presigned URL is signed for GET, and a probe must not need one.
    """
    store = storage()
    path = store.local_path(key)
    headers = attachment_headers(filename, content_type, disposition)
    if path is not None:
        result = static_file(path.name, root=str(path.parent), mimetype=content_type)
        if isinstance(result, HTTPResponse) and result.status_code in (200, 206, 304):
            for name, value in headers.items():
                result.set_header(name, value)
        return result
    if request.method == "HEAD":
        size = store.size(key)
        if size is None:
            raise MissingObject(f"no stored file {key}")
        return HTTPResponse(status=200, body="", headers={**headers, "Content-Length": str(size)})
    url = store.download_url(key, headers["Content-Disposition"], content_type, config.DOWNLOAD_URL_TTL_SECONDS)
    # no-referrer: the signed URL should not travel on to another site in a Referer.
    return HTTPResponse(status=302, body="", headers={"Location": url, "Cache-Control": "private, no-store",
                                                      "Referrer-Policy": "no-referrer"})


def send_product_file(product):
    """A product's private file as an attachment (for its seller and for moderators)."""
    if not product.file_path:
        raise MissingObject(f"product {product.id} has no file")
    return send_stored(key_for(PRODUCTS, product.file_path), product.file_name or product.file_path)
