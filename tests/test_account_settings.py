"""Account settings over HTTP, the emails through a real SMTP server: the name, the password
(with the current one), the address (changed once the new one is verified, the old one told),
the sessions and "log out everywhere else"; wrong passwords and bad links change nothing."""

import datetime
import re

from webtest import TestApp

import marketplace
from models import OutboundMail, Session, User, utcnow
from shop.accounts import settings
from shop.accounts import verification
from tests.conftest import PASSWORD, login

NEW_PASSWORD = "a-brand-new-secret"


def another_browser():
    return TestApp(marketplace.app, extra_environ={"REMOTE_ADDR": "127.0.0.1"})


def settings_form(client, action):
    page = client.get("/account")
    return next(f for f in page.forms.values() if f.action == action)


def logged_in(browser):
    return browser.get("/account", expect_errors=True).status_int == 200


def test_the_settings_page_is_for_logged_in_visitors(client):
    assert client.get("/account", status=303).location.startswith("/login?next=%2Faccount")


def test_the_name_changes(client, login_as):
    user = login_as(name="Old Name")
    form = settings_form(client, "/account/name")
    form["name"] = "  New Name "
    assert "Your name is saved." in form.submit(status=303).follow().text
    assert User.get_by_id(user.id).name == "New Name"
    form["name"] = ""
    assert "Enter your name." in form.submit(status=400).text
    assert User.get_by_id(user.id).name == "New Name"


def test_the_password_needs_the_current_one_and_ends_the_other_sessions(client, login_as):
    user = login_as(email="pat@example.com")
    phone = another_browser()
    login(phone, user)
    form = settings_form(client, "/account/password")
    form["current_password"], form["password"] = "not-my-password", NEW_PASSWORD
    refused = form.submit(status=400)
    assert "That is not your current password." in refused.text
    assert login(another_browser(), user, PASSWORD).status_int == 303 and logged_in(phone)

    form["current_password"], form["password"] = PASSWORD, "short"
    assert "Use at least 8 characters." in form.submit(status=400).text

    form["current_password"], form["password"] = PASSWORD, NEW_PASSWORD
    assert "logged out everywhere else" in form.submit(status=303).follow().text
    assert logged_in(client) and not logged_in(phone)
    assert login(another_browser(), user, NEW_PASSWORD).status_int == 303


def test_the_sessions_are_listed_and_the_others_can_be_logged_out(client, login_as):
    user = login_as()
    laptop, phone = another_browser(), another_browser()
    login(laptop, user)
    login(phone, user)
    page = client.get("/account")
    assert page.text.count("Logged in ") == 3 and "this browser" in page.text
    form = next(f for f in page.forms.values() if f.action == "/account/sessions/end-others")
    assert "2 sessions" in form.submit(status=303).follow().text
    assert logged_in(client) and not logged_in(laptop) and not logged_in(phone)
    assert Session.select().where(Session.user == user).count() == 1
    # With one session left, there is nothing else to log out.
    assert "Log out everywhere else" not in client.get("/account").text


def test_the_address_changes_once_the_new_one_is_verified_and_the_old_one_is_told(smtp, client, login_as):
    inbox = smtp()
    user = login_as(email="lee@example.com", name="Lee")
    form = settings_form(client, "/account/email")
    form["email"], form["current_password"] = "Lee.New@Example.com", PASSWORD
    sent = form.submit(status=303).follow()
    assert "We have emailed a link to lee.new@example.com" in sent.text
    # Nothing changes until the link is opened.
    assert User.get_by_id(user.id).email == "lee@example.com"
    [link_mail] = inbox.messages
    assert link_mail["To"] == "lee.new@example.com" and link_mail["Subject"] == "Confirm your new email address"
    link = re.search(r"/account/email/confirm/\S+", link_mail.get_content()).group(0)

    done = client.get(link, status=303).follow()
    assert "Your email address is now lee.new@example.com" in done.text
    changed = User.get_by_id(user.id)
    assert changed.email == "lee.new@example.com" and changed.email_verified
    notice = inbox.messages[1]
    assert notice["To"] == "lee@example.com" and notice["Subject"] == "Your email address was changed"
    assert "lee.new@example.com" in notice.get_content()
    # The link does not work twice, and the old address no longer logs in.
    client.get(link, status=400)
    assert len(inbox.messages) == 2
    assert login(another_browser(), "lee@example.com").status_int == 401
    assert login(another_browser(), "lee.new@example.com").status_int == 303


def test_a_bad_address_change_writes_nothing_and_sends_nothing(smtp, client, login_as, make_user):
    inbox = smtp()
    user = login_as(email="sam@example.com")
    make_user(email="taken@example.com")
    form = settings_form(client, "/account/email")
    for email, password, message in [
        ("new@example.com", "wrong-password", "That is not your current password."),
        ("not-an-address", PASSWORD, "Enter a valid email address."),
        ("sam@example.com", PASSWORD, "That is already your address."),
        ("Taken@example.com", PASSWORD, "Another account uses that address."),
    ]:
        form["email"], form["current_password"] = email, password
        assert message in form.submit(status=400).text
    assert inbox.messages == [] and OutboundMail.select().count() == 0
    assert User.get_by_id(user.id).email == "sam@example.com"


def test_a_forged_expired_or_overtaken_change_link_is_refused(smtp, client, login_as, make_user):
    smtp()
    user = login_as(email="ash@example.com")
    expires = verification.new_expiry()
    token = settings.change_token(user, "ash.new@example.com", expires)
    user_id, _, encoded, signature = token.split(".")
    other = settings.change_token(user, "evil@example.com", expires).split(".")[2]
    past = verification.new_expiry(utcnow() - datetime.timedelta(hours=verification.LINK_HOURS + 1))
    for bad in (f"{user_id}.{expires}.{other}.{signature}",  # another address under this signature
                settings.change_token(user, "ash.new@example.com", past),  # expired
                "1.2.3", "x.y.z.w", f"{user_id}.{expires}.!!!.{signature}"):
        assert "not valid any more" in client.get(f"/account/email/confirm/{bad}", status=400).text
    # Another account took the address meanwhile: a clear answer, and the address stays.
    make_user(email="ash.new@example.com")
    assert "taken that address meanwhile" in client.get(f"/account/email/confirm/{token}", status=400).text
    assert User.get_by_id(user.id).email == "ash@example.com"
    assert OutboundMail.select().count() == 0


def test_every_settings_post_needs_the_csrf_token(client, login_as):
    user = login_as()
    for action in ("/account/name", "/account/password", "/account/email", "/account/sessions/end-others"):
        client.post(action, {"name": "X", "email": "x@example.com", "current_password": PASSWORD,
                             "password": NEW_PASSWORD}, status=403)
    assert User.get_by_id(user.id).name == user.name and logged_in(client)
