"""The catalog's jobs in a real consumer: a seller's upload gets its thumbnails and a
moderation decision reaches the seller on both channels, with `huey_consumer tasks.huey -w 2`."""

import pytest
from webtest import Upload

from job_runtime.models import FailedJob, JobRecord
from models import Notification, Product, ProductPreview
from tests.catalog_helpers import form_for, jpeg_bytes, media_files
from tests.conftest import login, wait_for

pytestmark = pytest.mark.consumer


def test_upload_and_moderation_run_in_the_consumer(consumer, client, make_user, app_env):
    consumer(workers=2)
    seller = make_user("seller", name="Sam Seller")
    login(client, seller)
    form = form_for(client.get("/seller/products/new"), "/seller/products")
    form["title"], form["description"], form["price"] = "Desk Calendar", "Twelve printable pages.", "6"
    form["file"] = Upload("calendar.pdf", b"%PDF-1.4 calendar")
    form["thumbnail"] = Upload("cover.jpg", jpeg_bytes(orientation=6))
    form.submit()

    product = Product.get()
    # The web request only recorded the job; the consumer makes the thumbnails.
    wait_for(lambda: Product.get_by_id(product.id).thumbnail_state == "ready", timeout=60,
             message="the thumbnail job")
    product = Product.get_by_id(product.id)
    assert len(media_files()) == 3 and sorted(product.thumbnails, key=int) == ["160", "480", "960"]
    row = client.get("/seller/products").html.select_one("table.seller-products tbody tr")
    assert row.select_one("img.row-thumb")["src"] == product.thumbnail_url(160)

    client.reset()
    login(client, make_user("admin"))
    form_for(client.get("/admin/products"), f"/admin/products/{product.id}/approve").submit()
    wait_for(lambda: Notification.select().exists() and app_env.mails, timeout=60,
             message="the notification job")
    notification = Notification.get()
    assert notification.user_id == seller.id and notification.type == "product_approved"
    [message] = app_env.mails
    assert message["To"] == seller.email and "Desk Calendar" in message["Subject"]
    # The submission's notice to the admins ran too (there was no admin yet to tell), and the
    # preview job, which finds this "PDF" cannot be drawn and says so without failing.
    wait_for(lambda: JobRecord.select().where(JobRecord.state == "completed").count() == 4,
             message="the four jobs to be recorded as completed")
    assert {r.name for r in JobRecord.select()} == {"process_file_upload", "notify_admins_of_submission",
                                                    "notify_product_approved", "process_product_preview"}
    assert ProductPreview.get().state == "failed" and "could not be drawn" in ProductPreview.get().error
    assert FailedJob.select().count() == 0

    client.reset()
    login(client, seller)
    page = client.get("/notifications")
    assert "“Desk Calendar” was approved and is now on sale." in page.text
