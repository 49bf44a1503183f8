"""The README's screenshots, taken from the demo shop: `make screenshots`.

The shop is the one `make run` opens (`marketplace demo`), served by gunicorn with a
real consumer; Casey buys twice through the test-mode payment page so that the cart,
the payment page, the purchases, the order page and Sam's balance show real figures.
Each picture is a 1280 × 800 window (two at a phone's 390 px), saved as a palette PNG
under the folder named by SCREENSHOTS (docs/screenshots from the Makefile).

Without SCREENSHOTS the module is skipped: the journeys (test_journeys.py) check the
same pages, and regenerating the pictures is a deliberate act.
"""

import io
import os
import subprocess
from pathlib import Path

import pytest

from models import utcnow

from tests.browser import (
    DESKTOP,
    PHONE,
    no_horizontal_scroll,
    running_shop,
    shop_environment,
    wait_until_page_shows,
)
from tests.conftest import ROOT, cli_process, marks_its_tests, need_chromium

pytestmark = [pytest.mark.browser, pytest.mark.consumer, pytest.mark.slow]

TARGET = os.environ.get("SCREENSHOTS", "")
DEMO_PASSWORD = "demo-pass-123"
CASEY, SAM, ADMIN = "casey@example.com", "sam@example.com", "admin@example.com"


def _load_demo(shop):
    loaded = cli_process(shop.env, "demo", stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output = loaded.communicate(timeout=300)[0].decode(errors="replace")
    assert loaded.returncode == 0, output


@pytest.fixture(scope="module")
@marks_its_tests("consumer")
def shop(tmp_path_factory):
    if not TARGET:
        pytest.skip("takes the README's screenshots; run `make screenshots`")
    need_chromium()
    with running_shop(tmp_path_factory.mktemp("demo-shop") / "data", before_serving=_load_demo) as live:
        yield live


@pytest.fixture
def app_env(shop):
    """The screenshots look at the demo shop, not at a database of each test's own."""
    yield from shop_environment(shop)


def save(page, name, full_page=False):
    """A screenshot of the window as an optimised PNG (a 256-colour palette keeps it small)."""
    from PIL import Image

    assert no_horizontal_scroll(page), f"{name} scrolls sideways"
    # Covers in the window are loaded (the catalog's are lazy: they start as the page shows).
    page.wait_for_function("""() => Array.from(document.images)
        .filter(img => { const box = img.getBoundingClientRect();
                         return box.width > 0 && box.bottom > 0 && box.top < window.innerHeight; })
        .every(img => img.complete && img.naturalWidth > 0)""")
    folder = ROOT / TARGET if not Path(TARGET).is_absolute() else Path(TARGET)
    folder.mkdir(parents=True, exist_ok=True)
    with Image.open(io.BytesIO(page.screenshot(full_page=full_page))) as shot:
        palette = shot.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT,
                                               dither=Image.Dither.FLOYDSTEINBERG)
        palette.save(folder / f"{name}.png", optimize=True)


def buy(casey, titles):
    """Casey puts `titles` in the cart and pays for them on the test-mode page."""
    for title in titles:
        casey.page.fill("#site-search", title)
        casey.page.press("#site-search", "Enter")
        casey.follow(f"article.product-card >> text={title}")
        casey.follow("button:has-text('Add to cart')")
    casey.follow("text=Proceed to checkout")
    casey.page.select_option("select[name=country]", "US")
    casey.follow("form[action='/checkout'] button[type=submit]")
    casey.page.wait_for_url("**/pay/test/*")


def test_screenshots_of_the_demo_shop(visit):
    guest = visit()
    guest.go("/")
    save(guest.page, "catalog")
    phone_guest = visit(viewport=PHONE)
    phone_guest.go("/")
    save(phone_guest.page, "catalog-phone")

    casey = visit(CASEY, password=DEMO_PASSWORD)
    buy(casey, ["Budget Planner", "Mindful Mornings Journal"])
    casey.follow("button:has-text('Pay')")
    casey.page.wait_for_selector("text=Your downloads are ready", timeout=30000)

    casey.go("/")
    casey.follow("article.product-card >> text=Python for Data Cleaning")
    save(casey.page, "product")
    buy(casey, ["Python for Data Cleaning", "Lo-fi Drum Loops Vol. 1"])
    casey.go("/cart")
    save(casey.page, "cart")
    casey.page.go_back()
    save(casey.page, "payment-page")
    casey.follow("button:has-text('Pay')")
    casey.page.wait_for_selector("text=Your downloads are ready", timeout=30000)
    casey.page.set_viewport_size(PHONE)
    save(casey.page, "order-ready-phone")
    casey.page.set_viewport_size(DESKTOP)
    casey.go("/purchases")
    wait_until_page_shows(casey, "main", f"Download invoice INV-{utcnow().year}-000002")
    save(casey.page, "purchases")

    sam = visit(SAM, password=DEMO_PASSWORD)
    sam.go("/seller/balance")
    save(sam.page, "seller-balance")

    admin = visit(ADMIN, password=DEMO_PASSWORD)
    admin.go("/admin/products")
    save(admin.page, "moderation")
    admin.go("/admin/queue")
    save(admin.page, "queue-dashboard", full_page=True)
