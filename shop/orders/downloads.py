"""Download links: one per purchased item, expiring, limited, revoked by a refund.

The URL carries a token that is an HMAC of the link's random nonce under a key
derived from APP_SECRET. The database keeps the nonce (so the purchases page
can show the link again) and the token's SHA-256 (to find the link); neither
alone lets anyone download. Each download is counted by one conditional
UPDATE, so two simultaneous requests cannot both take the last download.
"""

import base64
import datetime
import enum
import hashlib
import hmac
import logging
import secrets
import shutil
import zipfile
from urllib.parse import quote

from peewee import IntegrityError

from shop import config
from shop import security
from shop.errors import MarketplaceError, MissingObject
from shop.storage import PRODUCTS, key_for, storage
from shop.orders import stamping
from models import DownloadLink, Order, OrderItem, Product, ProductFile, StampedFile, User, db, utcnow

log = logging.getLogger(__name__)


class DownloadRefused(MarketplaceError):
    """A download that may not happen; `title` and the message make the page the visitor sees."""

    def __init__(self, title, message, status=403):
        super().__init__(message)
        self.title = title
        self.status = status


def token_for(nonce):
    digest = hmac.new(security.derive_key("download-link"), nonce.encode("ascii"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def url_for(link):
    return f"/download/{token_for(link.nonce)}"


def create_link(order_item, buyer_id, now=None):
    """The item's link, created once; returns (link, created)."""
    now = now or utcnow()
    nonce = secrets.token_urlsafe(18)
    try:
        with db.atomic():
            link = DownloadLink.create(
                order_item=order_item, buyer=buyer_id, product=order_item.product_id, nonce=nonce,
                token_hash=security.token_digest(token_for(nonce)),
                expires_at=now + datetime.timedelta(hours=config.DOWNLOAD_LINK_TTL_HOURS),
                max_downloads=config.DOWNLOAD_LIMIT)
        return link, True
    except IntegrityError:
        return DownloadLink.get(DownloadLink.order_item == order_item), False


def revoke_for_order(order):
    """Revoke every link of the order (a refund); returns how many were live."""
    item_ids = OrderItem.select(OrderItem.id).where(OrderItem.order == order)
    return DownloadLink.update(revoked_at=utcnow()).where(
        DownloadLink.order_item.in_(item_ids) & DownloadLink.revoked_at.is_null()).execute()


def links_for_order(order):
    """The order's links with their products, in item order."""
    return list(DownloadLink.select(DownloadLink, OrderItem, Product)
                .join(OrderItem).switch(DownloadLink).join(Product)
                .where(OrderItem.order == order).order_by(OrderItem.id))


class LinkState(enum.StrEnum):
    """A download link's state; its value is what the purchases page says."""

    ACTIVE = "active"
    EXPIRED = "expired"
    USED_UP = "used up"
    REVOKED = "revoked"


def state(link, now=None):
    """The link's LinkState."""
    now = now or utcnow()
    if link.revoked_at is not None:
        return LinkState.REVOKED
    if link.expires_at <= now:
        return LinkState.EXPIRED
    if link.download_count >= link.max_downloads:
        return LinkState.USED_UP
    return LinkState.ACTIVE


def remaining(link):
    return max(0, link.max_downloads - link.download_count)


def find(token):
    if not token or len(token) > 128:
        return None
    return (DownloadLink.select(DownloadLink, OrderItem, Order, Product, User)
            .join(OrderItem).join(Order).switch(DownloadLink).join(Product)
            .switch(DownloadLink).join(User, on=(DownloadLink.buyer == User.id))
            .where(DownloadLink.token_hash == security.token_digest(token)).first())


def _refusal(link, now):
    """Why `link` cannot be used now, as a DownloadRefused, or None if it can."""
    if link.revoked_at is not None or link.order_item.order.status == "refunded":
        return DownloadRefused("Download no longer available",
                               "This purchase was refunded, so its download link no longer works.", 410)
    if link.expires_at <= now:
        return DownloadRefused(
            "Download link expired",
            f"This link expired on {link.expires_at:%d %b %Y at %H:%M} UTC. Links last "
            f"{config.DOWNLOAD_LINK_TTL_HOURS} hours after purchase; contact the shop if you still need the file.",
            410)
    if link.download_count >= link.max_downloads:
        return DownloadRefused(
            "Download limit reached",
            f"This link has been used for all {link.max_downloads} downloads it allows. "
            "Contact the shop if you still need the file.", 410)
    return None


class BeingStamped(DownloadRefused):
    """The buyer's stamped copy of a PDF is not made yet: `missing` lists the (order item id,
    product file id) pairs for the web layer to dispatch stamp_purchased_pdf with."""

    def __init__(self, missing):
        super().__init__("Your copy is being prepared",
                         "This file is being stamped with your name and email for you. "
                         "Reload this page in a minute to download it.", 503)
        self.missing = missing


def _key_of(link, product_file):
    """The storage key a link serves for `product_file`: the buyer's stamped copy when the
    product asks for one, else the file itself; BeingStamped when the copy is not made yet."""
    if stamping.wants_stamp(link.product, product_file):
        stamped = StampedFile.get_or_none((StampedFile.order_item == link.order_item_id)
                                          & (StampedFile.product_file == product_file.id))
        if stamped is None:
            raise BeingStamped([(link.order_item_id, product_file.id)])
        return _stored_file(link, stamped.path)
    return _stored_file(link, product_file.path if product_file else link.product.file_path)


def _usable_link(token, user):
    """The link named by `token` if `user` may download with it now, else DownloadRefused."""
    link = find(token)
    if link is None:
        raise DownloadRefused("Download link not found",
                              "This download link is not valid. Open your purchases to find your links.", 404)
    if not link.buyer.is_guest and (user is None or link.buyer_id != user.id):
        # A guest's link is the guest's only key, as the receipt's links are on Gumroad;
        # an account's link needs the account.
        if user is None:
            raise DownloadRefused("Log in to download",
                                  "This download belongs to an account: log in to it to download.", 401)
        raise DownloadRefused("Not your download",
                              "This download link belongs to another customer's purchase.", 403)
    refusal = _refusal(link, utcnow())
    if refusal:
        raise refusal
    return link


def claim(token, user, count=True):
    """Count one download of the link named by `token` for `user`; returns (link, storage key)
    of the product's first file (what every link served before products had several).

    Raises DownloadRefused (a clear page) for an unknown token, someone else's
    link (an account's link with no one logged in is status 401), a refunded
    purchase, an expired link or a used-up limit. With count=False (a HEAD
    request) the checks run but nothing is counted.
    """
    link = _usable_link(token, user)
    first = (ProductFile.select().where((ProductFile.product == link.product_id) & (ProductFile.position == 0))
             .first())
    key = _key_of(link, first)
    if count:
        _count(token, link)
    return link, key


def claim_file(token, user, file_id, count=True):
    """As claim(), for one file of the product: returns (link, ProductFile, storage key)."""
    link = _usable_link(token, user)
    product_file = ProductFile.get_or_none((ProductFile.id == file_id) & (ProductFile.product == link.product_id))
    if product_file is None:
        raise DownloadRefused("File not found", "This product has no such file. Open your purchases "
                              "to see its files.", 404)
    key = _key_of(link, product_file)
    if count:
        _count(token, link)
    return link, product_file, key


def files_of_product(product_id):
    """The files a link of this product offers, in the seller's order."""
    return list(ProductFile.select().where(ProductFile.product == product_id).order_by(ProductFile.position))


def claim_all(token, user, count=True):
    """As claim(), for every file of the product at once: returns (link, [(name, storage key)]),
    the names made unique for a ZIP. One download of the link, however many files."""
    link = _usable_link(token, user)
    files, used, missing = [], set(), []
    for product_file in files_of_product(link.product_id):
        base = safe_filename(product_file.name)
        name, n = base, 1
        while name.lower() in used:
            n += 1
            stem, dot, ext = base.rpartition(".")
            name = f"{stem} ({n}).{ext}" if dot else f"{base} ({n})"
        used.add(name.lower())
        try:
            files.append((name, _key_of(link, product_file)))
        except BeingStamped as exc:
            missing.extend(exc.missing)
    if missing:
        raise BeingStamped(missing)
    if not files:
        files = [(safe_filename(link.product.file_name), _stored_file(link, link.product.file_path))]
    if count:
        _count(token, link)
    return link, files


def write_zip(files, out):
    """The ZIP of [(name, storage key)] into the binary file `out`, rewound. Stored, not
    deflated: products are mostly compressed already (archives, PDFs, media), and storing
    keeps it quick."""
    store = storage()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name, key in files:
            with store.open(key) as source, archive.open(name, "w", force_zip64=True) as target:
                shutil.copyfileobj(source, target, 1024 * 1024)
    out.seek(0)
    return out


def _count(token, link):
    now = utcnow()
    counted = DownloadLink.update(download_count=DownloadLink.download_count + 1, last_downloaded_at=now).where(
        (DownloadLink.id == link.id) & DownloadLink.revoked_at.is_null() & (DownloadLink.expires_at > now)
        & (DownloadLink.download_count < DownloadLink.max_downloads)).execute()
    if not counted:
        # Another request took the last download (or a refund landed) since we looked.
        fresh = find(token)
        raise _refusal(fresh, now) or DownloadRefused("Download unavailable", "Please try again.", 409)
    link.download_count += 1


def _stored_file(link, relative):
    """The storage key of one of the link's product files, checked to be there before anything is counted."""
    try:
        key = key_for(PRODUCTS, relative or "")
        if storage().exists(key):
            return key
    except MissingObject:
        key = relative
    log.error("download %s: a file of product %s is missing (%s)", link.id, link.product_id, key)
    raise DownloadRefused("File unavailable",
                          "The file of this product is missing on our side. It has been logged; "
                          "please contact the shop.", 404)


def safe_filename(name, fallback="download"):
    """A file name safe for a Content-Disposition header: no paths, quotes or control characters."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(ch for ch in name if ch.isprintable() and ch not in '"<>:|?*;')
    cleaned = cleaned.strip(" .")
    return cleaned[:150] or fallback


def content_disposition(filename, disposition="attachment"):
    """`disposition` with an ASCII fallback name and the exact name in RFC 5987 form.

    The name is cleaned (no paths, quotes or control characters) because a seller's
    file name may hold any character and a header may not. The same value goes into
    a bucket's presigned URL, which the bucket sends back as the header.
    """
    name = safe_filename(filename)
    ascii_name = name.encode("ascii", "ignore").decode("ascii").strip() or "download"
    return f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"
