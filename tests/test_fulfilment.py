"""process_purchase (the PurchaseCompleted listener) and refunds: what a buyer and the
sellers end up with, and that running anything twice changes nothing."""

import json

from shop.orders import cart
from shop.orders import fulfilment
from shop.orders import orders
from shop.events import PurchaseCompleted
from job_runtime.models import JobRecord
from models import (
    CartItem,
    DownloadLink,
    LedgerEntry,
    Order,
    OrderItem,
    Product,
    Refund,
    SimulatedPayment,
    TransactionItem,
)
from tests.conftest import login
from tests.shop_fixtures import add_to_cart, checkout


def pending_order(customer, products, gateway="test"):
    for product in products:
        cart.add(customer, product.id)
    return orders.create_from_cart(customer, gateway)


def snapshot():
    return (TransactionItem.select().count(), LedgerEntry.select().count(), DownloadLink.select().count(),
            [p.download_count for p in Product.select().order_by(Product.id)])


def test_purchase_completed_runs_process_purchase(make_user, two_sellers, app_env):
    customer = make_user("customer")
    order = pending_order(customer, [two_sellers["presets"], two_sellers["ebook"]])
    assert [job.name for job in PurchaseCompleted.listeners] == ["process_purchase"]
    assert orders.mark_paid(order.id, "pi_test_1")
    assert snapshot() == (2, 2, 2, [1, 1])
    assert cart.count(customer) == 0
    mail = app_env.mails[0]
    assert mail["To"] == customer.email and mail["Subject"] == f"Your order {order.reference} is ready to download"
    body = mail.get_content()
    assert body.count("http://127.0.0.1:8080/download/") == 2 and "Night photography e-book" in body


def test_running_twice_changes_nothing(make_user, two_sellers, app_env):
    customer = make_user("customer")
    order = pending_order(customer, [two_sellers["presets"], two_sellers["ebook"]])
    orders.mark_paid(order.id)
    before = snapshot()
    links = [link.token_hash for link in DownloadLink.select()]
    fulfilment.process_purchase(order.id)
    fulfilment.process_purchase(order.id)
    assert snapshot() == before
    assert [link.token_hash for link in DownloadLink.select()] == links
    assert len(app_env.mails) == 1
    # And the event fires once however often the payment is confirmed.
    assert not orders.mark_paid(order.id)
    assert JobRecord.select().where(JobRecord.name == "process_purchase").count() == 1


def test_only_the_bought_products_leave_the_cart(make_user, two_sellers):
    customer = make_user("customer")
    order = pending_order(customer, [two_sellers["presets"]])
    cart.add(customer, two_sellers["ebook"].id)  # added after checking out
    orders.mark_paid(order.id)
    assert [item.product_id for item in CartItem.select()] == [two_sellers["ebook"].id]


def test_the_snapshot_is_what_gets_booked(make_user, two_sellers):
    customer = make_user("customer")
    order = pending_order(customer, [two_sellers["presets"]])
    Product.update(price=100000).where(Product.id == two_sellers["presets"].id).execute()
    orders.mark_paid(order.id)
    sale = TransactionItem.get()
    assert (sale.amount, sale.platform_fee, sale.seller_amount) == (1500, 150, 1350)
    assert sale.seller_id == two_sellers["sam"].id


def test_nothing_is_fulfilled_for_an_order_refunded_first(make_user, two_sellers):
    customer = make_user("customer")
    order = pending_order(customer, [two_sellers["presets"]])
    assert fulfilment.refund_order(order.id)  # the refund overtook the payment
    assert not orders.mark_paid(order.id)
    assert "nothing to fulfil" in fulfilment.process_purchase(order.id)
    assert snapshot()[:3] == (0, 0, 0)
    assert Refund.get().status == "succeeded"


def test_refund_takes_everything_back(make_user, two_sellers, app_env):
    customer = make_user("customer")
    order = pending_order(customer, [two_sellers["presets"], two_sellers["ebook"]])
    orders.mark_paid(order.id)
    assert fulfilment.refund_order(order.id, "Refunded through Stripe.")
    order = Order.get_by_id(order.id)
    assert order.status == "refunded" and order.refunded_at is not None
    assert DownloadLink.select().where(DownloadLink.revoked_at.is_null()).count() == 0
    assert [e.kind for e in LedgerEntry.select().order_by(LedgerEntry.id)] == ["sale", "sale", "refund", "refund"]
    assert sum(e.amount for e in LedgerEntry.select()) == 0
    refund_mail = next(m for m in app_env.mails if m["Subject"] == f"Your order {order.reference} was refunded")
    assert "$24.99" in refund_mail.get_content()
    # The refund's credit note follows, cancelling the invoice.
    assert app_env.mails[-1]["Subject"].startswith(f"Credit note CN-{order.refunded_at.year}-000001")
    assert not fulfilment.refund_order(order.id)
    assert len(app_env.mails) == 3


def test_admin_refund_in_test_mode_travels_the_webhook_path(client, make_user, two_sellers, live_app, app_env):
    customer = make_user("customer")
    login(client, customer)
    add_to_cart(client, two_sellers["presets"])
    page = checkout(client, "test").follow()
    next(f for f in page.forms.values() if f.action.startswith("/pay/test/")).submit("action", value="pay")
    order = Order.get()
    assert order.status == "paid"
    client.reset()
    login(client, make_user("admin"))
    page = client.get(f"/admin/orders/{order.id}")
    page = next(f for f in page.forms.values() if f.action.endswith("/refund")).submit().follow()
    assert "Refund of order" in page.text
    assert Order.get_by_id(order.id).status == "refunded"
    assert SimulatedPayment.get().status == "refunded" and Refund.get().status == "succeeded"
    assert "charge.refunded" in page.text or "charge.refunded" in client.get(f"/admin/orders/{order.id}").text
    assert sum(e.amount for e in LedgerEntry.select()) == 0
    # A second request is refused with a clear message.
    token = client.get("/admin/orders").forms[1]["csrf_token"].value
    page = client.post(f"/admin/orders/{order.id}/refund", {"csrf_token": token}).follow()
    assert "only paid orders can be refunded" in page.text
    assert Refund.select().count() == 1


def test_only_admins_may_refund(client, make_user, two_sellers):
    customer = make_user("customer")
    order = pending_order(customer, [two_sellers["presets"]])
    orders.mark_paid(order.id)
    login(client, customer)
    token = client.get("/").forms[1]["csrf_token"].value
    assert client.post(f"/admin/orders/{order.id}/refund", {"csrf_token": token}, expect_errors=True).status_int == 403
    assert client.get("/admin/orders", expect_errors=True).status_int == 403
    assert Refund.select().count() == 0 and OrderItem.select().count() == 1


def test_a_purchases_jobs_are_tagged_with_its_order_and_sellers(make_user, two_sellers, capsys):
    from job_runtime.monitoring import search
    from shop import cli

    customer = make_user("customer")
    order = pending_order(customer, [two_sellers["presets"], two_sellers["ebook"]])
    assert orders.mark_paid(order.id, "pi_test_tags")
    sellers = sorted({two_sellers["presets"].seller_id, two_sellers["ebook"].seller_id})
    (purchase,) = JobRecord.select().where(JobRecord.name == "process_purchase")
    assert purchase.tags == [f"order:{order.id}", *(f"seller:{s}" for s in sellers)]
    assert [row["name"] for row in search.search(tag=f"seller:{sellers[0]}")] == ["process_purchase"]
    assert cli.main(["queue", "jobs", "--tag", f"order:{order.id}", "--name", "process_purchase", "--json"]) == 0
    assert [row["uuid"] for row in json.loads(capsys.readouterr().out)] == [purchase.uuid]
