"""A product's private file as an attachment, for its seller and for moderators.

The seller's area and the admin's moderation area both hand out the file a
product sells, so the response is built here once and neither area imports
the other.
"""

from urllib.parse import quote

from bottle import HTTPResponse, static_file

from shop import config


def send_product_file(product):
    """A product's private file as an attachment (for its seller and for moderators).

    The name is sent in RFC 6266 form, with an ASCII fallback, because a
    seller's file name may hold any character and a header may not.
    """
    result = static_file(product.file_path, root=str(config.UPLOADS_DIR),
                         headers={"Cache-Control": "private, no-store"})
    if isinstance(result, HTTPResponse) and result.status_code in (200, 206):
        name = product.file_name or "download"
        fallback = name.encode("ascii", "replace").decode("ascii").replace("?", "_").replace('"', "")
        result.set_header("Content-Disposition",
                          f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}")
    return result
