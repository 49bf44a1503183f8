"""Pay what you want: the seller sets a minimum (zero allowed) and a suggested price, the
customer names a price on the product page, and a free order skips the gateway and is
fulfilled by the same jobs as any paid one."""

from models import CartItem, DownloadLink, Invoice, LedgerEntry, LicenseKey, Order, OrderItem, WebhookEvent
from tests.conftest import login
from tests.shop_fixtures import checkout_form, make_product


def pwyw_product(make_user, minimum, suggested, **options):
    product = make_product(make_user("seller"), "Field recordings", suggested)
    product.min_price = minimum
    for name, value in options.items():
        setattr(product, name, value)
    product.save()
    return product


def name_price(client, product, text):
    page = client.get(f"/products/{product.slug}")
    form = next(f for f in page.forms.values() if f.action == "/cart/add")
    form["chosen_price"] = text
    return form.submit().follow()


def test_the_customer_names_a_price_at_least_the_minimum(client, make_user, live_app):
    product = pwyw_product(make_user, 300, 800)
    login(client, make_user("customer"))
    page = client.get(f"/products/{product.slug}")
    assert "From $3.00" in page.text and "Suggested: $8.00" in page.text and 'value="8.00"' in page.text
    assert "Name a price of at least $3.00." in name_price(client, product, "2.99").text
    assert CartItem.select().count() == 0
    cart = name_price(client, product, "12.50")
    assert "$12.50 (your price)" in cart.text
    # Naming another price changes it in the cart.
    assert "$4.00 (your price)" in name_price(client, product, "4").text
    page = checkout_form(client, "test").submit().follow()
    next(f for f in page.forms.values() if f.action.startswith("/pay/test/")).submit("action", value="pay")
    order = Order.get()
    assert (order.status, order.total) == ("paid", 400)
    item = OrderItem.get()
    assert (item.list_price, item.discount, item.price) == (400, 0, 400)
    assert sum(entry.amount + entry.fee for entry in LedgerEntry.select()) == 400


def test_a_free_product_skips_the_gateway_and_is_fulfilled_by_the_jobs(client, make_user, app_env):
    product = pwyw_product(make_user, 0, 500, license_activations=2)
    customer = make_user("customer")
    login(client, customer)
    assert "Free, or pay what you want" in client.get(f"/products/{product.slug}").text
    name_price(client, product, "0")
    page = client.get("/checkout")
    assert "Get it free" in page.text and "Test payment" not in page.text
    form = next(f for f in page.forms.values() if f.action == "/checkout")
    form["country"] = "US"
    response = form.submit()
    order = Order.get()
    assert response.headers["Location"].endswith(f"/orders/{order.id}/success")
    assert (order.status, order.gateway, order.total, order.payment_ref) == ("paid", "free", 0, None)
    assert WebhookEvent.select().count() == 0
    # The jobs of any paid order: sale, ledger, link, licence key, receipt, invoice.
    assert LedgerEntry.get().gross == 0 and DownloadLink.select().count() == 1
    key = LicenseKey.get()
    assert (key.buyer_id, key.activation_limit) == (customer.id, 2)
    receipt = next(m for m in app_env.mails if m["Subject"] == f"Your order {order.reference} is ready to download")
    assert "It was free" in receipt.get_content() and key.key in receipt.get_content()
    assert Invoice.select().count() == 1
    status = client.get(f"/orders/{order.id}/status.json").json
    assert status["state"] == "ready" and status["links"][0]["license_key"] == key.key
    assert key.key in client.get(f"/orders/{order.id}/success").text
    library = client.get("/purchases")
    assert key.key in library.text and ">Download<" in library.text
    assert "Cart (" not in client.get("/").text


def test_a_paid_product_cannot_be_checked_out_as_free(client, make_user):
    product = make_product(make_user("seller"), "Presets", 1500)
    login(client, make_user("customer"))
    page = client.get(f"/products/{product.slug}")
    next(f for f in page.forms.values() if f.action == "/cart/add").submit()
    form = next(f for f in client.get("/checkout").forms.values() if f.action == "/checkout")
    response = client.post("/checkout", {"csrf_token": form["csrf_token"].value, "gateway": "free", "country": "US"},
                           expect_errors=True)
    assert response.status_int == 400 and "Choose a payment method." in response.text
    assert Order.select().count() == 0


def test_a_named_price_below_the_minimum_charge_is_refused_at_checkout(client, make_user, app_env):
    app_env.reload(STRIPE_SECRET_KEY="sk_test_x", STRIPE_WEBHOOK_SECRET="whsec_x")
    product = pwyw_product(make_user, 0, 500)
    login(client, make_user("customer"))
    name_price(client, product, "0.20")
    response = checkout_form(client, "stripe").submit(expect_errors=True)
    assert response.status_int == 400 and "at least $0.50 (or be free)" in response.text
    assert Order.select().count() == 0


def test_the_seller_sets_the_options_on_the_product_form(client, login_as):
    seller = login_as("seller")
    product = make_product(seller, "Synth", 2000)
    page = client.get(f"/seller/products/{product.id}/edit")
    form = next(f for f in page.forms.values() if f.action.endswith("/edit"))
    form["pay_what_you_want"] = True
    form["min_price"] = "25"
    response = form.submit(expect_errors=True)
    assert response.status_int == 400 and "The suggested price cannot be below the minimum." in response.text
    form["min_price"] = "5"
    form["license_keys"] = True
    form["license_activations"] = "3"
    form["license_days"] = "365"
    form.submit()
    product = type(product).get_by_id(product.id)
    assert (product.min_price, product.price, product.license_activations, product.license_days) == (500, 2000, 3, 365)
    assert product.status == "approved"  # selling options apply at once, like a price


def test_a_minimum_raised_after_the_price_was_named_holds_in_the_cart_and_the_order(client, make_user):
    product = pwyw_product(make_user, 100, 800)
    login(client, make_user("customer"))
    name_price(client, product, "2")
    product.min_price = 500
    product.save()
    assert "$5.00 (your price)" in client.get("/cart").text
    checkout_form(client, "test").submit()
    assert Order.get().total == 500


def test_a_guest_who_logs_in_keeps_the_price_they_named(client, make_user):
    product = pwyw_product(make_user, 0, 800)
    customer = make_user("customer")
    name_price(client, product, "3")  # as a guest
    login(client, customer)
    assert CartItem.get(CartItem.user == customer).chosen_price == 300


def test_a_declined_payment_gives_the_product_back_at_the_named_price(client, make_user, live_app):
    product = pwyw_product(make_user, 100, 800)
    login(client, make_user("customer"))
    name_price(client, product, "6")
    page = checkout_form(client, "test").submit().follow()
    next(f for f in page.forms.values() if f.action.startswith("/pay/test/")).submit("action", value="decline")
    assert Order.get().status == "failed"
    assert CartItem.get().chosen_price == 600 and "$6.00 (your price)" in client.get("/cart").text
