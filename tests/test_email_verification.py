"""Email verification over HTTP with a real SMTP server: signing up sends the link, the link
verifies the address, it can be sent again (a few times an hour), an unverified seller cannot
submit products and an unverified customer sees a reminder; bad links change nothing."""

import datetime
import re

import pytest
from webtest import TestApp

import marketplace
from models import OutboundMail, Product, User, utcnow
from shop.accounts import verification

PASSWORD = "sign-up-pass-77"
REMINDER = "Please confirm your email address"


def sign_up(client, email, role="customer", name="Nia"):
    page = client.get("/register")
    form = next(f for f in page.forms.values() if f.action == "/register")
    form["name"], form["email"], form["password"], form["role"] = name, email, PASSWORD, role
    return form.submit(status=303).follow()


def link_in(message):
    return re.search(r"/email/verify/\S+", message.get_content()).group(0)


def resend(client, status=303):
    page = client.get("/")
    form = next(f for f in page.forms.values() if f.action == "/email/verify/resend")
    return form.submit(status=status)


def test_signing_up_sends_a_link_that_verifies_the_address(smtp, client):
    inbox = smtp()
    page = sign_up(client, "nia@example.com")
    assert REMINDER in page.text and "nia@example.com" in page.text
    user = User.get(User.email == "nia@example.com")
    assert user.email_verified_at is None
    [message] = inbox.messages
    assert message["To"] == "nia@example.com" and message["Subject"] == "Confirm your email address"
    # An unverified customer still shops: the catalog and the cart are open, with the reminder.
    assert REMINDER in client.get("/cart").text

    landed = client.get(link_in(message), status=303).follow()
    assert "nia@example.com is verified" in landed.text and REMINDER not in landed.text
    assert User.get_by_id(user.id).email_verified_at is not None
    # Opening it again is harmless.
    client.get(link_in(message), status=303)


def test_the_link_can_be_sent_again_a_few_times_an_hour(smtp, client, app_env):
    app_env.reload(PASSWORD_RESET_MAX_REQUESTS=2)
    inbox = smtp()
    sign_up(client, "again@example.com")
    assert "We have sent the link again" in resend(client).follow().text
    resend(client)
    refused = resend(client, status=429)
    assert "several times already" in refused.text
    assert len(inbox.messages) == 3
    # Each email's link works (the newest one here).
    client.get(link_in(inbox.messages[-1]), status=303)
    assert User.get(User.email == "again@example.com").email_verified


def test_an_unverified_seller_cannot_submit_a_product(smtp, client):
    inbox = smtp()
    sign_up(client, "sella@example.com", role="seller")
    page = client.get("/seller/products/new")
    form = next(f for f in page.forms.values() if f.action == "/seller/products")
    form["title"], form["description"], form["price"] = "Brushes", "Twelve brushes for painting.", "9.00"
    refused = form.submit(status=403, upload_files=[("file", "brushes.zip", b"PK brushes")])
    assert "Verify your email address before you submit products" in refused.text
    assert Product.select().count() == 0
    client.get(link_in(inbox.messages[0]), status=303)
    form.submit(status=303, upload_files=[("file", "brushes.zip", b"PK brushes")])
    assert Product.get().title == "Brushes"


def test_accounts_the_operator_makes_are_verified(make_user):
    assert make_user("seller").email_verified and make_user("admin").email_verified


@pytest.mark.parametrize("token", ["", "1.2", "x.y.z", "1.99999999999.0000", "9" * 30 + ".1.a", "1.1." + "a" * 300])
def test_a_malformed_or_forged_link_is_refused(client, make_user, token):
    make_user()
    assert client.get(f"/email/verify/{token}", expect_errors=True).status_int in (400, 404)


def test_a_forged_expired_or_stale_link_changes_nothing(smtp, client):
    inbox = smtp()
    sign_up(client, "kit@example.com")
    user = User.get(User.email == "kit@example.com")
    link = link_in(inbox.messages[0])
    user_id, expires, signature = link.rsplit("/", 1)[1].split(".")
    # Another account's id under this signature, or a later expiry: forged.
    for forged in (f"{int(user_id) + 1}.{expires}.{signature}", f"{user_id}.{int(expires) + 1}.{signature}"):
        assert "not valid any more" in client.get(f"/email/verify/{forged}", status=400).text
    # A link made for an address the account no longer has.
    stale = verification.token_for(user, verification.new_expiry())
    User.update(email="kit.new@example.com").where(User.id == user.id).execute()
    client.get(f"/email/verify/{stale}", status=400)
    User.update(email="kit@example.com").where(User.id == user.id).execute()
    # An expired one.
    past = verification.new_expiry(utcnow() - datetime.timedelta(hours=verification.LINK_HOURS + 1))
    client.get(f"/email/verify/{verification.token_for(user, past)}", status=400)
    assert User.get_by_id(user.id).email_verified_at is None
    # The real one still works.
    client.get(link, status=303)
    assert User.get_by_id(user.id).email_verified


def test_resending_needs_a_login_and_the_csrf_token(client):
    assert client.post("/email/verify/resend", status=403)
    fresh = TestApp(marketplace.app, extra_environ={"REMOTE_ADDR": "127.0.0.1"})
    token = next(f for f in fresh.get("/login").forms.values() if f.action == "/login")["csrf_token"].value
    assert fresh.post("/email/verify/resend", {"csrf_token": token}, status=303).location.startswith("/login")
    assert OutboundMail.select().count() == 0
