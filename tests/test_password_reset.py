"""Password reset over HTTP, with the email going through a real SMTP server: the link works once,
expires, ends the account's other sessions; unknown addresses, other accounts' links, bad
passwords and floods of requests each get a clear answer and write nothing half."""

import datetime
import re

import pytest
from webtest import TestApp

import marketplace
from job_runtime.models import JobRecord
from models import OutboundMail, PasswordReset, Session, User, utcnow
from shop import security
from tests.conftest import PASSWORD, login
from tests.test_notifications import retry_now

NEW_PASSWORD = "battery-staple-99"


def another_browser(address="127.0.0.1"):
    return TestApp(marketplace.app, extra_environ={"REMOTE_ADDR": address})


def ask_for_reset(client, email, address=None, status=200):
    """Follow "Forgot your password?" from the login page and ask for a link for `email`."""
    page = client.get("/login").click("Forgot your password?")
    form = form_of(page, "/password/forgot")
    form["email"] = email
    headers = {"X-Real-IP": address} if address else {}
    return form.submit(headers=headers, status=status)


def form_of(page, action):
    """The page's form that posts to `action` (the header holds a search form too)."""
    return next(form for form in page.forms.values() if form.action.startswith(action))


def reset_form(page):
    return form_of(page, "/password/reset/")


def link_in(message):
    return re.search(r"/password/reset/\S+", message.get_content()).group(0)


def password_works(email, password):
    return login(another_browser(), email, password).status_int == 303


def test_a_reset_link_works_once_and_logs_the_account_out_everywhere_else(smtp, client, make_user):
    inbox = smtp()
    user = make_user(email="ria@example.com", name="Ria")
    laptop, phone = another_browser(), another_browser()
    assert login(laptop, user).status_int == 303 and login(phone, user).status_int == 303
    assert Session.select().where(Session.user == user).count() == 2

    page = ask_for_reset(client, "  Ria@Example.com ")
    assert "If an account uses that address, we have emailed it a link" in page.text
    [message] = inbox.messages
    assert message["To"] == "ria@example.com" and message["Subject"] == "Reset your password"
    assert "Hello Ria" in message.get_content() and "works once" in message.get_content()
    link = link_in(message)
    token = link.rsplit("/", 1)[1]
    # Only the token's digest is stored, and the job that mailed it kept its arguments encrypted.
    reset = PasswordReset.get()
    assert reset.token_hash == security.token_digest(token) and token not in reset.token_hash
    job = JobRecord.get(JobRecord.name.contains("send_password_reset"))
    assert job.encrypted and job.state == "completed" and token not in str(job.payload)
    assert 59 <= (reset.expires_at - reset.created_at).total_seconds() / 60 <= 60

    form_page = client.get(link)
    assert form_page.headers["Referrer-Policy"] == "no-referrer"
    form = reset_form(form_page)
    form["password"] = NEW_PASSWORD
    response = form.submit(status=303)
    assert "Your password is changed" in response.follow().text
    # The visitor who reset it is logged in; the laptop and the phone are not any more.
    assert Session.select().where(Session.user == user).count() == 1
    for device in (laptop, phone):
        assert device.get("/notifications", status=303).location.startswith("/login")
    assert client.get("/notifications", status=200)
    assert password_works("ria@example.com", NEW_PASSWORD) and not password_works("ria@example.com", PASSWORD)

    # Used once: the link now says so, and posting it again changes nothing.
    again = another_browser()
    assert "expired or was already used" in again.get(link, status=400).text
    refused = again.post(link, {"password": "yet-another-pass", "csrf_token": csrf(again)}, status=400)
    assert "expired or was already used" in refused.text
    assert password_works("ria@example.com", NEW_PASSWORD)
    assert PasswordReset.get().used_at is not None


def csrf(browser):
    page = browser.get("/password/forgot")
    return form_of(page, "/password/forgot")["csrf_token"].value


def test_an_unknown_address_gets_the_same_answer_and_nothing_is_sent(smtp, client, make_user):
    inbox = smtp()
    make_user(email="known@example.com")
    known = ask_for_reset(another_browser(), "known@example.com")
    unknown = ask_for_reset(client, "nobody@example.com")
    # The same words and the same form of page, whoever owns the address.
    strip = lambda text: re.sub(r'value="[^"]*"', "", text)  # noqa: E731  (the CSRF tokens differ)
    assert strip(unknown.text) == strip(known.text)
    assert len(inbox.messages) == 1 and inbox.messages[0]["To"] == "known@example.com"
    assert PasswordReset.select().count() == 1
    assert OutboundMail.select().count() == 1


def test_a_malformed_address_is_a_form_error(smtp, client):
    inbox = smtp()
    page = ask_for_reset(client, "not-an-address", status=400)
    assert "Enter a valid email address." in page.text
    assert inbox.messages == [] and PasswordReset.select().count() == 0


def test_an_expired_link_is_refused_and_changes_nothing(smtp, client, make_user):
    inbox = smtp()
    user = make_user(email="old@example.com")
    other = another_browser()
    login(other, user)
    ask_for_reset(client, "old@example.com")
    link = link_in(inbox.messages[0])
    page = client.get(link)
    # An hour and a moment later.
    PasswordReset.update(expires_at=utcnow() - datetime.timedelta(seconds=1)).execute()
    form = reset_form(page)
    form["password"] = NEW_PASSWORD
    refused = form.submit(status=400)
    assert "expired or was already used" in refused.text and "Ask for a new link" in refused.text
    assert client.get(link, status=400)
    assert password_works("old@example.com", PASSWORD)
    assert PasswordReset.get().used_at is None
    assert other.get("/notifications", status=200)  # still logged in


@pytest.mark.parametrize("token", ["made-up-token", "x" * 200, "dots.and-dashes_"])
def test_a_made_up_link_is_refused(client, token):
    assert "expired or was already used" in client.get(f"/password/reset/{token}", status=400).text


def test_a_link_used_while_logged_in_as_another_account_is_refused(smtp, client, login_as, make_user):
    inbox = smtp()
    make_user(email="victim@example.com")
    ask_for_reset(another_browser(), "victim@example.com")
    link = link_in(inbox.messages[0])
    intruder = login_as("customer", email="intruder@example.com")
    form = reset_form(client.get(link))
    form["password"] = NEW_PASSWORD
    refused = form.submit(status=400)
    assert "This link is for another account" in refused.text
    # Nothing written: both passwords as they were, the link still usable by its owner, the
    # intruder's session as it was.
    assert password_works("victim@example.com", PASSWORD)
    assert password_works(intruder.email, PASSWORD)
    assert PasswordReset.get().used_at is None
    assert client.get("/notifications", status=200)


def test_a_password_too_short_keeps_the_link(smtp, client, make_user):
    inbox = smtp()
    make_user(email="short@example.com")
    ask_for_reset(client, "short@example.com")
    link = link_in(inbox.messages[0])
    form = reset_form(client.get(link))
    form["password"] = "short"
    assert "Use at least 8 characters." in form.submit(status=400).text
    assert PasswordReset.get().used_at is None and password_works("short@example.com", PASSWORD)
    form = reset_form(client.get(link))
    form["password"] = NEW_PASSWORD
    form.submit(status=303)
    assert password_works("short@example.com", NEW_PASSWORD)


def test_a_new_password_spends_the_accounts_other_links(smtp, client, make_user):
    inbox = smtp()
    make_user(email="twice@example.com")
    ask_for_reset(client, "twice@example.com")
    ask_for_reset(client, "twice@example.com")
    first, second = (link_in(message) for message in inbox.messages)
    assert first != second
    form = reset_form(client.get(second))
    form["password"] = NEW_PASSWORD
    form.submit(status=303)
    assert "expired or was already used" in another_browser().get(first, status=400).text


def test_a_post_without_the_csrf_token_is_refused(client, make_user):
    make_user(email="csrf@example.com")
    client.post("/password/forgot", {"email": "csrf@example.com"}, status=403)
    assert PasswordReset.select().count() == 0


# ---------------------------------------------------------------------------
# Floods of requests: per account and per address, before anything is looked up or sent
# ---------------------------------------------------------------------------


def test_a_flood_at_one_account_from_many_addresses_is_held_back(smtp, client, app_env, make_user):
    app_env.reload(PASSWORD_RESET_MAX_REQUESTS=3)
    inbox = smtp()
    make_user(email="popular@example.com")
    for number in range(3):
        ask_for_reset(client, "popular@example.com", address=f"203.0.113.{number}")
    refused = ask_for_reset(client, "popular@example.com", address="203.0.113.99", status=429)
    assert "Too many password reset requests for this email address" in refused.text
    assert 3500 <= int(refused.headers["Retry-After"]) <= 3600
    assert len(inbox.messages) == 3 and PasswordReset.select().count() == 3
    # An address without an account is held back the same way: the limit tells nothing.
    for number in range(3):
        ask_for_reset(client, "ghost@example.com", address=f"198.51.100.{number}")
    ask_for_reset(client, "ghost@example.com", address="198.51.100.99", status=429)


def test_a_flood_from_one_address_at_many_accounts_is_held_back(smtp, client, app_env, make_user):
    app_env.reload(PASSWORD_RESET_MAX_REQUESTS=3)
    inbox = smtp()
    for number in range(4):
        make_user(email=f"user{number}@example.com")
    for number in range(3):
        ask_for_reset(client, f"user{number}@example.com", address="192.0.2.7")
    refused = ask_for_reset(client, "user3@example.com", address="192.0.2.7", status=429)
    assert "Too many password reset requests for your address" in refused.text
    assert len(inbox.messages) == 3
    assert PasswordReset.select().join(User).where(User.email == "user3@example.com").count() == 0
    # Another address still may ask for the fourth account's link.
    ask_for_reset(client, "user3@example.com", address="192.0.2.8")
    assert len(inbox.messages) == 4


# ---------------------------------------------------------------------------
# The email's job: retried while the mail server is down, sent once
# ---------------------------------------------------------------------------


def test_the_email_waits_for_the_mail_server_and_goes_once(smtp, client, make_user):
    make_user(email="patient@example.com")
    inbox = smtp(refuse=1)
    ask_for_reset(client, "patient@example.com")
    record = JobRecord.get(JobRecord.name.contains("send_password_reset"))
    assert record.state == "pending" and "MailError" in record.last_error and inbox.messages == []
    record = retry_now(record)
    assert record.state == "completed"
    assert len(inbox.messages) == 1
    # Run again (a consumer killed after the delivery, say): the mailer's key sends nothing more.
    JobRecord.update(state="pending", available_at=utcnow()).where(JobRecord.id == record.id).execute()
    retry_now(record)
    assert len(inbox.messages) == 1 and OutboundMail.get().attempts == 2
