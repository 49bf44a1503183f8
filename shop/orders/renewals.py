"""Renewing a download link from the customer's library (the Purchases page).

An expired or used-up link is given a fresh token, a fresh expiry and a fresh
count, in place, so the purchases page and the receipt's library link keep
pointing at the one link of the item; the old token stops working at once.
Each renewal is logged as a DownloadRenewal row, and a customer may renew at
most DOWNLOAD_RENEWALS_PER_DAY links in any 24 hours, so a leaked account is not
a free mirror. A refunded purchase is never renewed.
"""

import datetime
import logging
import secrets

from shop import config
from shop import security
from shop.errors import MarketplaceError
from shop.orders import downloads
from models import DownloadLink, DownloadRenewal, Order, OrderItem, db, utcnow

log = logging.getLogger(__name__)


class RenewalRefused(MarketplaceError):
    """A renewal that may not happen; the message is what the customer reads."""

    def __init__(self, message, status=403):
        super().__init__(message)
        self.status = status


def renewals_today(user, now=None):
    """How many links `user` renewed in the last 24 hours."""
    since = (now or utcnow()) - datetime.timedelta(days=1)
    return DownloadRenewal.select().where(
        (DownloadRenewal.buyer == user.id) & (DownloadRenewal.created_at > since)).count()


def renewable(link, now=None):
    """Whether the purchases page offers "Get a new link" for `link`."""
    return (link.order_item.order.status == "paid"
            and downloads.state(link, now) in (downloads.LinkState.EXPIRED, downloads.LinkState.USED_UP))


def renew(link_id, user, now=None, order_id=None):
    """Give `user`'s expired or used-up link `link_id` a fresh token; returns the link.

    Raises RenewalRefused for another customer's link (told apart from no link at
    all only by the log), a refunded order, a link still active, or the daily cap.
    With `order_id` (a guest's order page) only a link of that order is renewed.
    """
    now = now or utcnow()
    with db.atomic():
        link = (DownloadLink.select(DownloadLink, OrderItem, Order).join(OrderItem).join(Order)
                .where(DownloadLink.id == link_id).first())
        if link is None or user is None or link.buyer_id != user.id or (
                order_id is not None and link.order_item.order_id != order_id):
            if link is not None:
                log.warning("download link %s: renewal refused to user %s, not its buyer", link_id,
                            getattr(user, "id", None))
            raise RenewalRefused("That download is not among your purchases.", 404)
        if link.revoked_at is not None or link.order_item.order.status != "paid":
            raise RenewalRefused("This purchase was refunded, so its download cannot be renewed.", 410)
        if downloads.state(link, now) is downloads.LinkState.ACTIVE:
            raise RenewalRefused("This download link still works; use it from your purchases.", 409)
        if renewals_today(user, now) >= config.DOWNLOAD_RENEWALS_PER_DAY:
            raise RenewalRefused(
                f"You have renewed {config.DOWNLOAD_RENEWALS_PER_DAY} download links in the last 24 hours, "
                "the most a day allows. Please try again tomorrow or contact the shop.", 429)
        DownloadRenewal.create(link=link.id, buyer=user.id, previous_expires_at=link.expires_at,
                               previous_download_count=link.download_count, created_at=now)
        nonce = secrets.token_urlsafe(18)
        link.nonce = nonce
        link.token_hash = security.token_digest(downloads.token_for(nonce))
        link.expires_at = now + datetime.timedelta(hours=config.DOWNLOAD_LINK_TTL_HOURS)
        link.max_downloads = config.DOWNLOAD_LIMIT
        link.download_count = 0
        link.save(only=[DownloadLink.nonce, DownloadLink.token_hash, DownloadLink.expires_at,
                        DownloadLink.max_downloads, DownloadLink.download_count])
    log.info("download link %s renewed for user %s (order item %s)", link.id, user.id, link.order_item_id)
    return link
