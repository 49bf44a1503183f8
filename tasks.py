"""Every job, listener and periodic task. `huey_consumer tasks.huey -w 4` runs them.

Jobs are thin: they take ids, load their rows and call the service that does
the work. This module never imports marketplace: the consumer must not build
the web app.

Importing this module only declares the jobs. A process that runs or dispatches
them calls `start()` first; huey_consumer does so by asking for `tasks.huey`.
"""

import importlib
import logging

from shop import config, logs
import models
from shop import runtime
from shop.runtime import setup_job_runtime
import job_runtime
from job_runtime import crontab, job, on_failure, periodic
from job_runtime.monitoring import metrics

log = logging.getLogger("tasks")


# ---------------------------------------------------------------------------
# The job runtime's own upkeep
# ---------------------------------------------------------------------------


@periodic(crontab(minute="*/10"), queue="low", tries=2, timeout=300)
def prune_job_records():
    """Drop finished job records, old failed jobs, expired locks and counters."""
    from job_runtime import retention

    # Whatever is about to be pruned must be in the roll-ups first.
    metrics.roll_up()
    removed = retention.prune()
    log.info("pruned %s", ", ".join(f"{n} {kind}" for kind, n in removed.items()))


# A mail server can be down for minutes. The purchase path's jobs (and the notices of an account's
# changes) that end with an email retry with a growing backoff for about 40 minutes (10 s, 30 s, 1, 2, 5, 10
# and 20 min) before they land in the failed-job store; every retry finds the work
# already done and the mailer's keys send only what is still unsent.
MAIL_RETRIES = {"tries": 8, "backoff": [10, 30, 60, 120, 300, 600, 1200]}


# A password reset link lasts an hour: its email retries for about 20 minutes
# (10 s, 30 s, 1, 2, 5 and 10 min), after which a new link is the better help.
MAIL_RETRIES_SHORT = {"tries": 7, "backoff": [10, 30, 60, 120, 300, 600]}


@periodic(crontab(minute="17"), queue="low", tries=2, timeout=120)
def prune_sessions():
    """Drop expired sessions, old failed-login records, long-expired reset links, ended API
    rate windows, and the guests who left a cart and bought nothing."""
    from shop.accounts import guests, password_reset, users
    from shop.api import rate_limit

    password_reset.prune()
    users.prune_sessions()
    guests.prune_guests()
    rate_limit.prune()


@job(queue="high", **MAIL_RETRIES_SHORT, timeout=60, encrypted=True)
def send_password_reset(reset_id, token):
    """The password reset link's email (once per link). Encrypted: its arguments hold the link."""
    from shop.accounts import password_reset

    password_reset.send_reset_email(reset_id, token)


@job(queue="high", **MAIL_RETRIES_SHORT, timeout=60)
def send_email_verification(user_id, expires, request_id):
    """The link that verifies an account's address (once per request)."""
    from shop.accounts import verification

    verification.send_link(user_id, expires, request_id)


@job(queue="high", **MAIL_RETRIES_SHORT, timeout=60)
def send_email_change_link(user_id, new_email, expires, request_id):
    """The link, to the new address, that makes it the account's (once per request)."""
    from shop.accounts import settings

    settings.send_change_link(user_id, new_email, expires, request_id)


@job(**MAIL_RETRIES, timeout=60)
def send_email_change_notice(user_id, old_email, new_email, key):
    """Tell the old address that the account's address changed (once per change)."""
    from shop.accounts import settings

    settings.send_change_notice(user_id, old_email, new_email, key)


# The queue dashboard's figures and alerts run on the high queue, so a backlog of
# ordinary jobs does not hold them up.
@periodic(crontab(), queue="high", tries=2, timeout=300)
def roll_up_job_metrics():
    """Add the jobs that finished since the last run to the per-minute roll-ups (queue_metrics)."""
    metrics.roll_up()


@periodic(crontab(), queue="high", tries=3, backoff=[10, 30], timeout=120)
def check_queue_alerts():
    """Mail the admins about long waits and failure rates, once per incident (queue_alerts)."""
    from job_runtime.monitoring import alerts

    alerts.check()


@job(queue="high", tries=5, backoff=[30, 60, 300], timeout=60, unique_for=300, unique_key=lambda: "all")
def alert_admins_of_failures():
    """One email to the admins about the jobs that failed since the last one."""
    from shop.operations import failure_alerts

    failure_alerts.send_failure_alert()


from shop.operations import alert_webhook  # noqa: E402


@job(name=alert_webhook.JOB_NAME, queue="high", tries=6, backoff=[10, 30, 60, 300, 900], timeout=30,
     unique_for=3600, unique_key=lambda key, text: key)
def post_alert_to_chat(key, text):
    """POST an alert to the chat at ALERT_WEBHOOK_URL (unique by the notice's key while queued)."""
    if config.ALERT_WEBHOOK_URL:
        alert_webhook.post(config.ALERT_WEBHOOK_URL, text)


def _alert_chat(key, subject, text):
    # The notice goes to the chat through a job, retried while the chat is down; the
    # alert check that called this goes on at once.
    if not config.ALERT_WEBHOOK_URL:
        return 0
    post_alert_to_chat.dispatch(key, alert_webhook.message(subject, text))
    return 1


runtime.alert_channels.append(_alert_chat)


@on_failure
def _queue_failure_alert(failed):
    # Waiting a minute gathers a burst of failures into one email; the alert job
    # is unique, so later failures in the window add to the same email.
    if failed.name != alert_admins_of_failures.name:
        alert_admins_of_failures.s().delay(60).dispatch()


# ---------------------------------------------------------------------------
# Tags: what a job concerns, worked out from its arguments when it is dispatched,
# so that the dashboard and `queue jobs --tag order:42` find every job of an
# order, a product or a seller. Each costs at most one indexed query.
# ---------------------------------------------------------------------------


def order_tags(order_id, *rest):
    """order:ID and the order's sellers."""
    sellers = (models.OrderItem.select(models.OrderItem.seller).where(models.OrderItem.order == order_id)
               .distinct().order_by(models.OrderItem.seller).tuples())
    return [f"order:{order_id}"] + [f"seller:{seller_id}" for (seller_id,) in sellers]


def product_tags(product_id, *rest):
    """product:ID and its seller."""
    seller_id = models.Product.select(models.Product.seller).where(models.Product.id == product_id).scalar()
    return [f"product:{product_id}", f"seller:{seller_id}" if seller_id else None]


def review_tags(review_id):
    """review:ID, and the product reviewed and its seller."""
    product_id = (models.ProductReview.select(models.ProductReview.product)
                  .where(models.ProductReview.id == review_id).scalar())
    return [f"review:{review_id}", *(product_tags(product_id) if product_id else [])]


def refund_tags(refund_id):
    """refund:ID and its order."""
    order_id = models.Refund.select(models.Refund.order).where(models.Refund.id == refund_id).scalar()
    return [f"refund:{refund_id}", f"order:{order_id}" if order_id else None]


def event_tags(event_id):
    """event:ID (a gateway's webhook event) and its order."""
    order_id = (models.WebhookEvent.select(models.WebhookEvent.order)
                .where(models.WebhookEvent.id == event_id).scalar())
    return [f"event:{event_id}", f"order:{order_id}" if order_id else None]


# ---------------------------------------------------------------------------
# Catalog: thumbnails of uploads, and the sellers' notices of moderation decisions
# ---------------------------------------------------------------------------

from shop.catalog import images  # noqa: E402
from shop.accounts import notifications  # noqa: E402
from shop.errors import NotAnImage  # noqa: E402
from job_runtime import Fail, JobTimeout  # noqa: E402


@job(queue="low", tries=3, backoff=[10, 60], timeout=180, tags=product_tags)
def process_file_upload(product_id, thumbnail_path):
    """ProcessFileUpload: the product's thumbnail in every width; the shop shows a placeholder until then."""
    try:
        images.process_thumbnail(product_id, thumbnail_path)
    except NotAnImage as exc:
        # Trying again cannot make this file an image.
        raise Fail(str(exc)) from None


@process_file_upload.failed
def process_file_upload_failed(exc, product_id, thumbnail_path):
    if isinstance(exc, Fail):
        message = str(exc)
    elif isinstance(exc, JobTimeout):
        message = "Making the thumbnail took too long. Upload a smaller image."
    else:
        message = "The thumbnail could not be processed. Upload it again, or try another image."
    images.mark_failed(product_id, thumbnail_path, message)


from shop.catalog import storefronts  # noqa: E402
from shop.orders import stamping  # noqa: E402
from shop.catalog import previews as product_previews  # noqa: E402


@job(queue="low", tries=3, backoff=[10, 60], timeout=180, tags=lambda preview_id, source: [f"preview:{preview_id}"])
def process_product_preview(preview_id, source):
    """ProcessProductPreview: a preview image, or the first page of the product's PDF, in each size."""
    try:
        product_previews.process(preview_id, source)
    except NotAnImage as exc:
        raise Fail(str(exc)) from None


@process_product_preview.failed
def process_product_preview_failed(exc, preview_id, source):
    message = str(exc) if isinstance(exc, Fail) else "The preview could not be made. Upload it again."
    product_previews.mark_failed(preview_id, source, message)
from shop.catalog import updates as product_updates  # noqa: E402
from job_runtime import RateLimited, batch  # noqa: E402


@job(tries=3, backoff=[30, 120], timeout=120)
def start_product_update(update_id):
    """StartProductUpdate: one deliver_product_update per past buyer, as a batch, once."""
    update = models.ProductUpdate.get_or_none(models.ProductUpdate.id == update_id)
    if update is None or update.batch_id is not None:
        return "started already"
    buyers = product_updates.past_buyers(update.product_id)
    with models.db.atomic() as transaction:
        pending = batch([deliver_product_update.s(update_id, buyer_id) for buyer_id in buyers],
                        name=f"product update {update_id}", allow_failures=True)
        # The batch's id is known only once it is made: made and claimed in one transaction,
        # and rolled back together when another run claimed the update first.
        batch_id = pending.dispatch()
        if not product_updates.claim_start(update_id, batch_id, len(buyers)):
            transaction.rollback()
            return "not on sale or started already"
    return f"{len(buyers)} buyer(s)"


class ProductUpdateMailLimit(RateLimited):
    """The product updates' shared mail limit, read from the settings when a job runs:
    importing the shop reads no settings."""

    def __init__(self):
        super().__init__("product-update-mail", allow=None, every=None)

    def handle(self, attempt, proceed):
        self.allow, self.every = config.PRODUCT_UPDATE_MAILS, config.PRODUCT_UPDATE_MAIL_WINDOW_SECONDS
        return super().handle(attempt, proceed)


@job(queue="low", tries=5, backoff=[30, 120, 600], timeout=60, middleware=[ProductUpdateMailLimit()])
def deliver_product_update(update_id, buyer_id):
    """DeliverProductUpdate: one past buyer hears of the update, in the app and by email, once."""
    return product_updates.deliver(update_id, buyer_id)


# One job per item and file at a time (unique while queued); the copy itself is unique by
# its row, so a retry after a crash records one copy. Killable: the PDF work is in a child.
@job(queue="low", tries=3, backoff=[10, 60], timeout=300, unique_for=600,
     unique_key=lambda order_item_id, product_file_id: f"{order_item_id}:{product_file_id}")
def stamp_purchased_pdf(order_item_id, product_file_id):
    """StampPurchasedPdf: the buyer's copy of a PDF with their name and email on every page."""
    stamping.stamp(order_item_id, product_file_id)


def avatar_tags(profile_id, avatar_path):
    seller_id = (models.SellerProfile.select(models.SellerProfile.seller)
                 .where(models.SellerProfile.id == profile_id).scalar())
    return [f"seller:{seller_id}" if seller_id else None]


@job(queue="low", tries=3, backoff=[10, 60], timeout=180, tags=avatar_tags)
def process_avatar_upload(profile_id, avatar_path):
    """The storefront's avatar in each size, made like a product thumbnail; the initial shows until then."""
    try:
        storefronts.process_avatar(profile_id, avatar_path)
    except NotAnImage as exc:
        raise Fail(str(exc)) from None


@process_avatar_upload.failed
def process_avatar_upload_failed(exc, profile_id, avatar_path):
    message = str(exc) if isinstance(exc, Fail) else "The picture could not be processed. Upload it again."
    storefronts.mark_avatar_failed(profile_id, avatar_path, message)


# The seller's ProductApproved / ProductRejected notifications, keyed by the
# moderation decision: a retry after a mail failure only sends what is missing.
@job(tries=3, backoff=[30, 120], timeout=60, tags=review_tags)
def notify_product_approved(review_id):
    notifications.product_approved(review_id)


@job(tries=3, backoff=[30, 120], timeout=60, tags=review_tags)
def notify_product_rejected(review_id):
    notifications.product_rejected(review_id)


from shop.catalog import review_notices  # noqa: E402


# The admins' notice of a product submitted for review, keyed by the product and the time it
# was submitted: a retry after a mail failure only sends what is missing.
@job(**MAIL_RETRIES, timeout=60, tags=product_tags)
def notify_admins_of_submission(product_id, submitted_at):
    """Tell every admin that a product waits for review (in the app and by email)."""
    review_notices.notify(product_id, submitted_at)


def submitted_for_review(product):
    """Ask for the admins' notice of `product`, just submitted (or submitted again) for review."""
    notify_admins_of_submission.dispatch(product.id, models.utcnow().isoformat(timespec="microseconds"))


# ---------------------------------------------------------------------------
# Orders and payments: a payment's webhook -> process_webhook, which fires
# PurchaseCompleted -> process_purchase; and the payment chain process_webhook ->
# generate_invoice -> send_invoice_email (invoice_chain: without generate_invoice when
# INVOICE_DELIVERY=link)
# ---------------------------------------------------------------------------

from shop.orders import fulfilment  # noqa: E402
from shop.orders import sale_notices  # noqa: E402
from shop.orders import orders  # noqa: E402
from shop.payments import gateways  # noqa: E402
from shop.payments.outcomes import Change  # noqa: E402
from shop.orders import invoices  # noqa: E402
from shop.orders import credit_notes  # noqa: E402
from shop.payments import testpay  # noqa: E402
from shop.payments import webhooks  # noqa: E402
from shop.events import OrderRefunded, PurchaseCompleted  # noqa: E402
from job_runtime import chain  # noqa: E402


from shop.payouts import connect as stripe_connect  # noqa: E402
from shop.payouts import stripe_payouts  # noqa: E402


@job(queue="high", tries=3, backoff=10, timeout=60, tags=event_tags)
def process_webhook(event_id):
    """Verify a stored gateway event with the gateway's API and update its order (or, for
    Stripe Connect's events, the seller's account or payout)."""
    try:
        return webhooks.process(event_id, stripe_payouts.EVENT_HANDLERS, after=_payout_consequences)
    except (*gateways.MISMATCH_ERRORS, stripe_connect.StripeRefused) as exc:
        # The gateway contradicts our order (amount, currency, order), or refuses the
        # request outright: no retry can fix that.
        raise Fail(str(exc)) from exc


def _payout_consequences(outcome):
    """What a payout's change asks for, in the transaction that marks its event processed.
    The seller's notices are keyed by the payout: an event told twice tells the seller once."""
    if outcome.change is Change.PAYOUT_PAID:
        notify_payout_sent.dispatch(outcome.payout_id)
        publish_after_commit("payout.paid", outcome.payout_id)
    elif outcome.change is Change.PAYOUT_RETURNED:
        notify_payout_returned.dispatch(outcome.payout_id)


@PurchaseCompleted.listen(**MAIL_RETRIES, timeout=120, tags=order_tags)
def process_purchase(order_id):
    """Fulfil a paid order: sales, ledger credits, links, counts, cart, confirmation email;
    then ask for each seller's notice of the sale."""
    try:
        return fulfilment.process_purchase(order_id)
    finally:
        # The endpoints hear of the sale once it is recorded; a retry asks again, and
        # publish_event makes nothing twice.
        publish_after_commit("order.paid", order_id)
        # Also when the receipt's email failed (the sales are recorded by then): the sellers'
        # notices do not wait for the buyer's. A little late (SALE_NOTICE_DELAY_SECONDS, less
        # than the five minutes it is unique for) and unique per seller, so a burst of sales
        # is one notice, and a retry of this job asks for nothing new.
        for seller_id in sale_notices.sellers_of(order_id):
            notify_seller_of_sales.s(seller_id).delay(config.SALE_NOTICE_DELAY_SECONDS).dispatch()


@job(**MAIL_RETRIES, timeout=60, unique_for=300, unique_key=lambda seller_id: seller_id)
def notify_seller_of_sales(seller_id):
    """Tell a seller of their sales since the last notice (in the app and by email), once."""
    sale_notices.notify(seller_id)


@periodic(crontab(minute="*/10"), queue="low", tries=2, timeout=300)
def close_ledger_totals():
    """Sum the ledger entries of the last ten minutes into the sellers' totals, so that the
    balances read the same few rows however long the ledger grows."""
    from shop.orders import ledger_totals

    closed = ledger_totals.close()
    log.info("closed %s ledger entries", closed)


@periodic(crontab(minute="41"), queue="low", tries=2, timeout=120)
def sweep_sale_notices():
    """Ask for the notices of sales made while an earlier notice was being sent."""
    for seller_id in sale_notices.sweep():
        notify_seller_of_sales.dispatch(seller_id)


def _never_paid(order_id):
    order = models.Order.get_or_none(models.Order.id == order_id)
    return order is None or (order.paid_at is None and order.status != "pending")


@job(tries=3, timeout=120, tags=order_tags)
def generate_invoice(order_id):
    """The order's PDF invoice under INVOICES_DIR (made once)."""
    try:
        invoices.generate(order_id)
    except invoices.InvoiceNotReady:
        if _never_paid(order_id):
            log.info("order %s was never paid: no invoice", order_id)
            return
        raise  # still pending: the payment may yet land, so the job is retried


@job(**MAIL_RETRIES, timeout=120, tags=order_tags)
def send_invoice_email(order_id):
    """Email the invoice to the buyer (once)."""
    try:
        invoices.send_invoice_email(order_id)
    except invoices.InvoiceNotReady:
        if _never_paid(order_id):
            return
        raise


@OrderRefunded.listen(**MAIL_RETRIES, timeout=60, tags=order_tags)
def send_refund_email(order_id):
    """Tell the customer their order was refunded (and the webhook endpoints that listen)."""
    publish_after_commit("order.refunded", order_id)
    fulfilment.send_refund_email(order_id)


@OrderRefunded.listen(**MAIL_RETRIES, timeout=120, tags=order_tags)
def issue_credit_note(order_id):
    """A refunded order's credit note, cancelling its invoice: issued, drawn and emailed once."""
    order = models.Order.get_by_id(order_id)
    if order.paid_at is None:
        log.info("order %s was refunded before it was paid: no invoice to credit", order_id)
        return
    note, _ = credit_notes.issue(order_id, reason=order.status_reason)
    credit_notes.send_credit_note_email(note.id)


@job(**MAIL_RETRIES, timeout=120, tags=order_tags)
def send_credit_note(credit_note_id):
    """Draw and email a credit note issued for a part of an order (once)."""
    credit_notes.send_credit_note_email(credit_note_id)


@job(tries=3, timeout=120)
def generate_credit_note(credit_note_id):
    """A credit note's PDF, drawn again once its buyer's account was deleted (made once)."""
    credit_notes.generate(credit_note_id)


def invoice_chain(order_id, first=None):
    """The paid order's invoice work, after `first` (the payment's verification) if given:
    generate_invoice -> send_invoice_email, the PDF drawn and attached; with
    INVOICE_DELIVERY=link, send_invoice_email alone, which numbers the invoice and mails its
    link (the PDF is drawn by generate_invoice when it is first asked for)."""
    steps = [first] if first is not None else []
    if config.INVOICE_DELIVERY != "link":
        steps.append(generate_invoice.s(order_id))
    steps.append(send_invoice_email.s(order_id))
    return chain(steps)


@job(queue="high", tries=3, backoff=10, timeout=60, unique_for=30, tags=order_tags)
def reconcile_order(order_id):
    """From the success page: ask the gateway about a still-pending order and settle it."""
    if gateways.reconcile(order_id).change is Change.PAID:
        invoice_chain(order_id).dispatch()


def complete_free_order(order):
    """A free order is paid the moment it is made, with no gateway: PurchaseCompleted fulfils
    it and its invoice is made and mailed, as for any paid order. Call inside the
    transaction that made the order, so it is never left pending."""
    if orders.complete_free(order):
        invoice_chain(order.id).dispatch()
    return f"/orders/{order.id}/success"


@job(queue="high", tries=3, backoff=[10, 60], timeout=60, tags=refund_tags)
def request_refund(refund_id):
    """Ask the order's gateway for the refund the admin requested."""
    gateways.perform_refund(refund_id)
    refund = models.Refund.get_by_id(refund_id)
    if refund.gateway == "test":
        deliver_test_event.dispatch(refund.order_id, "charge.refunded")


@request_refund.failed
def _refund_request_failed(exc, refund_id):
    gateways.refund_failed(refund_id, f"{type(exc).__name__}: {exc}")


@job(queue="high", tries=5, backoff=[2, 10, 30, 60], timeout=30, tags=order_tags)
def deliver_test_event(order_id, event_type):
    """The test gateway's webhook delivery: a signed event POSTed to our own /webhooks/test."""
    testpay.send_event(order_id, event_type)


@deliver_test_event.failed
def _test_event_undelivered(exc, order_id, event_type):
    testpay.delivery_failed(order_id, event_type, f"{type(exc).__name__}: {exc}")


def dispatch_webhook(received):
    """Start the work for a newly stored event; call inside the transaction that stored it.

    An event that reports a payment starts the payment chain (process_webhook ->
    generate_invoice -> send_invoice_email, invoice_chain), so the invoice is made and mailed
    once the payment is verified; any other event starts
    process_webhook alone.
    """
    event = received.event
    if event is None:
        return None
    if received.claims_payment:
        return invoice_chain(event.order_id, first=process_webhook.s(event.id)).dispatch()
    return process_webhook.dispatch(event.id)


# ---------------------------------------------------------------------------
# Payouts: the seller's notice of a payout, keyed by the payout
# ---------------------------------------------------------------------------

from shop.payouts import notices as payout_notices  # noqa: E402


def payout_tags(payout_id):
    return [f"payout:{payout_id}"]


@job(tries=3, backoff=[30, 120], timeout=60, tags=payout_tags)
def notify_payout_sent(payout_id):
    """PayoutSent: the seller's notification and email; a retry sends only what is missing."""
    payout_notices.payout_sent(payout_id)


@job(tries=3, backoff=[30, 120], timeout=60, tags=payout_tags)
def notify_payout_returned(payout_id):
    """A Stripe payout came back: the seller's notification and email, once."""
    payout_notices.payout_returned(payout_id)


def payout_schedule(moment):
    """PAYOUT_SCHEDULE read when the scheduler asks, so that it follows the settings of the
    consumer that runs it (this module is imported before any settings are loaded)."""
    minute, hour, day, month, day_of_week = config.PAYOUT_SCHEDULE.split()
    return crontab(minute=minute, hour=hour, day=day, month=month, day_of_week=day_of_week)(moment)


@periodic(payout_schedule, queue="low", tries=2, timeout=300)
def pay_connected_sellers():
    """Book each connected seller's available balance above PAYOUT_MINIMUM as a payout, and send it."""
    booked = 0
    for seller_id, currency in stripe_payouts.due():
        # The payout, its debit and its transfer job in one transaction: no transfer
        # without its debit, no debit without the job that sends it.
        with models.db.atomic():
            result = stripe_payouts.book_payout(seller_id, currency)
            if result is not None and result[1]:
                send_stripe_payout.dispatch(result[0].id)
                booked += 1
    log.info("booked %d Stripe payout(s)", booked)
    return booked


# Stripe answering 5xx, or not at all, for a while: the transfer is asked again with the
# same idempotency key for about half an hour, and Stripe pays it once.
@job(tries=6, backoff=[10, 30, 60, 300, 900], timeout=60, tags=payout_tags)
def send_stripe_payout(payout_id):
    """Transfer a booked payout to the seller's connected account and pay it out to their bank."""
    try:
        return stripe_payouts.send(payout_id)
    except stripe_connect.StripeRefused as exc:
        raise Fail(str(exc)) from exc


@send_stripe_payout.failed
def _stripe_payout_failed(exc, payout_id):
    """Refused by Stripe before any money moved: the amount goes back to the seller, who is
    told in the same transaction. Anything else (Stripe unreachable for the whole half
    hour, a bank payout refused after the transfer) waits for resend_stuck_stripe_payouts,
    and the admins are told now."""
    with models.db.atomic():
        if isinstance(exc, Fail) and stripe_payouts.refused(payout_id, str(exc)):
            notify_payout_returned.dispatch(payout_id)
            return
    runtime.notify_admins(f"stripe-payout-stuck:{payout_id}", f"[{config.APP_NAME}] Stripe payout {payout_id} is stuck",
                          f"Payout {payout_id} could not be completed through Stripe ({exc}). Its amount stays "
                          "debited from the seller's balance. It is tried again every hour; see the failed jobs "
                          f"at {config.APP_URL}/admin/queue/failed.")


@periodic(crontab(minute="23"), queue="low", tries=2, timeout=300)
def resend_stuck_stripe_payouts():
    """Ask again for the Stripe payouts booked over an hour ago and not yet paid out to the bank.
    Their idempotency keys make Stripe act once however often they are asked."""
    stuck = stripe_payouts.stuck()
    for payout_id in stuck:
        send_stripe_payout.dispatch(payout_id)
    return len(stuck)


# ---------------------------------------------------------------------------
# Outgoing webhooks: an event the shop decided -> publish_event -> one deliver_webhook
# per listening endpoint, retried for about a day
# ---------------------------------------------------------------------------

from shop.webhooks_out import delivery as webhook_delivery  # noqa: E402
from shop.webhooks_out import endpoints as webhook_endpoints  # noqa: E402
from shop.webhooks_out import events as webhook_events  # noqa: E402
from shop.webhooks_out import notices as webhook_notices  # noqa: E402

# A receiver may be down for hours: a delivery is tried again after 30 s, 2, 5, 15 and
# 30 minutes and then hourly, until a day after it was dispatched.
WEBHOOK_RETRIES = {"tries": 100, "backoff": [30, 120, 300, 900, 1800, 3600], "retry_until": 86400}


def delivery_tags(delivery_id):
    endpoint_id = (models.WebhookDelivery.select(models.WebhookDelivery.endpoint)
                   .where(models.WebhookDelivery.id == delivery_id).scalar())
    return [f"webhook-delivery:{delivery_id}", f"webhook-endpoint:{endpoint_id}" if endpoint_id else None]


@job(tries=3, backoff=[10, 60], timeout=60)
def publish_event(event_type, subject_id):
    """Store the event for each audience with a listening endpoint, and start each delivery (once)."""
    with models.db.atomic():
        for delivery_id in webhook_events.publish(event_type, subject_id):
            deliver_webhook.dispatch(delivery_id)


def publish_after_commit(event_type, subject_id):
    """Ask for the webhooks of an event; call inside the transaction that decided it. No
    job at all while no endpoint listens for the type, which is most shops most of the time."""
    if webhook_endpoints.anyone_listens(event_type):
        publish_event.dispatch(event_type, subject_id)


@job(**WEBHOOK_RETRIES, timeout=60, tags=delivery_tags)
def deliver_webhook(delivery_id):
    """POST one signed event to one endpoint; retried while the receiver fails."""
    webhook_delivery.deliver(delivery_id, on_disabled=notify_webhook_disabled.dispatch)


@deliver_webhook.failed
def _webhook_given_up(exc, delivery_id):
    webhook_delivery.gave_up(delivery_id)


@job(**MAIL_RETRIES, timeout=60)
def notify_webhook_disabled(endpoint_id):
    """Tell the owner their endpoint was disabled after failing for days (once per disabling)."""
    webhook_notices.endpoint_disabled(endpoint_id)


# ---------------------------------------------------------------------------
# Start-up of a process that runs or dispatches jobs
# ---------------------------------------------------------------------------

_started = False


def start():
    """Check the settings and prepare DATA_DIR, set up logging (shop/logs.py), point the
    job runtime at the shop's database and queue, and load the jobs of the modules JOB_MODULES names; once per
    process. A bad setting stops the process with one line. Returns the Huey instance."""
    global _started
    if not _started:
        config.start_or_exit()
        logs.setup_logging(config.LOG_LEVEL)
        setup_job_runtime()
        _started = True
        for module in config.JOB_MODULES:
            importlib.import_module(module)
    return job_runtime.huey


def __getattr__(name):
    # `huey_consumer tasks.huey` asks for the Huey instance before anything else:
    # that is the consumer process starting.
    if name == "huey":
        return start()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
