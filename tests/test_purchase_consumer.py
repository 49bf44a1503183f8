"""The whole path with a real `huey_consumer tasks.huey` process: webhook -> process_webhook ->
PurchaseCompleted -> process_purchase -> download links, and the chain's invoice and email;
then a refund that takes it all back. Immediate mode would hide ordering and the
cross-process handoffs; here every job runs in the consumer."""

import time

import pytest

from job_runtime.models import FailedJob
from models import DownloadLink, Invoice, LedgerEntry, LicenseKey, Order
from tests.conftest import login, wait_for
from tests.shop_fixtures import add_to_cart, checkout, make_product, post_stripe_event, session_event

pytestmark = [pytest.mark.consumer, pytest.mark.slow]


def ready(client, order):
    return client.get(f"/orders/{order.id}/status.json").json["state"] == "ready"


def invoice_mailed(app_env, order):
    return any(m["Subject"].startswith("Invoice INV-") and order.reference in m["Subject"] for m in app_env.mails)


def test_stripe_webhook_to_links_and_invoice_with_a_consumer(consumer, client, make_user, two_sellers, stripe_api,
                                                              app_env):
    process = consumer(workers=4)
    login(client, make_user("customer"))
    add_to_cart(client, two_sellers["presets"])
    add_to_cart(client, two_sellers["ebook"])
    checkout(client, "stripe")
    order = Order.get()
    session = stripe_api.complete(order.gateway_ref)
    started = time.perf_counter()
    response = post_stripe_event(client, session_event("checkout_session_completed", order, session))
    answered = time.perf_counter()
    assert response.status_int == 200
    wait_for(lambda: ready(client, order), timeout=60, message="the download links")
    linked = time.perf_counter()
    wait_for(lambda: invoice_mailed(app_env, order), timeout=60, message="the invoice email")
    mailed = time.perf_counter()
    print(f"\nStripe webhook answered in {(answered - started) * 1000:.1f} ms; download links after "
          f"{(linked - started) * 1000:.0f} ms; invoice mailed after {(mailed - started) * 1000:.0f} ms")
    assert Order.get_by_id(order.id).status == "paid"
    assert DownloadLink.select().count() == 2 and LedgerEntry.select().count() == 2
    assert Invoice.get().pdf_path and FailedJob.select().count() == 0, process.output()
    link = client.get(f"/orders/{order.id}/status.json").json["links"][0]
    assert client.get(link["url"]).status_int == 200


def test_test_mode_purchase_and_refund_with_a_consumer(consumer, client, make_user, two_sellers, live_app, app_env):
    process = consumer(workers=4)
    customer = make_user("customer")
    login(client, customer)
    add_to_cart(client, two_sellers["presets"])
    add_to_cart(client, two_sellers["ebook"])
    page = checkout(client, "test").follow()
    form = next(f for f in page.forms.values() if f.action.startswith("/pay/test/"))
    started = time.perf_counter()
    page = form.submit("action", value="pay").follow()
    assert "Processing your payment" in page.text  # the consumer, not the request, does the work
    order = Order.get()
    wait_for(lambda: ready(client, order), timeout=60, message="the download links")
    print(f"\nTest-mode Pay click to download links: {(time.perf_counter() - started) * 1000:.0f} ms")
    wait_for(lambda: invoice_mailed(app_env, order), timeout=60, message="the invoice email")
    links = client.get(f"/orders/{order.id}/status.json").json["links"]

    # Another customer can neither download nor fetch the invoice.
    client.reset()
    login(client, make_user("customer"))
    assert client.get(links[0]["url"], expect_errors=True).status_int == 403
    assert client.get(f"/orders/{order.id}/invoice", expect_errors=True).status_int == 403

    # The admin refunds: the gateway's charge.refunded event travels back through the consumer.
    client.reset()
    login(client, make_user("admin"))
    page = client.get(f"/admin/orders/{order.id}")
    next(f for f in page.forms.values() if f.action.endswith("/refund")).submit()
    wait_for(lambda: Order.get_by_id(order.id).status == "refunded", timeout=60, message="the refund")
    wait_for(lambda: any(m["Subject"].endswith("was refunded") for m in app_env.mails), timeout=60,
             message="the refund email")
    assert sum(entry.amount for entry in LedgerEntry.select()) == 0
    client.reset()
    login(client, customer)
    response = client.get(links[0]["url"], expect_errors=True)
    assert response.status_int == 410 and "refunded" in response.text
    assert FailedJob.select().count() == 0, process.output()


def test_a_free_order_is_fulfilled_and_invoiced_by_a_consumer(consumer, client, make_user, app_env):
    process = consumer(workers=2)
    product = make_product(make_user("seller"), "Free sample pack", 500)
    product.min_price, product.license_activations = 0, 1
    product.save()
    login(client, make_user("customer"))
    page = client.get(f"/products/{product.slug}")
    form = next(f for f in page.forms.values() if f.action == "/cart/add")
    form["chosen_price"] = "0"
    form.submit()
    page = client.get("/checkout")
    form = next(f for f in page.forms.values() if f.action == "/checkout")
    form["country"] = "US"
    response = form.submit()
    order = Order.get()
    assert (order.status, order.gateway, order.total) == ("paid", "free", 0)
    assert response.headers["Location"].endswith(f"/orders/{order.id}/success")
    # No gateway and no webhook: the consumer's jobs fulfil and invoice it, as for a paid order.
    wait_for(lambda: ready(client, order), timeout=60, message="the download link")
    wait_for(lambda: invoice_mailed(app_env, order), timeout=60, message="the invoice email")
    assert LedgerEntry.get().gross == 0 and LicenseKey.select().count() == 1
    assert FailedJob.select().count() == 0, process.output()
