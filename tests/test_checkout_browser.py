"""A customer buys two products from two sellers in chromium, in test mode, with a real
consumer: the order page turns from "processing" into download links by itself. Screenshots
of each page at desktop and phone width go to test-artifacts/screenshots/."""

from pathlib import Path

import pytest

from models import Order
from tests.conftest import PASSWORD, need_chromium, wait_for
from tests.shop_fixtures import live_app, make_product  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.consumer, pytest.mark.slow]

SHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture
def browser():
    need_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def shoot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    for label, size in WIDTHS.items():
        page.set_viewport_size(size)
        page.screenshot(path=str(SHOTS / f"{name}-{label}.png"), full_page=True)
    page.set_viewport_size(WIDTHS["desktop"])


def log_in(page, base, user):
    page.goto(f"{base}/login")
    page.fill("#f-email", user.email)
    page.fill("#f-password", PASSWORD)
    page.click("form.stack button[type=submit]")
    page.wait_for_load_state()


def no_horizontal_scroll(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_a_customer_buys_in_the_browser(browser, live_app, consumer, make_user, app_env):
    sam, priya = make_user("seller", name="Sam Seller"), make_user("seller", name="Priya Patel")
    presets = make_product(sam, "Field recorder presets", 1500)
    ebook = make_product(priya, "Night photography e-book", 999)
    customer = make_user("customer", name="Casey Customer")
    base = live_app.url
    context = browser.new_context(viewport=WIDTHS["desktop"])
    page = context.new_page()
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    log_in(page, base, customer)
    for product in (presets, ebook):
        page.goto(f"{base}/products/{product.slug}")
        page.click("text=Add to cart")
    assert "Cart (2)" in page.inner_text("header")
    shoot(page, "cart")
    page.click("text=Proceed to checkout")
    page.check("input[value=test]")
    shoot(page, "checkout")
    page.click("button:has-text('Pay $24.99')")
    assert "TEST MODE · NO MONEY MOVES" in page.inner_text("main").upper()
    shoot(page, "testpay")
    page.click("button:has-text('Pay $24.99')")  # no consumer yet: the order waits
    page.wait_for_selector("text=Processing your payment")
    shoot(page, "order-processing")

    consumer(workers=2)  # now the jobs run, and the open page shows the links by itself
    page.wait_for_selector("text=Your downloads are ready", timeout=30000)
    assert page.locator(".download-list a:has-text('Download')").count() == 2
    shoot(page, "order-ready")
    for size in WIDTHS.values():
        page.set_viewport_size(size)
        assert no_horizontal_scroll(page), size

    order = Order.get()
    wait_for(lambda: any(m["Subject"].startswith("Invoice") for m in app_env.mails), timeout=30)
    page.goto(f"{base}/purchases")
    shoot(page, "purchases")
    with page.expect_download() as download:
        page.locator(".download-list a, .purchase-item-action a").first.click()
    assert download.value.suggested_filename == "field-recorder-presets.zip"
    response = page.request.get(f"{base}/orders/{order.id}/invoice")
    assert response.headers["content-type"] == "application/pdf"
    context.close()

    for user, path, name in ((sam, "/seller/balance", "seller-balance"),
                             (make_user("admin"), "/admin/orders", "admin-orders")):
        context = browser.new_context(viewport=WIDTHS["desktop"])
        page = context.new_page()
        log_in(page, base, user)
        page.goto(base + path)
        shoot(page, name)
        for size in WIDTHS.values():
            page.set_viewport_size(size)
            assert no_horizontal_scroll(page), (path, size)
        if name == "seller-balance":
            assert "$13.50" in page.inner_text("main")  # 15.00 minus the 10% commission
        else:
            page.click(f"text={order.reference}")
            shoot(page, "admin-order")
        context.close()
    assert errors == []


def test_declines_and_refusals_read_clearly(browser, live_app, consumer, make_user):
    """A declined payment, and another customer's download link, at desktop and phone width."""
    seller = make_user("seller", name="Sam Seller")
    product = make_product(seller, "Modular synth patches", 1200)
    buyer, other = make_user("customer"), make_user("customer")
    consumer(workers=2)
    base = live_app.url
    context = browser.new_context(viewport=WIDTHS["desktop"])
    page = context.new_page()
    log_in(page, base, buyer)
    page.goto(f"{base}/products/{product.slug}")
    page.click("text=Add to cart")
    page.goto(f"{base}/checkout")
    page.click("button:has-text('Pay $12.00')")
    page.click("button:has-text('Decline')")
    page.wait_for_selector("text=Payment declined", timeout=30000)
    assert "The test payment was declined." in page.inner_text("main")
    shoot(page, "order-declined")
    # The customer tries again and pays; then someone else opens the link.
    page.goto(f"{base}/checkout")
    page.click("button:has-text('Pay $12.00')")
    page.click("button:has-text('Pay $12.00')")
    page.wait_for_selector("text=Your downloads are ready", timeout=30000)
    link = page.locator(".download-list a").first.get_attribute("href")
    context.close()
    context = browser.new_context(viewport=WIDTHS["desktop"])
    page = context.new_page()
    log_in(page, base, other)
    response = page.goto(base + link)
    assert response.status == 403 and "belongs to another customer" in page.inner_text("main")
    shoot(page, "download-refused")
    for size in WIDTHS.values():
        page.set_viewport_size(size)
        assert no_horizontal_scroll(page)
    context.close()
