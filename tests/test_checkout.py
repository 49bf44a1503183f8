"""Checkout: the order snapshot, one order per cart however often it is submitted, the
test-mode gateway's page (Pay and Decline over the real webhook path), the order page."""

import json

from shop import config
from models import CartItem, DownloadLink, Order, OrderItem, SimulatedPayment, TransactionItem, WebhookEvent, utcnow
from tests.conftest import login
from tests.shop_fixtures import add_to_cart, checkout, checkout_form, make_product


def fill_cart(client, make_user, products):
    customer = make_user("customer")
    login(client, customer)
    for product in products:
        add_to_cart(client, product)
    return customer


def test_checkout_snapshots_prices_and_sellers(client, make_user, two_sellers):
    customer = fill_cart(client, make_user, [two_sellers["presets"], two_sellers["ebook"]])
    response = checkout(client, "test")
    assert response.status_int == 303
    order = Order.get()
    assert response.headers["Location"].endswith(f"/pay/test/{order.id}")
    assert (order.status, order.gateway, order.total, order.currency, order.buyer_id) == (
        "pending", "test", 2499, "USD", customer.id)
    # The seller raises the price afterwards: what the customer agreed to pay does not move.
    two_sellers["presets"].price = 9900
    two_sellers["presets"].save()
    items = {item.title: item for item in OrderItem.select()}
    assert items["Field recorder presets"].price == 1500
    assert items["Field recorder presets"].seller_id == two_sellers["sam"].id
    assert items["Night photography e-book"].seller_id == two_sellers["priya"].id


def test_submitting_checkout_twice_makes_one_order(client, make_user, two_sellers):
    fill_cart(client, make_user, [two_sellers["presets"]])
    page = client.get("/checkout")
    form = next(f for f in page.forms.values() if f.action == "/checkout")
    form["gateway"] = "test"
    form["country"] = "US"
    first, second = form.submit(), form.submit()
    assert first.headers["Location"] == second.headers["Location"]
    assert Order.select().count() == 1


def test_checkout_needs_a_payment_method(client, make_user, two_sellers):
    fill_cart(client, make_user, [two_sellers["presets"]])
    page = client.get("/checkout")
    form = next(f for f in page.forms.values() if f.action == "/checkout")
    response = client.post("/checkout", {"csrf_token": form["csrf_token"].value, "gateway": "bitcoin", "country": "US"},
                           expect_errors=True)
    assert response.status_int == 400
    assert "Choose a payment method." in response.text
    assert Order.select().count() == 0


def test_mixed_currencies_are_refused_with_a_reason(client, make_user):
    seller = make_user("seller")
    fill_cart(client, make_user, [make_product(seller, "Dollar item", 500, "USD"),
                                  make_product(seller, "Euro item", 500, "EUR")])
    assert "mixes currencies" in client.get("/cart").text
    response = checkout(client, "test")
    assert response.status_int == 400
    assert "different currencies" in response.text
    assert Order.select().count() == 0


def test_empty_cart_goes_back_to_the_cart(client, login_as):
    login_as("customer")
    response = client.get("/checkout")
    assert response.status_int == 303 and response.headers["Location"].endswith("/cart")


def test_test_payment_page_is_clearly_marked(client, make_user, two_sellers):
    fill_cart(client, make_user, [two_sellers["presets"]])
    page = checkout(client, "test").follow()
    assert "Test mode · no money moves" in page.text
    assert "Simulated payment" in page.text and "$15.00" in page.text
    assert 'name="action" value="pay"' in page.text and 'name="action" value="decline"' in page.text


def pay(client, decision="pay"):
    page = checkout(client, "test").follow()
    form = next(f for f in page.forms.values() if f.action.startswith("/pay/test/"))
    return form.submit("action", value=decision)


def test_pay_runs_the_webhook_path_to_links_and_invoice(client, make_user, two_sellers, live_app, app_env):
    customer = fill_cart(client, make_user, [two_sellers["presets"], two_sellers["ebook"]])
    response = pay(client)
    order = Order.get()
    assert response.headers["Location"].endswith(f"/orders/{order.id}/success")
    event = WebhookEvent.get()
    assert (event.gateway, event.event_type, event.outcome) == ("test", "checkout.session.completed", "paid")
    status = client.get(f"/orders/{order.id}/status.json").json
    assert status["state"] == "ready" and status["done"]
    assert status["cart_count"] == 0  # for the open page's header
    assert [link["title"] for link in status["links"]] == ["Field recorder presets", "Night photography e-book"]
    assert status["invoice_ready"]
    page = response.follow()
    assert "Your downloads are ready" in page.text and page.text.count(">Download<") == 2
    subjects = [mail["Subject"] for mail in app_env.mails]
    assert f"Your order {order.reference} is ready to download" in subjects
    assert any(subject.startswith(f"Invoice INV-{utcnow().year}-000001") for subject in subjects)
    assert "Cart (" not in client.get("/").text  # the bought products left the cart
    assert DownloadLink.select().where(DownloadLink.buyer == customer).count() == 2


def test_decline_fails_the_order_and_keeps_the_cart(client, make_user, two_sellers, live_app, app_env):
    fill_cart(client, make_user, [two_sellers["presets"]])
    page = pay(client, "decline").follow()
    order = Order.get()
    assert order.status == "failed"
    assert "Payment declined" in page.text and "The test payment was declined." in page.text
    assert DownloadLink.select().count() == 0 and app_env.mails == []
    assert "Cart (1)" in client.get("/").text


def test_a_second_click_changes_nothing(client, make_user, two_sellers, live_app):
    fill_cart(client, make_user, [two_sellers["presets"]])
    pay(client)
    order = Order.get()
    token = client.get("/").forms[1]["csrf_token"].value
    client.post(f"/pay/test/{order.id}", {"action": "decline", "csrf_token": token})
    assert Order.get().status == "paid"
    assert SimulatedPayment.get().status == "succeeded"
    assert WebhookEvent.select().count() == 1


def test_an_owned_product_cannot_be_bought_again(client, make_user, two_sellers, live_app):
    fill_cart(client, make_user, [two_sellers["presets"]])
    pay(client)
    # The product page no longer offers the cart; a form posted from an old page is refused.
    token = client.get("/").forms[1]["csrf_token"].value
    page = client.post("/cart/add", {"product_id": two_sellers["presets"].id, "csrf_token": token}).follow()
    assert "You already own this product" in page.text


def test_order_page_is_only_for_its_buyer_and_admins(client, make_user, two_sellers):
    fill_cart(client, make_user, [two_sellers["presets"]])
    checkout(client, "test")
    order = Order.get()
    client.reset()
    login(client, make_user("customer"))
    for path in (f"/orders/{order.id}/success", f"/orders/{order.id}/status.json", f"/pay/test/{order.id}"):
        response = client.get(path, expect_errors=True)
        assert response.status_int == 403, path
    client.reset()
    login(client, make_user("admin"))
    assert "Processing your payment" in client.get(f"/orders/{order.id}/success").text


def test_order_page_polls_with_our_own_script(client, make_user, two_sellers):
    fill_cart(client, make_user, [two_sellers["presets"]])
    checkout(client, "test")
    order = Order.get()
    page = client.get(f"/orders/{order.id}/success")
    assert '<script src="/static/order_status.js" defer></script>' in page.text
    assert f'data-status-url="/orders/{order.id}/status.json"' in page.text
    assert json.loads(client.get(f"/orders/{order.id}/status.json").text)["state"] == "pending"
    assert client.get("/static/order_status.js").status_int == 200


def test_no_test_gateway_in_production(client, make_user, two_sellers, app_env):
    fill_cart(client, make_user, [two_sellers["presets"]])
    checkout(client, "test")
    order = Order.get()
    app_env.reload(APP_ENV="production")
    assert config.TEST_PAYMENTS_ENABLED is False
    assert client.get(f"/pay/test/{order.id}", expect_errors=True).status_int == 404
    assert client.post("/webhooks/test", b"{}", expect_errors=True).status_int == 404
    add_to_cart(client, two_sellers["ebook"])  # the order took the first product out of the cart
    page = client.get("/checkout")
    assert "Test payment" not in page.text and "No payment method can take this currency" in page.text
    assert "Test mode" not in page.text


# ---------------------------------------------------------------------------
# Nothing bought twice: the order takes its products, a pending one is reused
# ---------------------------------------------------------------------------


def test_checking_out_the_cart_as_shown_again_after_paying_buys_nothing_twice(client, make_user, two_sellers,
                                                                                live_app):
    fill_cart(client, make_user, [two_sellers["presets"]])
    shown = checkout_form(client, "test")  # the checkout page as it stood before paying
    pay_page = shown.submit().follow()
    order = Order.get()
    assert CartItem.select().count() == 0  # the order took the product out of the cart
    # At once, before the payment: the same page submitted again is the same order.
    assert shown.submit().headers["Location"].endswith(f"/pay/test/{order.id}")
    form = next(f for f in pay_page.forms.values() if f.action.startswith("/pay/test/"))
    form.submit("action", value="pay")
    again = shown.submit(expect_errors=True)
    assert again.status_int == 400 and "Your cart is empty" in again.text and Order.select().count() == 1
    assert TransactionItem.select().count() == 1 and DownloadLink.select().count() == 1


def test_a_product_in_a_pending_order_cannot_be_added_again(client, make_user, two_sellers):
    fill_cart(client, make_user, [two_sellers["presets"]])
    checkout(client, "test")
    order = Order.get()
    page = add_to_cart(client, two_sellers["presets"]).follow()
    assert f"This product is in your order {order.reference}, which is waiting for its payment" in page.text
    assert CartItem.select().count() == 0


def test_concurrent_checkouts_of_one_cart_make_one_order(make_user, two_sellers, app_env):
    import threading

    from shop.orders import cart, orders
    from models import db

    customer = make_user("customer")
    cart.add(customer, two_sellers["presets"].id)
    cart.add(customer, two_sellers["ebook"].id)
    barrier, made, errors = threading.Barrier(6), [], []

    def submit():
        try:
            barrier.wait()
            made.append(orders.create_from_cart(customer, "test").id)
        except Exception as exc:  # noqa: BLE001  (reported below)
            errors.append(exc)
        finally:
            db.close()

    threads = [threading.Thread(target=submit) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == [] and len(set(made)) == 1 and len(made) == 6
    assert Order.select().count() == 1 and OrderItem.select().count() == 2 and cart.count(customer) == 0


def test_a_declined_order_gives_its_products_back_and_leaves_purchases(client, make_user, two_sellers, live_app):
    fill_cart(client, make_user, [two_sellers["presets"]])
    pay(client, "decline")
    assert Order.get().status == "failed"
    assert "Cart (1)" in client.get("/").text
    page = client.get("/purchases")
    assert Order.get().reference not in page.text and "waiting for the payment" not in page.text.lower()
    checkout(client, "test")  # and it can be bought in a new order
    assert Order.select().count() == 2


def test_an_owned_product_says_so_instead_of_add_to_cart(client, make_user, two_sellers, live_app):
    fill_cart(client, make_user, [two_sellers["presets"]])
    pay(client)
    product = two_sellers["presets"]
    page = client.get(f"/products/{product.slug}")
    assert "In your library" in page.text and 'href="/purchases"' in page.text
    assert f'name="product_id" value="{product.id}"' not in page.text
    catalog = client.get("/")
    assert "Owned" in catalog.text


def test_a_pending_test_order_can_be_cancelled_and_its_products_return(client, make_user, two_sellers):
    fill_cart(client, make_user, [two_sellers["presets"]])
    checkout(client, "test")
    order = Order.get()
    page = client.get(f"/orders/{order.id}/success")
    form = next(f for f in page.forms.values() if f.action == f"/orders/{order.id}/cancel")
    cart_page = form.submit().follow()
    assert f"Order {order.reference} was cancelled" in cart_page.text and "Field recorder presets" in cart_page.text
    assert Order.get().status == "expired" and CartItem.select().count() == 1
    assert client.get(f"/pay/test/{order.id}").status_int == 303  # its payment page no longer pays it
    assert order.reference not in client.get("/purchases").text


def test_an_order_never_takes_a_reference_already_used(client, make_user, two_sellers, monkeypatch):
    import secrets

    fill_cart(client, make_user, [two_sellers["presets"]])
    checkout(client, "test")
    taken = Order.get().reference
    add_to_cart(client, two_sellers["ebook"])  # the same customer's second order
    drawn, real = iter([taken[3:].lower(), "00c0ffee00"]), secrets.token_hex  # the first draw meets it
    monkeypatch.setattr(secrets, "token_hex", lambda size: next(drawn) if size == 5 else real(size))
    response = checkout(client, "test")
    assert response.status_int == 303
    assert sorted(order.reference for order in Order.select()) == sorted([taken, "MP-00C0FFEE00"])
