"""The shop as its users meet it: journeys in chromium against a real shop.

One shop serves the module: gunicorn (as `marketplace serve` runs it) and a real
`huey_consumer tasks.huey`, on a free loopback port with a data folder of their own.
The journeys are one story and run in order, each starting where the last one ended:

1. Sam registers as a seller and uploads a product with a file and a cover; it is
   pending, and its thumbnail appears once the job has run.
2. The admin approves it and rejects another; Sam sees the unread count, both
   notifications, and the reason.
3. Casey finds it by search, buys it with a product of Priya's through the test-mode
   payment page, watches "processing" turn into download links without a reload,
   downloads both files (the bytes Sam uploaded) and the invoice PDF.
4. Downloads beyond the limit, after expiry and by another customer are refused.
5. The sellers see their balances; the admin refunds the order through the gateway's
   signed refund event, and the links stop working.
6. The admin watches the queue dashboard's numbers move during a burst of jobs and
   retries a failed job from the page.
7. Every page, at a phone's width, has no sideways scrolling and labelled fields.

A journey whose predecessor failed is skipped with the reason, rather than failing
for someone else's fault.
"""

import datetime
import shutil
import subprocess
import threading
import time

import pytest

from shop.operations import demo_files
from job_runtime.models import FailedJob, JobRecord
from models import DownloadLink, Order, OrderItem, Product, User, db, utcnow
from tests.browser import (
    DESKTOP,
    PHONE,
    no_horizontal_scroll,
    overflowing_elements,
    read_download,
    shop_environment,
    unlabelled_fields,
    wait_until_page_shows,
)
from tests.conftest import PASSWORD, wait_for
from tests.sample_jobs import effect_done, fail_first, slow_effect
from tests.shop_fixtures import make_product

pytestmark = [pytest.mark.browser, pytest.mark.consumer, pytest.mark.slow]

# A small download limit keeps journey 4 short; the rest are the shop's defaults.
SHOP_SETTINGS = {"DOWNLOAD_LIMIT": 3, "COMMISSION_PERCENT": 10}



@pytest.fixture
def app_env(shop):
    """The journeys look at the module's shop, not at a database of each test's own."""
    yield from shop_environment(shop)


SAM_EMAIL = "sam.journeys@example.com"
DRUMS = "Lo-fi Drum Loops"
STOCK = "Stock Photo Mega Bundle"
EBOOK = "Night Photography Field Guide"
REJECTION = "The preview photos belong to other photographers. Upload only work you own."

story = {}


def continues(*journeys):
    """Skip unless the journeys this one continues have finished."""
    missing = [name for name in journeys if name not in story.setdefault("done", set())]
    if missing:
        pytest.skip(f"continues {', '.join(missing)}, which did not finish")


def finished(journey):
    story.setdefault("done", set()).add(journey)


# ---------------------------------------------------------------------------
# 1. A seller signs up and uploads a product
# ---------------------------------------------------------------------------


def test_journey_1_a_seller_signs_up_and_uploads_a_product(visit, shop):
    sam = visit()
    sam.go("/")
    sam.follow("footer >> text=Sell with us")
    assert sam.page.is_checked("input[name=role][value=seller]")
    sam.page.fill("#f-name", "Sam Seller")
    sam.page.fill("#f-email", SAM_EMAIL)
    sam.page.fill("#f-password", PASSWORD)
    sam.follow("button:has-text('Create account')")
    sam.page.wait_for_url("**/seller/products")
    assert "Welcome, Sam Seller!" in sam.flash()
    assert "You have no products yet" in sam.text()
    # A seller submits products once the address is confirmed, from the emailed link.
    assert "Please confirm your email address" in sam.text()
    sam.go(shop.emailed_link(SAM_EMAIL, "Confirm your email address", "/email/verify/"))
    assert f"{SAM_EMAIL} is verified" in sam.flash()

    drums = demo_files.drum_loops()
    cover = demo_files.cover(DRUMS, "Audio", "Sam Seller", ((30, 27, 75), (109, 40, 217), (196, 181, 253)),
                             "bars", seed=7)
    sam.follow("text=+ New product")
    sam.page.fill("#f-title", DRUMS)
    sam.page.fill("#f-description", "Two warm, dusty drum loops for beats, podcasts and videos.\n\n"
                                    "WAV files at 90 and 84 BPM, royalty free.")
    sam.page.fill("#f-price", "12.00")
    sam.page.set_input_files("#f-file", {"name": "lofi-drum-loops.zip", "mimeType": "application/zip",
                                         "buffer": drums})
    sam.page.set_input_files("#f-thumbnail", {"name": "cover.jpg", "mimeType": "image/jpeg", "buffer": cover})
    sam.follow("button:has-text('Submit for review')")
    sam.page.wait_for_url("**/seller/products")
    assert f"“{DRUMS}” is saved and waiting for review" in sam.flash()
    row = sam.page.locator("tr", has_text=DRUMS)
    assert "Waiting for review" in row.inner_text()
    assert "lofi-drum-loops.zip" in row.inner_text()

    # The thumbnail job runs in the consumer; the seller's list shows the cover once it has.
    wait_until_page_shows(sam, f"tr:has-text('{DRUMS}') td[data-label=Cover]", "Ready")
    thumb = sam.page.locator("tr", has_text=DRUMS).locator("img.row-thumb")
    assert thumb.get_attribute("src").startswith("/media/")
    assert thumb.evaluate("img => img.complete && img.naturalWidth > 0")
    assert "Waiting for review" in sam.page.locator("tr", has_text=DRUMS).inner_text()
    # Not in the shop until an admin approves it.
    sam.go("/?q=drum")
    assert "Nothing matches your search." in sam.text()
    story["drums"] = drums
    finished("journey 1")


# ---------------------------------------------------------------------------
# 2. The admin decides; the seller is told
# ---------------------------------------------------------------------------


def test_journey_2_the_admin_approves_and_rejects_and_the_seller_is_told(visit, shop, make_user):
    continues("journey 1")
    sam = User.get(User.email == SAM_EMAIL)
    make_product(sam, STOCK, 2900, status="pending", file_name="stock-photos.zip")
    admin_user = make_user("admin", email="ada.journeys@example.com", name="Ada Admin")
    story["admin"] = admin_user

    admin = visit(admin_user)
    assert admin.page.url.endswith("/admin/products")
    assert "Pending 2" in " ".join(admin.text("nav.tabs").split())
    card = admin.page.locator("article.review-card", has_text=DRUMS)
    assert card.locator("img.thumb").evaluate("img => img.complete && img.naturalWidth > 0")
    assert "Cover ready" in card.inner_text() and "by Sam Seller" in card.inner_text()
    admin.follow(card.locator("button:has-text('Approve')"))
    assert f"“{DRUMS}” is approved and on sale" in admin.flash()

    stock = admin.page.locator("article.review-card", has_text=STOCK)
    stock.locator("summary:has-text('Reject')").click()
    stock.locator("textarea[name=reason]").fill(REJECTION)
    admin.follow(stock.locator("button:has-text('Reject product')"))
    assert f"“{STOCK}” is rejected" in admin.flash()
    assert "Nothing is waiting for review" in admin.text()

    # The notification jobs run in the consumer; Sam's header counts both.
    seller = visit(SAM_EMAIL)
    wait_until_page_shows(seller, ".notif-link .badge-count", "2")
    assert seller.page.get_attribute(".notif-link .badge-count", "aria-label") == "2 unread"
    seller.follow(".notif-link")
    notices = seller.page.locator("li.notice")
    assert notices.count() == 2
    assert seller.page.locator("li.notice.unread").count() == 2
    approved = notices.filter(has_text="was approved")
    rejected = notices.filter(has_text="was not approved")
    assert f"“{DRUMS}” was approved and is now on sale." in approved.inner_text()
    assert REJECTION in rejected.locator("blockquote").inner_text()
    # Opening the page read them: the count is gone on the next page.
    seller.go("/seller/products")
    assert seller.page.locator(".notif-link .badge-count").count() == 0
    assert "Reason: " + REJECTION in seller.page.locator("tr", has_text=STOCK).inner_text()
    assert "Not approved" in seller.page.locator("tr", has_text=STOCK).inner_text()
    assert "On sale" in seller.page.locator("tr", has_text=DRUMS).inner_text()

    # The second channel: an email for each decision.
    subjects = {mail["Subject"] for mail in shop.mails if mail["To"] == SAM_EMAIL}
    assert f"Approved: “{DRUMS}” is now on sale" in subjects
    assert f"Changes needed: “{STOCK}” was not approved" in subjects
    finished("journey 2")


# ---------------------------------------------------------------------------
# 3. A customer buys from two sellers
# ---------------------------------------------------------------------------


def search(visitor, words):
    visitor.page.fill("#site-search", words)
    with visitor.page.expect_navigation():
        visitor.page.press("#site-search", "Enter")


def test_journey_3_a_customer_buys_from_two_sellers(visit, shop, make_user):
    continues("journey 2")
    priya = make_user("seller", email="priya.journeys@example.com", name="Priya Patel")
    ebook_bytes = b"%PDF-1.4 night photography, page by page\n" * 300
    make_product(priya, EBOOK, 999, content=ebook_bytes, file_name="night-photography.pdf")
    casey_user = make_user("customer", email="casey.journeys@example.com", name="Casey Customer")
    story.update(priya=priya, casey=casey_user, ebook=ebook_bytes)

    casey = visit(casey_user)
    search(casey, "drum loops")
    assert "Results for “drum loops”" in casey.text("h1")
    assert casey.page.locator("article.product-card").count() == 1
    casey.follow(f"article.product-card >> text={DRUMS}")
    assert casey.text("h1") == DRUMS and "$12.00" in casey.text(".product-info")
    casey.follow("button:has-text('Add to cart')")
    assert f"“{DRUMS}” is in your cart." in casey.flash()

    search(casey, "night photography")
    casey.follow(f"article.product-card >> text={EBOOK}")
    casey.follow("button:has-text('Add to cart')")
    assert "Cart (2)" in casey.header()
    rows = casey.page.locator(".cart-row")
    assert rows.count() == 2
    assert "by Sam Seller" in rows.filter(has_text=DRUMS).inner_text()
    assert "by Priya Patel" in rows.filter(has_text=EBOOK).inner_text()
    assert "$21.99" in casey.text(".order-summary")

    casey.follow("text=Proceed to checkout")
    assert casey.page.is_checked("input[name=gateway][value=test]")
    casey.page.select_option("select[name=country]", "US")
    casey.follow("button:has-text('Continue to payment · $21.99')")
    assert "TEST MODE · NO MONEY MOVES" in casey.text().upper()
    assert "$21.99" in casey.text(".testpay-facts")

    # Paying sends the signed event through a job; with no consumer running, the order waits.
    shop.stop_consumer()
    casey.follow("button:has-text('Pay $21.99')")
    casey.page.wait_for_url("**/orders/*/success")
    assert casey.text("h1") == "Processing your payment…"
    assert casey.page.locator(".download-list a").count() == 0
    casey.page.evaluate("window.sameDocument = true")
    assert "Cart (" not in casey.header()  # the order took its products out of the cart

    shop.start_consumer()
    casey.page.wait_for_selector("text=Your downloads are ready", timeout=30000)
    assert casey.page.evaluate("window.sameDocument") is True, "the page was reloaded"
    assert "Cart (" not in casey.header()  # and fulfilment leaves it empty
    links = casey.page.locator(".download-list li")
    assert links.count() == 2
    assert "3 downloads left" in links.first.inner_text()

    with casey.page.expect_download() as download:
        links.filter(has_text=DRUMS).locator("a:has-text('Download')").click()
    assert download.value.suggested_filename == "lofi-drum-loops.zip"
    assert read_download(download.value) == story["drums"]
    with casey.page.expect_download() as download:
        links.filter(has_text=EBOOK).locator("a:has-text('Download')").click()
    assert download.value.suggested_filename == "night-photography.pdf"
    assert read_download(download.value) == ebook_bytes

    order = Order.get(Order.buyer == casey_user.id)
    story["order"] = order
    story["links"] = {link.order_item.title: link for link in DownloadLink.select(DownloadLink, OrderItem)
                      .join(OrderItem).where(OrderItem.order == order)}

    casey.go("/purchases")
    purchase = casey.page.locator(f"article#{order.reference}")
    assert "paid" in purchase.locator(".badge").first.inner_text()
    assert "2 of 3 left" in purchase.locator("li", has_text=DRUMS).inner_text()
    # "Download invoice" saves the PDF (straight away, or from the page that waits for it).
    with casey.page.expect_download(timeout=30000) as download:
        purchase.locator("button:has-text('Download invoice')").click()
    assert download.value.suggested_filename.startswith("INV-")
    invoice = read_download(download.value)
    assert invoice.startswith(b"%PDF-")
    # ?view=1 shows the same file in chromium's PDF viewer.
    viewed = casey.page.request.get(f"/orders/{order.id}/invoice?view=1")
    assert viewed.headers["content-disposition"].startswith("inline; filename=\"INV-")
    assert viewed.body() == invoice
    text = pdf_text(invoice)
    assert order.reference in text and DRUMS in text and EBOOK in text and "21.99" in text
    finished("journey 3")


def pdf_text(data):
    assert shutil.which("pdftotext"), "pdftotext (poppler-utils, `make deps`) is needed to read the invoice"
    return subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True).stdout.decode()


# ---------------------------------------------------------------------------
# 4. Downloads that may not happen
# ---------------------------------------------------------------------------


def refusal(visitor, path):
    """Open a download link expecting a refusal page; returns (status, heading, message)."""
    response = visitor.go(path)
    return response.status, visitor.text("h1"), visitor.text("main section p:not(.eyebrow)")


def test_journey_4_refused_downloads_read_clearly(visit, make_user):
    continues("journey 3")
    from shop.orders.downloads import url_for

    drums_url, ebook_url = url_for(story["links"][DRUMS]), url_for(story["links"][EBOOK])

    # Someone else with the link in hand.
    dana = visit(make_user("customer", email="dana.journeys@example.com", name="Dana Doe"))
    status, heading, message = refusal(dana, drums_url)
    assert (status, heading) == (403, "Not your download")
    assert message == "This download link belongs to another customer's purchase."
    assert dana.page.locator("main a:has-text('Your purchases')").count() == 1

    # Casey uses the e-book's last two downloads from the purchases page; then it is used up.
    casey = visit(story["casey"])
    casey.go("/purchases")
    for left in ("1 of 3 left", "0 of 3 left"):
        with casey.page.expect_download() as download:
            casey.page.locator("li", has_text=EBOOK).locator("a:has-text('Download')").click()
        assert read_download(download.value) == story["ebook"]
        casey.go("/purchases")
        if left == "1 of 3 left":
            assert left in casey.page.locator("li", has_text=EBOOK).inner_text()
    assert "used up" in casey.page.locator("li", has_text=EBOOK).inner_text()
    status, heading, message = refusal(casey, ebook_url)
    assert (status, heading) == (410, "Download limit reached")
    assert "used for all 3 downloads it allows" in message

    # Two days later the link has expired (the clock is moved by moving the link's expiry).
    DownloadLink.update(expires_at=utcnow() - datetime.timedelta(minutes=5)).where(
        DownloadLink.id == story["links"][EBOOK].id).execute()
    status, heading, message = refusal(casey, ebook_url)
    assert (status, heading) == (410, "Download link expired")
    assert "Links last 48 hours after purchase" in message
    casey.go("/purchases")
    assert "expired" in casey.page.locator("li", has_text=EBOOK).inner_text()
    # The other product's link is untouched by all of this.
    assert "Download" in casey.page.locator("li", has_text=DRUMS).inner_text()
    finished("journey 4")


# ---------------------------------------------------------------------------
# 5. Balances, and a refund
# ---------------------------------------------------------------------------


def test_journey_5_balances_and_a_refund_through_the_gateway(visit, shop):
    continues("journey 4")
    order = story["order"]

    sam = visit(SAM_EMAIL)
    sam.go("/seller/balance")
    assert sam.text(".stat-main .stat-value") == "$10.80"  # $12.00 less the 10% commission
    assert "1" == sam.page.locator(".stat", has_text="Items sold").locator(".stat-value").inner_text()
    assert order.reference in sam.page.locator("table.list tbody").inner_text()
    priya = visit(story["priya"])
    priya.go("/seller/balance")
    assert priya.text(".stat-main .stat-value") == "$8.99"  # $9.99 less $1.00 (the fee rounded half up)

    admin = visit(story["admin"])
    admin.go("/admin/orders")
    admin.follow(f"text={order.reference}")
    assert "paid" in admin.text("h1")
    admin.follow("button:has-text('Refund $21.99')")
    assert f"Refund of order {order.reference} requested" in admin.flash()
    # The gateway's signed charge.refunded event comes back to /webhooks/test through the consumer.
    wait_until_page_shows(admin, "h1 .badge", "refunded")
    assert "charge.refunded" in admin.text("table.list >> nth=-1")
    assert "revoked" in admin.page.locator("td[data-label='Download link']").first.inner_text()

    casey = visit(story["casey"])
    casey.go("/purchases")
    # The refund's credit note is drawn and emailed by a job of its own, which may still run.
    wait_until_page_shows(casey, f"article#{order.reference}", "Download credit note CN-")
    purchase = casey.page.locator(f"article#{order.reference}")
    assert "refunded" in purchase.locator(".purchase-total .badge").inner_text()
    assert "the downloads no longer work" in purchase.inner_text()
    # No download of the products is left; the refund's credit note is there to download instead.
    assert purchase.locator("a:has-text('Download'):not(:has-text('credit note'))").count() == 0
    assert purchase.locator("a:has-text('Download credit note CN-')").count() == 1
    from shop.orders.downloads import url_for

    status, heading, message = refusal(casey, url_for(story["links"][DRUMS]))
    assert (status, heading) == (410, "Download no longer available")
    assert message == "This purchase was refunded, so its download link no longer works."

    sam.go("/seller/balance")
    assert sam.text(".stat-main .stat-value") == "$0.00"
    assert "refund" in sam.page.locator("table.list tbody tr").first.inner_text()
    wait_for(lambda: any(m["To"] == story["casey"].email and "refund" in m["Subject"].lower() for m in shop.mails),
             timeout=30, message="the refund email")
    finished("journey 5")


# ---------------------------------------------------------------------------
# A declined payment
# ---------------------------------------------------------------------------


def test_a_declined_payment_leaves_the_cart_as_it_was(visit):
    continues("journey 3")
    casey = visit(story["casey"])
    search(casey, "drum loops")
    casey.follow(f"article.product-card >> text={DRUMS}")
    casey.follow("button:has-text('Add to cart')")
    casey.follow("text=Proceed to checkout")
    casey.page.select_option("select[name=country]", "US")
    casey.follow("button:has-text('Continue to payment · $12.00')")
    casey.follow("button:has-text('Decline')")
    casey.page.wait_for_selector("text=Payment declined", timeout=30000)
    assert "The test payment was declined." in casey.text("#order-status")
    casey.follow("#order-status >> text=Back to your cart")
    assert DRUMS in casey.text(".cart-list") and "Cart (1)" in casey.header()
    finished("declined payment")


# ---------------------------------------------------------------------------
# 6. The queue dashboard during a burst
# ---------------------------------------------------------------------------

# Each job of the burst sleeps 30 ms, so four workers need at least nine seconds for
# it: several of the dashboard's three-second refreshes, however fast the machine.
BURST, JOB_SECONDS = 1200, 0.03


def dispatch_burst(count, batch_size=200):
    """Dispatch `count` short jobs in quick batches, as a busy shop would."""
    for start in range(0, count, batch_size):
        with db.atomic():
            for index in range(start, min(start + batch_size, count)):
                slow_effect.dispatch(f"burst-{index}", JOB_SECONDS)
    db.close()


def pending_on(page, queue="default"):
    """The Pending figure of a queue's row in the dashboard's live workload table."""
    text = page.eval_on_selector(f"#queue-{queue} td[data-label=Pending]", "cell => cell.textContent")
    return int(text.strip().replace(",", ""))


def test_journey_6_the_admin_watches_a_burst_and_retries_a_failed_job(visit, shop):
    continues("journey 2")
    flaky = fail_first.dispatch("page-retry", 4)  # fails all four tries; a fifth attempt succeeds

    admin = visit(story["admin"])
    admin.follow("header >> text=Queue")
    assert admin.page.url.endswith("/admin/queue")
    admin.page.evaluate("window.sameDocument = true")
    burst = threading.Thread(target=dispatch_burst, args=(BURST,))
    burst.start()
    # The live sections refresh by themselves; read the waiting jobs as the admin sees them.
    seen = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        seen.append(pending_on(admin.page))
        if not burst.is_alive() and max(seen) > 0 and seen[-1] == 0 and effect_done(f"burst-{BURST - 1}"):
            break
        admin.page.wait_for_timeout(250)
    burst.join()
    peak = max(seen)
    assert peak >= 300 and seen[-1] == 0, seen
    assert seen.index(peak) > 0 and len(set(seen)) >= 3, seen  # it rose and fell over several refreshes
    assert admin.page.evaluate("window.sameDocument") is True, "the dashboard was reloaded"
    assert "Live · updated" in admin.text("[data-live-status]")
    wait_for(lambda: JobRecord.select().where((JobRecord.name == "slow_effect")
                                              & (JobRecord.state == "completed")).count() == BURST,
             timeout=60, message="every job of the burst to complete")

    # The workers of the shop's consumer, alive, with their memory.
    wait_for(lambda: "slow_effect" in admin.text("section[data-live=tiles]"), timeout=15,
             message="the tiles to name the busiest job")
    rows = admin.page.locator("table.workers tbody tr")
    assert rows.count() == shop.workers
    for text in rows.all_inner_texts():
        assert f"pid {shop.consumer.pid}" in text and " MB" in text and "alive" in text, text

    # The failed job, retried from the page; this time it succeeds.
    wait_for(lambda: FailedJob.select().where(FailedJob.uuid == flaky).exists(), timeout=60,
             message="the flaky job to fail")
    admin.go("/admin/queue/failed")
    row = admin.page.locator("table.failed tbody tr", has_text="fail_first")
    assert "failure 4 of page-retry" in row.inner_text()
    assert row.locator("td[data-label=Attempts]").inner_text().strip() == "4"
    admin.follow(row.locator("button:has-text('Retry')"))
    assert "fail_first is back on the default queue with fresh attempts." in admin.flash()
    assert admin.page.locator("table.failed tbody tr", has_text="fail_first").count() == 0
    admin.go(f"/admin/queue/jobs/{flaky}")
    wait_until_page_shows(admin, ".job-title", "completed")
    assert effect_done("page-retry")
    finished("journey 6")


# ---------------------------------------------------------------------------
# 7. Every page at a phone's width
# ---------------------------------------------------------------------------


def check_page(visitor, path=None):
    """The open page (or `path`), at phone and desktop width: nothing to scroll sideways, every field labelled."""
    if path is not None:
        visitor.go(path)
    where = visitor.page.url
    for size in (PHONE, DESKTOP):
        visitor.page.set_viewport_size(size)
        assert no_horizontal_scroll(visitor.page), (
            f"{where} scrolls sideways at {size['width']}px: {overflowing_elements(visitor.page)}")
    assert unlabelled_fields(visitor.page) == [], f"{where} has fields without a label"
    visitor.page.set_viewport_size(PHONE)
    return where


def test_journey_7_every_page_fits_a_phone_and_labels_its_fields(visit, make_user):
    continues("journey 5", "declined payment")
    order = story["order"]
    sam_user = User.get(User.email == SAM_EMAIL)
    # Something waiting for review, so the moderation page shows a whole card.
    make_product(sam_user, "Retro Sunset Wallpapers for Desktop and Phone, Five Sizes Each", 300, status="pending")
    drums = Product.get(Product.title == DRUMS)
    stock = Product.get(Product.title == STOCK)
    checked = []

    guest = visit(viewport=PHONE)
    for path in ("/", "/?q=drum+loops", f"/products/{drums.slug}", "/login", "/register",
                 "/register?role=seller", "/no-such-page", "/?q=nothing+matches+this"):
        checked.append(check_page(guest, path))

    casey = visit(story["casey"], viewport=PHONE)
    for path in ("/", f"/products/{drums.slug}", "/cart", "/checkout", f"/orders/{order.id}/success",
                 "/purchases", "/notifications"):
        checked.append(check_page(casey, path))
    casey.go("/checkout")
    casey.page.select_option("select[name=country]", "US")
    casey.follow("button:has-text('Continue to payment · $12.00')")
    assert "Simulated payment" in casey.text("h1")
    checked.append(check_page(casey))  # the test-mode payment page
    from shop.orders.downloads import url_for

    checked.append(check_page(casey, url_for(story["links"][DRUMS])))  # a refused download

    sam = visit(SAM_EMAIL, viewport=PHONE)
    for path in ("/seller/products", "/seller/products/new", f"/seller/products/{stock.id}/edit",
                 f"/seller/products/{drums.id}/edit", "/notifications", "/seller/balance", "/seller/discounts",
                 "/seller/licenses"):
        checked.append(check_page(sam, path))

    admin = visit(story["admin"], viewport=PHONE)
    for path in ("/admin/products", "/admin/products?status=approved", "/admin/products?status=rejected",
                 "/admin/orders", f"/admin/orders/{order.id}", "/notifications", "/admin/discounts"):
        checked.append(check_page(admin, path))
    # The reject form opens inside its card.
    admin.go("/admin/products")
    admin.page.click("summary:has-text('Reject')")
    checked.append(check_page(admin))
    # The queue dashboard and its pages.
    for path in ("/admin/queue", "/admin/queue/jobs", "/admin/queue/jobs?state=failed", "/admin/queue/failed",
                 "/admin/queue/batches", "/admin/queue/chains", "/admin/queue/metrics"):
        checked.append(check_page(admin, path))
    admin.go("/admin/queue/jobs")
    admin.follow("table.jobs tbody tr >> nth=0 >> a.row-title")
    checked.append(check_page(admin))  # one job's page
    assert len(checked) == 41
