"""Notifications: both channels of ProductApproved / ProductRejected, mail server failures, the page."""

import pytest

from job_runtime import runner
from shop.catalog import moderation
from shop.accounts import notifications
import tasks
from job_runtime.models import FailedJob, JobRecord
from models import Notification, OutboundMail, db, utcnow
from tests.catalog_helpers import make_product
from tests.conftest import login


def decide(product, admin, decision, reason=None):
    """What the admin's POST does: the decision and its job in one transaction."""
    with db.atomic():
        if decision == "approved":
            review = moderation.approve(product.id, admin)
            tasks.notify_product_approved.dispatch(review.id)
        else:
            review = moderation.reject(product.id, admin, reason)
            tasks.notify_product_rejected.dispatch(review.id)
    return review


def retry_now(job_record):
    """Let the retry's backoff pass, then run the attempt the consumer would run."""
    JobRecord.update(available_at=utcnow()).where(JobRecord.uuid == job_record.uuid).execute()
    runner.execute(job_record.uuid)
    return JobRecord.get_by_id(job_record.id)


# ---------------------------------------------------------------------------
# Delivery through a real SMTP server
# ---------------------------------------------------------------------------


def test_approval_is_mailed_through_smtp_and_stored(smtp, make_user):
    inbox = smtp()
    seller = make_user("seller", name="Sam Seller")
    product = make_product(seller, title="Icon Pack", price=1900)
    review = decide(product, make_user("admin"), "approved")
    [message] = inbox.messages
    assert message["To"] == seller.email
    assert message["Subject"] == "Approved: “Icon Pack” is now on sale"
    body = message.get_content()
    assert "Hello Sam Seller" in body and "$19.00" in body and f"/products/{product.slug}" in body
    notification = Notification.get()
    assert notification.user_id == seller.id and notification.key == f"product-approved:{review.id}"
    assert notification.data["title"] == "Icon Pack" and notification.read_at is None
    assert JobRecord.get().state == "completed"


def test_rejection_mail_carries_the_reason(smtp, make_user):
    inbox = smtp()
    product = make_product(make_user("seller"), title="Icon Pack")
    decide(product, make_user("admin"), "rejected", "Two icons are copied from a paid set.")
    [message] = inbox.messages
    assert "not approved" in message["Subject"]
    assert "Two icons are copied from a paid set." in message.get_content()
    assert Notification.get().data["reason"] == "Two icons are copied from a paid set."


def test_mail_server_down_then_back_sends_once_and_stores_once(smtp, make_user):
    seller = make_user("seller")
    product = make_product(seller, title="Icon Pack")
    review = decide(product, make_user("admin"), "rejected", "Blurry cover.")  # nothing listens yet
    record = JobRecord.get()
    assert record.state == "pending" and record.exceptions == 1 and "MailError" in record.last_error
    assert record.available_at > utcnow()  # waits for its backoff
    # The database channel did not wait for the mail server.
    assert Notification.select().where(Notification.user == seller).count() == 1
    outbound = OutboundMail.get()
    assert outbound.sent_at is None and outbound.attempts == 1

    inbox = smtp()  # the server is back
    record = retry_now(record)
    assert record.state == "completed" and record.attempts == 2
    assert len(inbox.messages) == 1 and "Blurry cover." in inbox.messages[0].get_content()
    assert Notification.select().count() == 1
    assert OutboundMail.get().sent_at is not None
    # Running the job once more (a duplicate doorbell, a manual retry) sends and stores nothing new.
    tasks.notify_product_rejected.run_now(review.id)
    assert len(inbox.messages) == 1 and Notification.select().count() == 1


def test_a_refusing_server_gets_the_same_message_again(smtp, make_user):
    inbox = smtp(refuse=1)
    product = make_product(make_user("seller"))
    decide(product, make_user("admin"), "approved")
    record = JobRecord.get()
    assert record.state == "pending" and "451" in record.last_error
    assert inbox.messages == [] and Notification.select().count() == 1
    record = retry_now(record)
    assert record.state == "completed"
    [message] = inbox.messages
    assert message["Message-ID"] == OutboundMail.get().message_id
    assert Notification.select().count() == 1


def test_after_three_failed_attempts_the_job_fails_but_the_notification_stays(smtp, make_user):
    inbox = smtp(refuse=5)
    product = make_product(make_user("seller"))
    decide(product, make_user("admin"), "approved")
    record = retry_now(retry_now(JobRecord.get()))
    assert record.state == "failed" and record.attempts == 3
    failed = FailedJob.get()
    assert failed.name == "notify_product_approved" and failed.exception_class == "MailError"
    assert inbox.messages == [] and Notification.select().count() == 1
    assert OutboundMail.get().attempts == 3


# ---------------------------------------------------------------------------
# The notifications page
# ---------------------------------------------------------------------------


def test_opening_the_page_marks_notifications_read(client, make_user, app_env):
    seller = make_user("seller")
    admin = make_user("admin")
    decide(make_product(seller, title="First"), admin, "approved")
    decide(make_product(seller, title="Second"), admin, "rejected", "Needs a longer description.")
    login(client, seller)
    home = client.get("/")
    assert home.html.select_one(".notif-link .badge-count").text == "2"
    page = client.get("/notifications")
    items = page.html.select("ul.notice-list li")
    assert len(items) == 2
    newest, oldest = items
    assert "“Second” was not approved." in newest.text and "Needs a longer description." in newest.text
    assert newest.select_one("a")["href"].endswith("/edit") and "New" in newest.text
    assert "“First” was approved" in oldest.text and oldest.select_one("a")["href"].startswith("/products/")
    assert page.html.select_one(".notif-link .badge-count") is None  # read now
    assert Notification.select().where(Notification.read_at.is_null()).count() == 0
    again = client.get("/notifications").html
    assert not again.select("li.unread") and "New" not in again.select_one("ul.notice-list").text


def test_users_see_only_their_own_notifications(client, make_user):
    mine, theirs = make_user("seller"), make_user("seller")
    notifications.store(theirs.id, "product_approved", "k1", {"title": "Their Product", "product_id": 1})
    notifications.store(mine.id, "product_approved", "k2", {"title": "My Product", "product_id": 2})
    login(client, mine)
    text = client.get("/notifications").text
    assert "My Product" in text and "Their Product" not in text
    assert Notification.get(Notification.key == "k1").read_at is None


def test_storing_twice_keeps_one_row(make_user):
    user = make_user()
    first = notifications.store(user.id, "product_approved", "same-key", {"title": "A"})
    second = notifications.store(user.id, "product_approved", "same-key", {"title": "A"})
    assert first.id == second.id and Notification.select().count() == 1


def test_notifications_page_needs_a_login(client):
    response = client.get("/notifications")
    assert response.status_int == 303 and response.headers["Location"].startswith("/login?next=")


def test_empty_page_says_so(client, login_as):
    login_as("customer")
    assert "No notifications yet." in client.get("/notifications").text


# ---------------------------------------------------------------------------
# The mailer under a kill: every delivery kept, a resend with the same Message-ID
# ---------------------------------------------------------------------------


def forget_that_it_was_sent(key):
    """What a consumer killed between the delivery and its record leaves behind."""
    OutboundMail.update(sent_at=None).where(OutboundMail.key == key).execute()


def test_the_file_mailer_keeps_every_delivery_and_a_resend_has_the_same_message_id(app_env):
    from shop import mail

    assert mail.send("resend:1", "buyer@example.com", "Your order", "Thanks.")
    forget_that_it_was_sent("resend:1")
    assert mail.send("resend:1", "buyer@example.com", "Your order", "Thanks.")
    assert not mail.send("resend:1", "buyer@example.com", "Your order", "Thanks.")
    first, second = app_env.mails
    assert first["Message-ID"] == second["Message-ID"] == OutboundMail.get(key="resend:1").message_id
    assert len(list((app_env.data_dir / "mail").iterdir())) == 2  # no partial file left behind
    assert OutboundMail.get(key="resend:1").attempts == 2


def test_a_delivery_never_replaces_a_file(app_env, monkeypatch):
    from shop import mail

    monkeypatch.setattr(mail, "delivery_name", lambda key: "taken.eml")
    assert mail.send("taken:1", "buyer@example.com", "First", "One.")
    with pytest.raises(mail.MailError):
        mail.send("taken:2", "buyer@example.com", "Second", "Two.")
    [kept] = app_env.mails
    assert kept["Subject"] == "First"
    assert OutboundMail.get(key="taken:2").sent_at is None and "File exists" in OutboundMail.get(key="taken:2").last_error


def test_an_smtp_resend_has_the_same_message_id(smtp):
    from shop import mail

    inbox = smtp()
    assert mail.send("resend:2", "buyer@example.com", "Your invoice", "Attached.")
    forget_that_it_was_sent("resend:2")
    assert mail.send("resend:2", "buyer@example.com", "Your invoice", "Attached.")
    first, second = inbox.messages
    assert first["Message-ID"] == second["Message-ID"] == OutboundMail.get(key="resend:2").message_id

