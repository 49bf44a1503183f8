"""The notices the shop sends on its own: a seller hears of their sales (in the app and by
email, a burst of sales as one notice), an admin hears of each product submitted for
review; each a job whose retries tell nothing twice."""

import pytest

from job_runtime import runner
from shop.accounts import notifications
from shop.catalog import review_notices
from shop.orders import cart
from shop.orders import orders
from shop.orders import sale_notices
import tasks
from job_runtime.models import JobRecord
from models import Notification, OutboundMail, Product, TransactionItem, utcnow
from tests.catalog_helpers import make_product as make_listed_product
from tests.conftest import login
from tests.shop_fixtures import make_product


def buy(customer, *products):
    for product in products:
        cart.add(customer, product.id)
    order = orders.create_from_cart(customer, "test")
    orders.mark_paid(order.id)
    return order


def sale_jobs():
    return list(JobRecord.select().where(JobRecord.name == "notify_seller_of_sales").order_by(JobRecord.id))


def run_now(record):
    """Let the job's delay (or backoff) pass, then run the attempt the consumer would run."""
    JobRecord.update(available_at=utcnow()).where(JobRecord.uuid == record.uuid).execute()
    runner.execute(record.uuid)
    return JobRecord.get_by_id(record.id)


def sales_notices(seller):
    return list(Notification.select().where((Notification.user == seller)
                                            & (Notification.type == sale_notices.SALES)))


@pytest.fixture
def shop(make_user):
    seller, other_seller = make_user("seller", name="Sam Seller"), make_user("seller", name="Olga Other")
    products = [make_product(seller, f"Pack {n}", 1000 + n * 100) for n in range(3)]
    return seller, other_seller, products, make_product(other_seller, "Other pack", 500)


# ---------------------------------------------------------------------------
# A seller hears of their sales
# ---------------------------------------------------------------------------


def test_a_sale_asks_for_one_delayed_notice_per_seller(shop, make_user, app_env):
    seller, other_seller, products, other = shop
    buy(make_user("customer"), products[0], other)
    jobs = sale_jobs()
    assert sorted(job.state for job in jobs) == ["pending", "pending"]  # a minute late, to gather a burst
    assert all(job.available_at > utcnow() for job in jobs)
    for job in jobs:
        assert run_now(job).state == "completed"
    [notice] = sales_notices(seller)
    assert notice.data["count"] == 1 and notice.data["titles"] == ["Pack 0"]
    assert len(sales_notices(other_seller)) == 1
    mail = next(m for m in app_env.mails if m["To"] == seller.email)
    assert "You made 1 sale" in mail["Subject"] and "Pack 0" in mail.get_content()
    assert "/seller/reports" in mail.get_content()


def test_sales_that_come_fast_are_one_notice(shop, make_user, app_env):
    seller, _, products, _ = shop
    for product in products:
        buy(make_user("customer"), product)
    # Three sales, one job: the others found it queued (unique per seller for five minutes).
    [job] = sale_jobs()
    assert run_now(job).state == "completed"
    [notice] = sales_notices(seller)
    assert notice.data["count"] == 3 and notice.data["titles"] == ["Pack 0", "Pack 1", "Pack 2"]
    assert notice.data["sale_ids"] == [s.id for s in TransactionItem.select().order_by(TransactionItem.id)]
    assert len([m for m in app_env.mails if m["To"] == seller.email]) == 1
    # The next sale is the next notice, and tells only itself.
    buy(make_user("customer"), products[0])
    run_now(sale_jobs()[-1])
    newest = max(sales_notices(seller), key=lambda n: n.id)
    assert newest.data["count"] == 1 and len(sales_notices(seller)) == 2


def test_a_notice_run_again_tells_nothing_twice(shop, make_user, app_env):
    seller, _, products, _ = shop
    buy(make_user("customer"), products[0])
    run_now(sale_jobs()[0])
    assert sale_notices.notify(seller.id) == 0
    tasks.notify_seller_of_sales.run_now(seller.id)
    assert len(sales_notices(seller)) == 1
    assert len([m for m in app_env.mails if m["To"] == seller.email]) == 1


def test_mail_server_down_then_back_sends_the_same_batch_once(smtp, shop, make_user):
    seller, _, products, _ = shop
    buy(make_user("customer"), products[0])
    record = run_now(sale_jobs()[0])  # no SMTP server listens yet
    assert record.state == "pending" and "MailError" in record.last_error
    assert len(sales_notices(seller)) == 1  # the app's notice did not wait for the mail server
    # A sale lands before the retry: it is not in this batch, so nothing is told twice or lost.
    buy(make_user("customer"), products[1])
    inbox = smtp()
    assert run_now(record).state == "completed"
    [message] = [m for m in inbox.messages if m["To"] == seller.email]
    assert "You made 1 sale" in message["Subject"] and "Pack 0" in message.get_content()
    assert len(sales_notices(seller)) == 1
    # The later sale is told by the next notice: the sweep asks for it when no new sale does.
    assert sale_notices.sweep() == [seller.id]
    tasks.sweep_sale_notices.run_now()
    run_now(sale_jobs()[-1])
    inbox_seller = [m for m in inbox.messages if m["To"] == seller.email]
    assert len(inbox_seller) == 2 and "Pack 1" in inbox_seller[1].get_content()
    assert sale_notices.sweep() == []
    assert OutboundMail.select().where(OutboundMail.to == seller.email).count() == 2


def test_the_notice_is_on_the_sellers_notifications_page(client, shop, make_user):
    seller, _, products, _ = shop
    buy(make_user("customer"), products[0], products[1])
    run_now(sale_jobs()[0])
    login(client, seller)
    page = client.get("/notifications")
    assert "You made 2 sales" in page.text and 'href="/seller/reports"' in page.text


# ---------------------------------------------------------------------------
# An admin hears of each product submitted for review
# ---------------------------------------------------------------------------


def product_form(page):
    return next(f for f in page.forms.values() if (f.action or "").startswith("/seller/products"))


def test_a_submitted_product_tells_every_admin(client, make_user, app_env):
    admins = [make_user("admin"), make_user("admin")]
    seller = make_user("seller", name="Sam Seller")
    login(client, seller)
    form = product_form(client.get("/seller/products/new"))
    form["title"] = "Lo-fi drum kit"
    form["description"] = "Forty dusty drum loops for lo-fi beats, in WAV."
    form["price"] = "12.00"
    form["file"] = ("kit.zip", b"PK\x03\x04 drums" * 100)
    assert form.submit().status_int == 303
    product = Product.get(Product.title == "Lo-fi drum kit")
    for admin in admins:
        [notice] = Notification.select().where(Notification.user == admin)
        assert notice.type == review_notices.PRODUCT_SUBMITTED and notice.data["product_id"] == product.id
        headline, _, path = notifications.describe(notice)
        assert "Lo-fi drum kit" in headline and "Sam Seller" in headline and path == "/admin/products"
        mail = next(m for m in app_env.mails if m["To"] == admin.email)
        assert "For review" in mail["Subject"] and "/admin/products" in mail.get_content()
    [job] = JobRecord.select().where(JobRecord.name == "notify_admins_of_submission")
    assert job.state == "completed"
    # Run again (a duplicate doorbell, a manual retry): no second row, no second email.
    tasks.notify_admins_of_submission.run_now(*job_arguments(job))
    assert Notification.select().count() == 2 and len(app_env.mails) == 2


def job_arguments(job):
    """(product id, submitted at) of the submission notice's job, read back from its keys."""
    _, product_id, *stamp, _ = Notification.select().first().key.split(":")
    return int(product_id), ":".join(stamp)


def test_a_rejected_product_edited_is_submitted_again(make_user, app_env):
    admin = make_user("admin")
    product = make_listed_product(make_user("seller"), title="Icon Pack")
    Product.update(status="pending").where(Product.id == product.id).execute()
    assert review_notices.notify(product.id, "first") == 1
    assert review_notices.notify(product.id, "first") == 1  # a retry: the same keys
    assert review_notices.notify(product.id, "second") == 1  # submitted again: a new notice
    assert Notification.select().where(Notification.user == admin).count() == 2
    assert len([m for m in app_env.mails if m["To"] == admin.email]) == 2


def test_no_notice_once_the_product_was_decided(make_user, app_env):
    make_user("admin")
    product = make_listed_product(make_user("seller"), title="Icon Pack")
    Product.update(status="approved").where(Product.id == product.id).execute()
    assert review_notices.notify(product.id, "late") == 0 and Notification.select().count() == 0
