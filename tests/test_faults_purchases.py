"""Faults injected while purchases flow through real processes; each test ends with the books checked.

Every purchase takes the real path: a signed Stripe `checkout.session.completed`
posted to /webhooks/stripe, then in real `huey_consumer` processes
process_webhook (asking the local Stripe API), PurchaseCompleted ->
process_purchase (sales, ledger, download links, confirmation email), and the
chain's generate_invoice -> send_invoice_email. Only the orders themselves are
written in bulk, as checkouts would have left them, to save time.

THE BOOKS, checked at the end of every test:
- every order paid and fulfilled exactly once: one sale, one ledger credit and one
  download link per order item, each product's sales count raised once per sale;
- every seller's ledger sums exactly to their share of the paid orders;
- one invoice per order, numbered without gaps, its PDF written;
- every email (confirmation and invoice) delivered, and delivered once unless a
  consumer was killed; a resend after a kill carries the first delivery's
  Message-ID (the mail folder keeps every delivery, so a resend is seen);
- every job record completed, nothing in the failed-job store, every webhook processed.

The figures each test prints (run with -s) are in RELIABILITY.md; timings are
printed, never asserted.
"""

import random
import shutil
import signal
import subprocess
import threading
import time
import uuid
from collections import Counter
from email.parser import BytesHeaderParser

import pytest

from shop import config
from shop import security
from job_runtime.models import FailedJob, JobRecord
from models import (DownloadLink, Invoice, LedgerEntry, Notification, Order, OrderItem, OutboundMail, Product,
                    TransactionItem, User, WebhookEvent, db, utcnow)
from shop.money import split_sale
from tests.conftest import CI, PASSWORD, TEST_DATABASE, TEST_QUEUE, free_port, marks_its_tests, port_open, wait_for
from tests.shop_fixtures import make_product, post_stripe_event, session_event

pytestmark = [pytest.mark.consumer, pytest.mark.slow]


def report(name, **figures):
    """One line of figures for RELIABILITY.md (visible with -s)."""
    legs = f"{TEST_DATABASE} database, {TEST_QUEUE} queue"
    print(f"\n[{name}] {legs}: " + ", ".join(f"{k}={v}" for k, v in figures.items()))


# ---------------------------------------------------------------------------
# A shop with many pending orders, and the webhooks that pay them
# ---------------------------------------------------------------------------


class Shop:
    """`count` pending Stripe orders of 2 or 3 items, written in bulk, and what paying them must produce.

    The items of an order name their products in no particular id order, as
    customers fill carts, so concurrent purchases touch the same product rows
    in different orders.
    """

    def __init__(self, count, sellers=3, products=12, customers=40):
        password = security.hash_password(PASSWORD)
        tag = uuid.uuid4().hex[:6]
        with db.atomic():
            User.insert_many([{"email": f"{role}{i}-{tag}@example.com", "name": f"{role.title()} {i}",
                               "role": role, "password_hash": password}
                              for role, n in (("seller", sellers), ("customer", customers)) for i in range(n)]).execute()
        self.sellers = list(User.select().where(User.role == "seller").order_by(User.id))
        self.customers = list(User.select().where(User.role == "customer").order_by(User.id))
        self.products = [make_product(self.sellers[i % sellers], f"Product {i}", price=500 + (i * 379) % 4500)
                         for i in range(products)]
        self.orders = []  # (order id, session id, total)
        self.items = []  # (order id, product, price)
        with db.atomic():
            for i in range(count):
                picks = [(i * 5) % products, (i * 5 + 7) % products] + ([(i * 5 + 3) % products] if i % 3 == 0 else [])
                chosen = [self.products[p] for p in picks]
                total = sum(p.price for p in chosen)
                session_id = f"cs_test_{uuid.uuid4().hex[:24]}"
                order = Order.create(reference=f"MP-{uuid.uuid4().hex[:10].upper()}", gateway="stripe",
                                     buyer=self.customers[i % customers], gateway_ref=session_id, total=total,
                                     currency="USD")
                OrderItem.insert_many([{"order": order.id, "product": p.id, "seller": p.seller_id, "title": p.title,
                                        "price": p.price, "currency": "USD"} for p in chosen]).execute()
                self.orders.append((order.id, session_id, total))
                self.items += [(order.id, p, p.price) for p in chosen]
        self.order_ids = [o[0] for o in self.orders]

    def webhook_events(self, stripe_api):
        """One signed-to-be `checkout.session.completed` per order, its session paid in the Stripe API."""
        events = []
        for order_id, session_id, total in self.orders:
            session = stripe_api.paid_session(order_id, total, session_id=session_id)
            events.append(session_event("checkout_session_completed", Order(id=order_id), session))
        return events

    # -- what paying every order must produce ---------------------------------

    def expected_shares(self):
        shares = Counter()
        for _, product, price in self.items:
            shares[product.seller_id] += split_sale(price, config.COMMISSION_PERCENT)[1]
        return shares

    def expected_sales(self):
        return Counter(product.id for _, product, _ in self.items)


def post_webhooks(events, delay=0.0):
    """POST each event to /webhooks/stripe through the WSGI app (as its own thread: a web server
    beside the consumers); returns the answers' status codes."""
    from webtest import TestApp

    import marketplace

    client = TestApp(marketplace.app, extra_environ={"REMOTE_ADDR": "127.0.0.1"})
    statuses = []
    try:
        for event in events:
            statuses.append(post_stripe_event(client, event).status_int)
            if delay:
                time.sleep(delay)
    finally:
        if not db.is_closed():
            db.close()
    return statuses


class Poster(threading.Thread):
    """post_webhooks in a thread of its own, so the test can inject its fault meanwhile."""

    def __init__(self, events, delay=0.0):
        super().__init__(daemon=True)
        self.events, self.delay, self.statuses, self.error = events, delay, [], None

    def run(self):
        try:
            self.statuses = post_webhooks(self.events, self.delay)
        except BaseException as exc:  # noqa: BLE001  (reported by the test)
            self.error = exc

    def finish(self, timeout=300):
        self.join(timeout)
        assert not self.is_alive(), "the webhooks were still being posted"
        assert self.error is None, self.error
        assert Counter(self.statuses) == {200: len(self.events)}, Counter(self.statuses)


# ---------------------------------------------------------------------------
# The books
# ---------------------------------------------------------------------------


def delivery(content):
    """(Subject, Message-ID) of one delivered message (headers only: the PDFs are large)."""
    headers = BytesHeaderParser().parsebytes(content)
    return headers["Subject"], headers["Message-ID"]


def file_mail_deliveries():
    """(Subject, Message-ID) of every delivery the file mailer made: one file each, never overwritten."""
    folder = config.MAIL_DIR
    return [delivery(path.read_bytes()) for path in sorted(folder.glob("*.eml"))] if folder.exists() else []


def purchase_mails():
    """The buyers' emails (receipts and invoices), not the sellers' notices of their sales."""
    return OutboundMail.select().where(~OutboundMail.key.startswith("sales:"))


def emails_done(shop):
    return purchase_mails().where(OutboundMail.sent_at.is_null(False)).count() >= 2 * len(shop.orders)


def jobs_settled():
    return JobRecord.select().where(JobRecord.state.not_in(["completed", "failed"])).count() == 0


def wait_for_books(shop, timeout=600):
    wait_for(lambda: emails_done(shop) or FailedJob.select().exists(), timeout=timeout, interval=0.5,
             message="every purchase's emails")
    wait_for(jobs_settled, timeout=120, interval=0.2, message="every job record to settle")


def check_books(shop, delivered, killed=False):
    """THE BOOKS. `delivered`: (Subject, Message-ID) of every delivery to the mail server or folder.

    Every email is delivered once; where a consumer was `killed`, at least once,
    every resend with the Message-ID of the first. Returns the number of resends.
    """
    ids = shop.order_ids
    failed = [(f.name, f.exception_class, f.message) for f in FailedJob.select()]
    assert not failed, failed
    assert Counter(r.state for r in JobRecord.select(JobRecord.state)) == {"completed": JobRecord.select().count()}
    events = list(WebhookEvent.select())
    assert len(events) == len(ids) and all(e.processed_at is not None for e in events)

    orders = {o.id: o for o in Order.select().where(Order.id.in_(ids))}
    assert Counter(o.status for o in orders.values()) == {"paid": len(ids)}
    items = {i.id: i for i in OrderItem.select().where(OrderItem.order.in_(ids))}
    assert len(items) == len(shop.items)
    # One sale, one ledger credit and one download link per item: none missing, none twice.
    for model, column in ((TransactionItem, TransactionItem.order_item), (DownloadLink, DownloadLink.order_item),
                          (LedgerEntry, LedgerEntry.order_item)):
        counts = Counter(row[0] for row in model.select(column).tuples())
        assert set(counts) == set(items), f"{model.__name__}: {len(set(items) - set(counts))} missing"
        assert set(counts.values()) == {1}, f"{model.__name__}: {sum(n > 1 for n in counts.values())} twice"
    # Every seller's ledger sums exactly to their share of the paid orders.
    assert {e.kind for e in LedgerEntry.select(LedgerEntry.kind)} == {"sale"}
    ledger = Counter()
    for seller_id, amount in LedgerEntry.select(LedgerEntry.seller, LedgerEntry.amount).tuples():
        ledger[seller_id] += amount
    assert ledger == shop.expected_shares()
    assert {p.id: p.download_count for p in Product.select()} == dict(shop.expected_sales())
    # One invoice per order, numbered 1..N without a gap, its PDF on disk.
    invoices = list(Invoice.select())
    assert sorted(i.order_id for i in invoices) == sorted(ids)
    assert sorted(i.number for i in invoices) == list(range(1, len(ids) + 1))
    assert all(i.pdf_path and (config.INVOICES_DIR / i.pdf_path).is_file() for i in invoices)
    # Every email once: one record per key, sent, and one delivery per message.
    keys = Counter(m.key for m in purchase_mails())
    expected_keys = {f"purchase-confirmation:{i}" for i in ids} | {f"invoice:{i}" for i in ids}
    assert set(keys) == expected_keys and set(keys.values()) == {1}
    assert not purchase_mails().where(OutboundMail.sent_at.is_null()).exists()
    # The sellers' notices of their sales tell no sale twice, however often their jobs ran.
    told = [sale_id for notice in Notification.select().where(Notification.type == "sales")
            for sale_id in notice.data["sale_ids"]]
    assert len(told) == len(set(told)) and set(told) <= {i for (i,) in TransactionItem.select(TransactionItem.id).tuples()}
    notice_subjects = {m.subject for m in OutboundMail.select().where(OutboundMail.key.startswith("sales:"))}
    subjects = Counter(subject for subject, _ in delivered if subject not in notice_subjects)
    expected_subjects = {f"Your order {o.reference} is ready to download" for o in orders.values()}
    expected_subjects |= {f"Invoice {i.label} for order {orders[i.order_id].reference}" for i in invoices}
    assert set(subjects) == expected_subjects, f"{len(expected_subjects - set(subjects))} never delivered"
    # A resend is the same message: one Message-ID per subject, the one its key gives.
    message_ids = {subject: {message_id for s, message_id in delivered if s == subject} for subject in subjects}
    assert all(len(ids_) == 1 for ids_ in message_ids.values()), "a resend with another Message-ID"
    resends = sum(subjects.values()) - len(subjects)
    if not killed:
        assert resends == 0, f"{sum(n > 1 for n in subjects.values())} delivered twice"
    return resends


def rerun_figures():
    """How many jobs ran more than once (a killed attempt, a retry) - with no double effect."""
    records = list(JobRecord.select(JobRecord.name, JobRecord.attempts, JobRecord.lost, JobRecord.exceptions))
    return {"jobs": len(records),
            "jobs_run_more_than_once": sum(r.attempts > 1 for r in records),
            "attempts_taken_back_by_sweeper": sum(r.lost for r in records),
            "attempts_that_raised": sum(r.exceptions for r in records),
            "mails_tried_more_than_once": OutboundMail.select().where(OutboundMail.attempts > 1).count()}


# ---------------------------------------------------------------------------
# 1. SIGKILL, again and again, during a burst of 1,000 purchases
# ---------------------------------------------------------------------------


def test_a_consumer_killed_again_and_again_during_a_burst_of_1000_purchases(consumer, stripe_api, app_env):
    shop = Shop(1000)
    events = shop.webhook_events(stripe_api)
    rng = random.Random(1128)
    process = consumer(workers=4)
    started = time.monotonic()
    poster = Poster(events)
    poster.start()
    kills, restarts, processes = 0, [], [process]
    for _ in range(8):
        time.sleep(rng.uniform(1.0, 2.0))
        process.kill()
        kills += 1
        killed_at = time.monotonic()
        process = consumer(workers=4)
        processes.append(process)
        restarts.append(time.monotonic() - killed_at)
    last_kill = time.monotonic()
    poster.finish()
    posted = time.monotonic() - started
    wait_for_books(shop)
    done = time.monotonic()
    resends = check_books(shop, file_mail_deliveries(), killed=True)
    logs = "".join(p.output() for p in processes)
    report("sigkill", purchases=len(shop.orders), kills=kills, emails_sent_again_after_a_kill=resends,
           restart_s=f"{min(restarts):.1f}-{max(restarts):.1f}", webhooks_posted_s=f"{posted:.1f}",
           last_kill_to_books_balanced_s=f"{done - last_kill:.1f}", total_s=f"{done - started:.1f}",
           tracebacks_in_logs=logs.count("Traceback"), **rerun_figures())
    assert "BrokenPipeError" not in logs  # killable's children leave quietly with their consumer


def log_count(processes, text):
    return sum(p.output().count(text) for p in processes)


def orders_linked(shop):
    """How many of the shop's orders have their download links (process_purchase committed)."""
    items = OrderItem.select(OrderItem.order).join(DownloadLink, on=(DownloadLink.order_item == OrderItem.id))
    return len({row[0] for row in items.tuples()})


# ---------------------------------------------------------------------------
# 2. The Redis queue restarted without persistence in the middle of a burst
# ---------------------------------------------------------------------------


class RedisServer:
    """A redis-server of the test's own, without persistence: stopping it loses every message."""

    def __init__(self, port, log_path):
        self.port, self.log_path = port, log_path
        self.process = None

    def start(self):
        self.log = open(self.log_path, "ab")
        self.process = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                                         "--save", "", "--appendonly", "no"], stdout=self.log,
                                        stderr=subprocess.STDOUT)
        wait_for(lambda: port_open("127.0.0.1", self.port) or self.process.poll() is not None,
                 message="redis-server to listen")
        assert self.process.poll() is None, self.log_path.read_text()

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)  # a crash: nothing written, nothing kept
            self.process.wait(10)
            self.log.close()


@pytest.fixture
@marks_its_tests("consumer")
def own_redis(app_env, tmp_path):
    """A private Redis as the queue, whatever the leg: the test restarts it."""
    if shutil.which("redis-server") is None:
        if CI:
            pytest.fail("redis-server is not installed (CI=true requires it)")
        pytest.skip("redis-server is not installed")
    server = RedisServer(free_port(), tmp_path / "redis.log")
    server.start()
    app_env.reload(QUEUE_CONNECTION="redis", REDIS_URL=f"redis://127.0.0.1:{server.port}/0")
    yield server
    server.stop()


def test_a_redis_restarted_without_persistence_mid_burst_loses_no_purchase(consumer, stripe_api, own_redis):
    import job_runtime

    shop = Shop(200)
    events = shop.webhook_events(stripe_api)
    processes = [consumer(workers=4)]
    started = time.monotonic()
    poster = Poster(events, delay=0.01)
    poster.start()
    wait_for(lambda: orders_linked(shop) >= 40, timeout=120, message="the burst to be under way")
    queued = job_runtime.huey.pending_count()
    own_redis.stop()
    stopped_at = time.monotonic()
    linked_at_stop = orders_linked(shop)
    time.sleep(3)  # down: the web keeps storing webhooks, the consumer cannot read its queue
    own_redis.start()
    restarted_at = time.monotonic()
    poster.finish()
    wait_for_books(shop)
    done = time.monotonic()
    check_books(shop, file_mail_deliveries())
    rung = sum(int(line.split("rang ")[1].split()[0]) for p in processes for line in p.output().splitlines()
               if "whose message was missing from the queue" in line)
    report("redis-restart", purchases=len(shop.orders), orders_done_at_stop=linked_at_stop,
           doorbells_on_redis_at_stop=queued, down_s=f"{restarted_at - stopped_at:.1f}",
           doorbells_rung_again_by_sweeper=rung, restart_to_books_balanced_s=f"{done - restarted_at:.1f}",
           total_s=f"{done - started:.1f}", **rerun_figures())
    assert rung > 0  # the restart did lose messages, and the sweeper replaced them


# ---------------------------------------------------------------------------
# 3. The mail server down for a while, then back
# ---------------------------------------------------------------------------


class Inbox:
    """An aiosmtpd handler that keeps (Subject, Message-ID) of every message it accepts."""

    def __init__(self):
        self.deliveries = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.deliveries.append(delivery(envelope.content))
        return "250 OK"


def test_a_mail_server_down_for_a_while_sends_every_email_once_when_back(consumer, stripe_api, app_env):
    from aiosmtpd.controller import Controller

    port = free_port()
    app_env.reload(MAIL_MAILER="smtp", MAIL_HOST="127.0.0.1", MAIL_PORT=port, MAIL_TIMEOUT=5)
    inbox = Inbox()
    server = Controller(inbox, hostname="127.0.0.1", port=port)
    server.start()
    shop = Shop(200)
    events = shop.webhook_events(stripe_api)
    processes = [consumer(workers=4)]
    started = time.monotonic()
    poster = Poster(events, delay=0.02)
    poster.start()
    wait_for(lambda: len(inbox.deliveries) >= 40, timeout=120, message="the first emails")
    server.stop()
    down_at = time.monotonic()
    delivered_before = len(inbox.deliveries)
    time.sleep(6)
    server = Controller(inbox, hostname="127.0.0.1", port=port)  # back, on the same port
    server.start()
    back_at = time.monotonic()
    try:
        poster.finish()
        wait_for_books(shop)
        done = time.monotonic()
    finally:
        server.stop()
    check_books(shop, inbox.deliveries)
    refused = OutboundMail.select().where(OutboundMail.attempts > 1)
    report("smtp-down", purchases=len(shop.orders), emails=len(inbox.deliveries),
           delivered_before_outage=delivered_before, down_s=f"{back_at - down_at:.1f}",
           emails_that_waited_for_the_server=refused.count(),
           most_attempts_of_one_email=max([m.attempts for m in refused] or [1]),
           back_to_books_balanced_s=f"{done - back_at:.1f}", total_s=f"{done - started:.1f}", **rerun_figures())
    # The outage was felt, and the jobs waited through their backoff rather than failing.
    assert refused.count() > 0 and log_count(processes, "MailError") > 0


# ---------------------------------------------------------------------------
# 4. The database locked for longer than a job's first attempt
# ---------------------------------------------------------------------------


def _posted_and_under_way(shop, stripe_api, consumer, env=None):
    """Post every webhook (all answered before the fault), then start a consumer and let the
    first purchases through: the rest of the backlog meets the fault."""
    poster = Poster(shop.webhook_events(stripe_api))
    poster.start()
    poster.finish()
    processes = [consumer(workers=4, env=env)]
    wait_for(lambda: orders_linked(shop) >= 10, timeout=120, message="the first purchases")
    return processes


def test_a_database_locked_past_the_first_attempt_loses_no_purchase(consumer, stripe_api, app_env):
    shop = Shop(120)
    if TEST_DATABASE == "postgres":
        import psycopg

        # The consumers' lock waits give up after 2 s, as a DBA's lock_timeout makes them,
        # so the lock below outlasts the first attempt of every process_purchase that meets it.
        name = config.DATABASE_URL.rsplit("/", 1)[1]
        with psycopg.connect(config.DATABASE_URL, autocommit=True) as admin:
            admin.execute(f'ALTER DATABASE "{name}" SET lock_timeout = \'2s\'')
        try:
            processes = _posted_and_under_way(shop, stripe_api, consumer)
        finally:
            with psycopg.connect(config.DATABASE_URL, autocommit=True) as admin:
                admin.execute(f'ALTER DATABASE "{name}" RESET lock_timeout')
        blocker = psycopg.connect(config.DATABASE_URL)
        blocker.execute('LOCK TABLE "transaction_item" IN ACCESS EXCLUSIVE MODE')
        held, expected = 8, "lock timeout"
    else:
        import sqlite3

        processes = _posted_and_under_way(shop, stripe_api, consumer)
        blocker = sqlite3.connect(config.DATABASE_URL.removeprefix("sqlite:///"), timeout=30, isolation_level=None)
        blocker.execute("BEGIN EXCLUSIVE")  # no other writer until the commit
        held, expected = 20, "database is locked"  # longer than the 15 s busy timeout of every write
    started = time.monotonic()
    linked_at_lock = orders_linked(shop)
    time.sleep(held)
    linked_at_release = orders_linked(shop)
    blocker.commit() if TEST_DATABASE == "postgres" else blocker.execute("COMMIT")
    blocker.close()
    released = time.monotonic()
    wait_for_books(shop)
    done = time.monotonic()
    check_books(shop, file_mail_deliveries())
    figures = rerun_figures()
    report("database-locked", purchases=len(shop.orders), orders_done_before_lock=linked_at_lock,
           orders_done_at_release=linked_at_release, lock_held_s=held,
           attempts_that_raised_on_the_lock=log_count(processes, expected),
           release_to_books_balanced_s=f"{done - released:.1f}", total_s=f"{done - started:.1f}", **figures)
    # The fault was felt: the lock held up the purchases, and some first attempts did not survive it
    # (they raised, or their worker's heartbeat went stale and the sweeper took the job back).
    assert linked_at_release < len(shop.orders) and figures["jobs_run_more_than_once"] > 0


# ---------------------------------------------------------------------------
# 5. Jobs hung past their timeout under thread workers, beside a burst
# ---------------------------------------------------------------------------


def test_jobs_hung_past_their_timeout_do_not_hold_up_a_burst(consumer, stripe_api, app_env):
    from tests.sample_jobs import block, spin

    shop = Shop(120)
    events = shop.webhook_events(stripe_api)
    processes = [consumer(workers=4, args=["-k", "thread", "-c", "1"])]
    started = time.monotonic()
    # A thread blocked in C cannot be interrupted: its worker slot goes to a fresh thread at
    # once, and its attempt is recorded (and retried) only when the call returns, so that
    # two attempts never overlap. Its call ends after 8 s; Python loops stop at their timeout.
    hung = [spin.dispatch("hung-in-python", 600), block.dispatch("hung-in-c", 8),
            spin.dispatch("hung-in-python-2", 600)]
    poster = Poster(events, delay=0.01)
    poster.start()
    poster.finish()
    wait_for(lambda: emails_done(shop), timeout=300, interval=0.5, message="every purchase's emails")
    purchases_done = time.monotonic()
    wait_for(lambda: FailedJob.select().count() == len(hung), timeout=60, message="the hung jobs to be given up")
    # The admins' alert about the hung jobs waits a minute to gather failures; it is not part of the books.
    alert = JobRecord.select().where(JobRecord.name == "alert_admins_of_failures")
    assert alert.count() == 1
    JobRecord.delete().where(JobRecord.name == "alert_admins_of_failures").execute()
    wait_for(jobs_settled, timeout=60, message="every job record to settle")
    done = time.monotonic()
    failed = {f.uuid: f for f in FailedJob.select()}
    assert set(failed) == set(hung) and {f.exception_class for f in failed.values()} == {"JobTimeout"}
    FailedJob.delete().execute()  # the hung jobs failed as they should; the purchases must not have
    JobRecord.delete().where(JobRecord.uuid.in_(hung)).execute()
    check_books(shop, file_mail_deliveries())
    report("hung-jobs", purchases=len(shop.orders), hung_jobs=len(hung), hung_attempts_stopped=2 * len(hung),
           purchases_done_s=f"{purchases_done - started:.1f}", total_s=f"{done - started:.1f}",
           **rerun_figures())


# ---------------------------------------------------------------------------
# 6. Two consumers racing for the same purchases
# ---------------------------------------------------------------------------


def test_two_consumers_racing_for_the_same_purchases_fulfil_each_once(consumer, stripe_api, app_env):
    shop = Shop(200)
    events = shop.webhook_events(stripe_api)
    processes = [consumer(workers=4, env={"QUEUE_HOSTNAME": "host-a"}),
                 consumer(workers=4, env={"QUEUE_HOSTNAME": "host-b"})]
    started = time.monotonic()
    poster = Poster(events)
    poster.start()
    poster.finish()
    wait_for_books(shop)
    done = time.monotonic()
    check_books(shop, file_mail_deliveries())
    hosts = Counter(r.reserved_by.split(":")[0] for r in JobRecord.select(JobRecord.reserved_by))
    report("two-consumers", purchases=len(shop.orders), jobs_by_host=dict(sorted(hosts.items())),
           deadlocks=log_count(processes, "deadlock detected"), total_s=f"{done - started:.1f}", **rerun_figures())
    assert set(hosts) == {"host-a", "host-b"}  # both took part
    # Purchases of the same products lock their rows in one order: no deadlock to retry.
    assert log_count(processes, "deadlock detected") == 0


# ---------------------------------------------------------------------------
# 7. SIGKILL during invoice emails: how often a killed send sends again
# ---------------------------------------------------------------------------


def test_a_consumer_killed_while_sending_invoices_resends_rarely_and_with_the_same_message_id(
        consumer, stripe_api, app_env):
    shop = Shop(80)
    poster = Poster(shop.webhook_events(stripe_api))
    poster.start()
    poster.finish()
    rng = random.Random(1411)
    process = consumer(workers=4)
    processes, kills, started_at = [process], 0, utcnow()
    deadline = time.monotonic() + 240
    while kills < 25 and time.monotonic() < deadline:
        # Only an attempt of the consumer now running: the killed one's records stay
        # "running" until the sweeper takes them back.
        sending = JobRecord.select().where((JobRecord.name == "send_invoice_email") & (JobRecord.state == "running")
                                           & (JobRecord.reserved_at >= started_at))
        if not sending.exists():
            if emails_done(shop):
                break
            time.sleep(0.002)
            continue
        time.sleep(rng.uniform(0, 0.02))  # somewhere in the attempt: the PDF read, the delivery, the record
        process.kill()
        kills += 1
        started_at = utcnow()
        process = consumer(workers=4)
        processes.append(process)
    wait_for_books(shop)
    resends = check_books(shop, file_mail_deliveries(), killed=True)
    invoice_jobs = JobRecord.select().where(JobRecord.name == "send_invoice_email")
    killed_sends = invoice_jobs.where(JobRecord.lost > 0).count()
    invoice_resends = sum(n - 1 for n in Counter(
        subject for subject, _ in file_mail_deliveries() if subject.startswith("Invoice ")).values())
    report("sigkill-while-mailing", purchases=len(shop.orders), kills=kills,
           send_invoice_email_attempts_killed=killed_sends, invoices_sent_again=invoice_resends,
           emails_sent_again=resends, **rerun_figures())
    assert kills >= 10 and killed_sends >= 5  # the kills did land in invoice emails
