"""Product updates: a seller's news of a product reaches every past buyer once, by email and
in their notifications, through a batch whose progress the seller sees; an update written
while the product waits for review goes out when it is approved."""

import pytest

import tasks
from job_runtime.models import Batch
from models import Notification, Product, ProductUpdate, UpdateDelivery
from shop.catalog import updates
from shop.orders import cart, orders
from tests.catalog_helpers import form_for
from tests.conftest import login, wait_for
from tests.shop_fixtures import make_product


def bought_by(product, customers):
    for customer in customers:
        cart.add(customer, product.id)
        orders.mark_paid(orders.create_from_cart(customer, "test").id)


def update_mails(app_env, product):
    return [m for m in app_env.mails if m["Subject"] == f"Update to “{product.title}”"]


def updates_in_library(client, product):
    """What a buyer of `product` would see of its updates on their Purchases page."""
    from shop.catalog import updates as product_updates

    return " ".join(u.message for u in product_updates.sent_for_products([product.id]).get(product.id, []))


def write_update(client, product, message):
    page = client.get(f"/seller/products/{product.id}/edit")
    form = form_for(page, f"/seller/products/{product.id}/updates")
    form["message"] = message
    return form.submit(expect_errors=True)


def test_every_past_buyer_hears_once_and_the_seller_sees_the_progress(client, login_as, make_user, app_env):
    seller = login_as("seller")
    product = make_product(seller, "Synth presets")
    buyers = [make_user("customer") for _ in range(3)]
    bought_by(product, buyers)
    refunded = make_user("customer")
    bought_by(product, [refunded])
    from shop.orders import fulfilment
    fulfilment.refund_order(orders.of_buyer(refunded)[0].id)
    write_update(client, product, "Version 2: forty new patches.").follow()
    update = ProductUpdate.get()
    assert update.recipients == 3 and Batch.get_by_id(update.batch_id).pending_jobs == 0
    mails = update_mails(app_env, product)
    assert sorted(m["To"] for m in mails) == sorted(b.email for b in buyers)
    assert "Version 2: forty new patches." in mails[0].get_content()
    assert Notification.select().where(Notification.type == updates.TYPE).count() == 3
    page = client.get(f"/seller/products/{product.id}/edit")
    assert "3 of 3 buyers · 100%" in page.text
    # Run again (a retried batch): no buyer hears twice.
    tasks.start_product_update.dispatch(update.id)
    for buyer in buyers:
        tasks.deliver_product_update.dispatch(update.id, buyer.id)
    assert len(update_mails(app_env, product)) == 3 and UpdateDelivery.select().count() == 3
    # Each buyer's library shows the update beside the item.
    client.reset()
    login(client, buyers[0])
    assert "Version 2: forty new patches." in client.get("/purchases").text


def test_an_update_waits_for_the_approval_of_the_new_version(client, login_as, make_user, app_env):
    seller = login_as("seller")
    product = make_product(seller, "Synth presets")
    bought_by(product, [make_user("customer")])
    Product.update(status="pending").where(Product.id == product.id).execute()
    assert "once the product is approved" in write_update(client, product, "New version.").follow().text
    assert ProductUpdate.get().batch_id is None and update_mails(app_env, product) == []
    tasks.start_product_update.dispatch(ProductUpdate.get().id)  # a start before approval does nothing
    assert ProductUpdate.get().batch_id is None and update_mails(app_env, product) == []
    assert "New version." not in updates_in_library(client, product)  # not news until approved
    client.reset()
    login_as("admin")
    page = client.get("/admin/products")
    form_for(page, f"/admin/products/{product.id}/approve").submit().follow()
    assert len(update_mails(app_env, product)) == 1 and ProductUpdate.get().recipients == 1


def test_an_empty_update_is_a_form_error(client, login_as):
    product = make_product(login_as("seller"), "Synth presets")
    response = write_update(client, product, "   ")
    assert response.status_int == 400 and "Write what is new" in response.text
    assert ProductUpdate.select().count() == 0


@pytest.mark.consumer
def test_a_batch_killed_halfway_still_mails_every_buyer_exactly_once(consumer, make_user, app_env):
    # 4 mails per 2-second window: 14 buyers take four windows, time enough to kill it midway.
    env = {"PRODUCT_UPDATE_MAILS": "4", "PRODUCT_UPDATE_MAIL_WINDOW_SECONDS": "2"}
    product = make_product(make_user("seller"), "Synth presets")
    buyers = [make_user("customer") for _ in range(14)]
    bought_by(product, buyers)
    first = consumer(workers=2, env=env)
    update = updates.write(product, "Version 2.")
    tasks.start_product_update.dispatch(update.id)
    wait_for(lambda: 4 <= UpdateDelivery.select().where(UpdateDelivery.delivered_at.is_null(False)).count() < 14,
             timeout=60, message="some of the buyers to be mailed")
    first.kill()
    delivered = UpdateDelivery.select().where(UpdateDelivery.delivered_at.is_null(False)).count()
    assert delivered < 14, "the batch finished before the kill"
    consumer(workers=2, env=env)
    wait_for(lambda: UpdateDelivery.select().where(UpdateDelivery.delivered_at.is_null(False)).count() == 14,
             timeout=120, message="every buyer to be mailed")
    wait_for(lambda: len(update_mails(app_env, product)) >= 14, timeout=30, message="the mail files")
    assert sorted(m["To"] for m in update_mails(app_env, product)) == sorted(b.email for b in buyers)
    assert UpdateDelivery.select().count() == 14
