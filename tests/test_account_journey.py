"""The account's pages in chromium, on a served shop with its consumer: a visitor signs up,
verifies the address from the email, forgets the password, resets it from the emailed link
and logs in with the new one; a guest buys with only an email address, signs up with it,
resets the password and downloads again from the library; the settings page fits a phone
and labels every field.

Screenshots of the pages go to the test's folder (and to SCREENSHOTS, when set).
"""

import os
from pathlib import Path

import pytest

from models import Order, User
from tests.browser import PHONE, no_horizontal_scroll, read_download, shop_environment, unlabelled_fields
from tests.shop_fixtures import make_product

pytestmark = [pytest.mark.browser, pytest.mark.consumer]

NEW_PASSWORD = "a-fresh-start-2026"
FIRST_PASSWORD = "first-password-1"


@pytest.fixture
def app_env(shop):
    yield from shop_environment(shop)


def shot(visitor, tmp_path, name):
    folder = Path(os.environ.get("SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    visitor.page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def test_sign_up_verify_forget_and_reset_the_password(visit, shop, tmp_path):
    visitor = visit()
    visitor.go("/register")
    visitor.page.fill("#f-name", "Robin")
    visitor.page.fill("#f-email", "robin@example.com")
    visitor.page.fill("#f-password", FIRST_PASSWORD)
    visitor.follow("form[action='/register'] button[type=submit]")
    assert "Please confirm your email address" in visitor.text()

    link = shop.emailed_link("robin@example.com", "Confirm your email address", "/email/verify/")
    visitor.go(link)
    assert "robin@example.com is verified" in visitor.flash()
    assert User.get(User.email == "robin@example.com").email_verified

    visitor.follow("form[action='/logout'] button[type=submit]")
    visitor.go("/login")
    visitor.follow("text=Forgot your password?")
    shot(visitor, tmp_path, "password-forgot")
    visitor.page.fill("#f-email", "robin@example.com")
    visitor.follow("form[action='/password/forgot'] button[type=submit]")
    assert "we have emailed it a link" in visitor.text()

    link = shop.emailed_link("robin@example.com", "Reset your password", "/password/reset/")
    visitor.go(link)
    shot(visitor, tmp_path, "password-reset")
    visitor.page.fill("#f-password", NEW_PASSWORD)
    visitor.follow("form[action^='/password/reset/'] button[type=submit]")
    assert "Your password is changed" in visitor.flash()

    visitor.follow("form[action='/logout'] button[type=submit]")
    visitor.log_in("robin@example.com", NEW_PASSWORD)


def test_a_guest_buys_signs_up_resets_the_password_and_downloads_again(visit, shop, make_user, tmp_path):
    content = b"guest journey bytes\n" * 500
    product = make_product(make_user("seller", name="Sam Seller"), "Tape hiss textures", 700, content=content,
                           file_name="tape-hiss.zip")
    guest = visit()
    guest.go(f"/products/{product.slug}")
    guest.follow("button:has-text('Add to cart')")
    assert "Cart (1)" in guest.header() and "Log in" in guest.header()
    guest.follow("text=Proceed to checkout")
    assert unlabelled_fields(guest.page) == []
    guest.page.fill("#f-email", "gwen@example.com")
    guest.page.select_option("select[name=country]", "US")
    shot(guest, tmp_path, "guest-checkout")
    guest.follow("button:has-text('Continue to payment')")
    guest.follow("button:has-text('Pay $7.00')")
    guest.page.wait_for_selector("text=Your downloads are ready", timeout=30000)
    order = Order.get(Order.guest_email == "gwen@example.com")

    # The receipt's link to the order works in a browser that never saw the shop.
    order_link = shop.emailed_link("gwen@example.com", f"Your order {order.reference} is ready to download",
                                   f"/orders/{order.reference}/guest/")
    elsewhere = visit()
    elsewhere.go(order_link)
    assert "Bought as a guest with gwen@example.com" in elsewhere.text()
    shot(elsewhere, tmp_path, "guest-order")
    with elsewhere.page.expect_download() as download:
        elsewhere.page.click("a:has-text('Download')")
    assert read_download(download.value) == content

    # Signing up with the address and confirming it brings the order into the library.
    guest.go("/register")
    guest.page.fill("#f-name", "Gwen")
    guest.page.fill("#f-email", "gwen@example.com")
    guest.page.fill("#f-password", FIRST_PASSWORD)
    guest.follow("form[action='/register'] button[type=submit]")
    guest.go(shop.emailed_link("gwen@example.com", "Confirm your email address", "/email/verify/"))
    assert "gwen@example.com is verified" in guest.flash()
    guest.follow("form[action='/logout'] button[type=submit]")

    guest.go("/login")
    guest.follow("text=Forgot your password?")
    guest.page.fill("#f-email", "gwen@example.com")
    guest.follow("form[action='/password/forgot'] button[type=submit]")
    guest.go(shop.emailed_link("gwen@example.com", "Reset your password", "/password/reset/"))
    guest.page.fill("#f-password", NEW_PASSWORD)
    guest.follow("form[action^='/password/reset/'] button[type=submit]")
    guest.go("/purchases")
    purchase = guest.page.locator(f"article#{order.reference}")
    with guest.page.expect_download() as download:
        purchase.locator("a:has-text('Download')").click()
    assert download.value.suggested_filename == "tape-hiss.zip" and read_download(download.value) == content
    shot(guest, tmp_path, "guest-library")
    assert guest.errors == [] and elsewhere.errors == []


def test_the_settings_page_fits_a_phone_and_labels_every_field(visit, make_user, tmp_path):
    user = make_user(email="phone@example.com", name="Pat Phone")
    for viewport, name in ((None, "account-settings"), (PHONE, "account-settings-phone")):
        visitor = visit(user, viewport=viewport) if viewport else visit(user)
        visitor.go("/account")
        assert "Account settings" in visitor.text()
        assert no_horizontal_scroll(visitor.page)
        assert unlabelled_fields(visitor.page) == []
        shot(visitor, tmp_path, name)
