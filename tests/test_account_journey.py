"""The account's pages in chromium, on a served shop with its consumer: a visitor signs up,
verifies the address from the email, forgets the password, resets it from the emailed link
and logs in with the new one; the settings page fits a phone and labels every field.

Screenshots of the pages go to the test's folder (and to SCREENSHOTS, when set).
"""

import os
from pathlib import Path

import pytest

from models import User
from tests.browser import PHONE, no_horizontal_scroll, shop_environment, unlabelled_fields

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


def test_the_settings_page_fits_a_phone_and_labels_every_field(visit, make_user, tmp_path):
    user = make_user(email="phone@example.com", name="Pat Phone")
    for viewport, name in ((None, "account-settings"), (PHONE, "account-settings-phone")):
        visitor = visit(user, viewport=viewport) if viewport else visit(user)
        visitor.go("/account")
        assert "Account settings" in visitor.text()
        assert no_horizontal_scroll(visitor.page)
        assert unlabelled_fields(visitor.page) == []
        shot(visitor, tmp_path, name)
