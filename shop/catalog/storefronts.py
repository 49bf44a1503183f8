"""Seller storefronts: a seller's public page with their bio, avatar and products on sale.

The address is /sellers/<name>-<id> (User.storefront_path): the id finds the seller, so an
address shared before a change of name still works and is redirected to the current one.
The avatar goes the way of a product thumbnail: checked as an image in the request,
stored privately, then made into clean WebP sizes by the avatar job (process_avatar),
which decodes it in a killable child process; the page shows the initial until then.
"""

import logging
import re

from shop import config
from shop.catalog import images
from shop.errors import NotAnImage, PayloadTooLarge, ValidationError
from models import Product, SellerProfile, User, db, utcnow

log = logging.getLogger(__name__)

MAX_BIO = 2000
AVATAR_WIDTHS = (96, 320)
AVATARS_FOLDER = "avatars"


def seller_from_slug(slug):
    """The seller the address names (by the id at its end), or None."""
    match = re.fullmatch(r"(?:[a-z0-9-]*-)?(\d{1,12})", slug or "")
    if not match:
        return None
    return User.get_or_none((User.id == int(match.group(1))) & (User.role == "seller"))


def profile_of(seller):
    """The seller's profile, or an unsaved empty one (nothing is written on a visit)."""
    return SellerProfile.get_or_none(SellerProfile.seller == seller) or SellerProfile(seller=seller)


def products_on_sale(seller):
    return (Product.select(Product, User).join(User)
            .where((Product.seller == seller) & (Product.status == "approved"))
            .order_by(Product.approved_at.desc(), Product.id.desc()))


def save_profile(seller, bio, avatar, staged):
    """Store a new bio (and avatar, if one was chosen). Returns (profile, avatar_to_process)."""
    bio = (bio or "").replace("\r\n", "\n").strip()
    errors = {}
    if len(bio) > MAX_BIO:
        errors["bio"] = f"Use at most {MAX_BIO} characters."
    extension = None
    if avatar is not None:
        avatar.file.seek(0, 2)
        size = avatar.file.tell()
        avatar.file.seek(0)
        if size > config.THUMBNAIL_MAX_MB * 1048576:
            raise PayloadTooLarge(f"The picture is over the limit of {config.THUMBNAIL_MAX_MB} MB.")
        try:
            extension = images.check_upload(avatar.file)
        except NotAnImage as exc:
            errors["avatar"] = str(exc)
    if errors:
        raise ValidationError(errors=errors)
    with db.atomic():
        profile = SellerProfile.get_or_none(SellerProfile.seller == seller)
        if profile is None:
            profile = SellerProfile.create(seller=seller)
        changes = {"bio": bio, "updated_at": utcnow()}
        if avatar is not None:
            stored = staged.store(avatar.file, AVATARS_FOLDER, extension)
            if profile.avatar_original:
                staged.replaced_uploads.append(profile.avatar_original)
            if profile.avatars:
                staged.replaced_thumbnails.append(profile.avatars)
            changes.update(avatar_original=stored.path, avatars={}, avatar_state="processing", avatar_error=None)
        SellerProfile.update(**changes).where(SellerProfile.id == profile.id).execute()
    profile = SellerProfile.get_by_id(profile.id)
    return profile, (profile.avatar_original if avatar is not None else None)


def process_avatar(profile_id, original, timeout=None):
    """Make and record the avatar sizes of `original`; idempotent. Returns an images.ThumbnailOutcome."""
    profile = SellerProfile.get_or_none(SellerProfile.id == profile_id)
    if profile is None or profile.avatar_original != original:
        return images.ThumbnailOutcome.STALE
    if profile.avatar_state == "ready":
        return images.ThumbnailOutcome.DONE
    avatars = images.make_sized_copies(original, AVATAR_WIDTHS, timeout=timeout)
    recorded = (SellerProfile.update(avatars=avatars, avatar_state="ready", avatar_error=None)
                .where((SellerProfile.id == profile_id) & (SellerProfile.avatar_original == original))
                .execute())
    if not recorded:
        images.delete_thumbnails(avatars)  # a newer picture came meanwhile; it has its own job
        return images.ThumbnailOutcome.STALE
    log.info("avatar of seller profile %s ready", profile_id)
    return images.ThumbnailOutcome.READY


def mark_avatar_failed(profile_id, original, message):
    return (SellerProfile.update(avatar_state="failed", avatar_error=message[:500])
            .where((SellerProfile.id == profile_id) & (SellerProfile.avatar_original == original)
                   & (SellerProfile.avatar_state != "ready"))
            .execute())
