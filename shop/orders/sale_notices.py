"""A seller hears of their sales: an in-app notification and an email, batched.

Every paid order asks for a notice to each of its sellers (the notify_seller_of_sales
job, unique per seller for a few minutes and run a minute late), so a burst of
sales makes one notice. The notice gathers the seller's sales since the last one:
the id of the last sale told is kept as a queue flag and moved on only once the
email has gone.

Once in effect: the batch's key is the last sale told before it, so a retry after
a mail server refused the email finds the same notification row (store() returns
it), sends the email built from that row under the same key, and tells no sale
twice. Sales made while a notice is being sent are told by the next one, which
the hourly sweep (sweep()) asks for if no new sale does.
"""

import datetime
import logging

from job_runtime import control
from shop import config
from shop.accounts import notifications
from shop.money import format_money
from models import TransactionItem, User, utcnow

log = logging.getLogger(__name__)

SALES = "sales"
MAX_LISTED = 20


def flag_key(seller_id):
    return f"sale-notices:{seller_id}:last-sale-id"


def sellers_of(order_id):
    """The sellers of an order's sales, for the notices it asks for."""
    return sorted({seller_id for (seller_id,) in TransactionItem.select(TransactionItem.seller)
                   .where(TransactionItem.order == order_id).tuples()})


def _summary(sales):
    totals = {}
    for sale in sales:
        totals[sale.currency] = totals.get(sale.currency, 0) + sale.seller_amount
    return {"sale_ids": [sale.id for sale in sales], "count": len(sales),
            "earned": [[currency, amount] for currency, amount in sorted(totals.items())],
            "titles": [sale.order_item.title for sale in sales[:MAX_LISTED]],
            "message": (f"You made {len(sales)} sale{'s' if len(sales) != 1 else ''}: "
                        + ", ".join(format_money(amount, currency) for currency, amount in sorted(totals.items()))
                        + " earned."),
            "url": f"{config.APP_URL}/seller/reports"}


def _email_text(seller, data):
    lines = [f"Hello {seller.name},", "", data["message"], ""]
    lines += [f"  - {title}" for title in data["titles"]]
    if data["count"] > len(data["titles"]):
        lines.append(f"  ... and {data['count'] - len(data['titles'])} more.")
    lines += ["", f"Your sales: {config.APP_URL}/seller/reports",
              f"Your balance: {config.APP_URL}/seller/balance", "", config.APP_NAME]
    return "\n".join(lines)


def notify(seller_id):
    """Tell the seller of the sales since their last notice; returns how many were told."""
    seller = User.get_or_none(User.id == seller_id)
    if seller is None:
        return 0
    last_id = int(control.get_flag(flag_key(seller_id), 0))
    key = f"sales:{seller_id}:after-{last_id}"
    sales = list(TransactionItem.select().where((TransactionItem.seller == seller_id)
                                                & (TransactionItem.id > last_id)).order_by(TransactionItem.id))
    if not sales:
        return 0
    # An earlier attempt's row, when there is one, decides the batch: its email is what is still owed.
    notification = notifications.store(seller.id, SALES, key, _summary(sales))
    data = notification.data
    subject = f"[{config.APP_NAME}] {data['message']}"
    notifications.deliver(seller, SALES, key, data, subject, _email_text(seller, data))
    control.set_flag(flag_key(seller_id), max(data["sale_ids"]))
    log.info("seller %s told of %d sale(s)", seller_id, data["count"])
    return data["count"]


def sweep(hours=24):
    """The sellers whose recent sales no notice has told yet (asked again by the hourly sweep)."""
    since = utcnow() - datetime.timedelta(hours=hours)
    newest = {}
    for seller_id, sale_id in (TransactionItem.select(TransactionItem.seller, TransactionItem.id)
                               .where(TransactionItem.created_at > since).tuples()):
        newest[seller_id] = max(sale_id, newest.get(seller_id, 0))
    return sorted(seller_id for seller_id, sale_id in newest.items()
                  if sale_id > int(control.get_flag(flag_key(seller_id), 0)))
