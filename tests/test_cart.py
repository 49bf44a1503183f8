"""The cart: add, remove, view, the header count; it survives logging out and in."""

from shop.orders import cart
from models import CartItem, User
from tests.conftest import login
from tests.shop_fixtures import add_to_cart, make_product


def test_add_view_and_remove(client, login_as, two_sellers):
    login_as("customer")
    response = add_to_cart(client, two_sellers["presets"])
    page = response.follow()
    assert "is in your cart" in page.text
    add_to_cart(client, two_sellers["ebook"])
    page = client.get("/cart")
    assert "Field recorder presets" in page.text and "Night photography e-book" in page.text
    assert "$24.99" in page.text  # 15.00 + 9.99
    assert "Cart (2)" in page.text
    form = next(f for f in page.forms.values()
                if f.action == "/cart/remove" and f["product_id"].value == str(two_sellers["ebook"].id))
    page = form.submit().follow()
    assert "Removed from your cart." in page.text
    assert "Night photography e-book" not in page.text and "Cart (1)" in page.text


def test_adding_twice_keeps_one(client, login_as, two_sellers):
    user = login_as("customer")
    add_to_cart(client, two_sellers["presets"])
    add_to_cart(client, two_sellers["presets"])
    assert cart.count(user) == 1


def test_cart_survives_logging_out_and_in(client, make_user, two_sellers):
    user = make_user("customer")
    login(client, user)
    add_to_cart(client, two_sellers["presets"])
    client.post("/logout", {"csrf_token": client.get("/").forms[1]["csrf_token"].value})
    assert "Log in" in client.get("/").text
    login(client, user)
    assert "Field recorder presets" in client.get("/cart").text


def test_unapproved_or_unknown_products_cannot_be_added(client, login_as, make_user):
    login_as("customer")
    pending = make_product(make_user("seller"), "Not yet approved", status="pending")
    token = client.get("/").forms[1]["csrf_token"].value
    response = client.post("/cart/add", {"product_id": pending.id, "csrf_token": token}, expect_errors=True)
    assert response.status_int == 404
    assert "no longer on sale" in response.text
    response = client.post("/cart/add", {"product_id": "nonsense", "csrf_token": token}, expect_errors=True)
    assert response.status_int == 404
    assert CartItem.select().count() == 0


def test_a_product_taken_off_sale_is_flagged_in_the_cart(client, login_as, two_sellers):
    login_as("customer")
    add_to_cart(client, two_sellers["presets"])
    two_sellers["presets"].status = "rejected"
    two_sellers["presets"].save()
    page = client.get("/cart")
    assert "No longer on sale" in page.text
    assert "Remove the products that are no longer on sale" in page.text
    assert 'href="/checkout"' not in page.text


def test_only_customers_have_a_cart_and_posts_need_csrf(client, login_as, two_sellers):
    login_as("seller")
    assert client.get("/cart", expect_errors=True).status_int == 403
    token = client.get("/").forms[1]["csrf_token"].value
    response = client.post("/cart/add", {"product_id": two_sellers["presets"].id, "csrf_token": token},
                           expect_errors=True)
    assert response.status_int == 403
    client.reset()
    login_as("customer")
    response = client.post("/cart/add", {"product_id": two_sellers["presets"].id}, expect_errors=True)
    assert response.status_int == 403
    assert CartItem.select().count() == 0


def test_anonymous_visitors_see_an_empty_cart_and_no_guest_is_made_for_looking(client):
    page = client.get("/cart")
    assert page.status_int == 200 and "Your cart is empty." in page.text
    assert User.select().where(User.role == "guest").count() == 0


def test_empty_cart_invites_browsing(client, login_as):
    login_as("customer")
    page = client.get("/cart")
    assert "Your cart is empty." in page.text and "Browse products" in page.text
