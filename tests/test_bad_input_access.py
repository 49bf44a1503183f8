"""Who may see and do what, across every route of the app (so a new route is covered the day it
is added): logged-out visitors are sent to log in, except from the pages a guest buys through; every POST without its CSRF token, or with
another visitor's, is a 403 that changes nothing; and another customer's order, invoice,
download link and payment pages answer 403/404, as do seller and admin actions for the
wrong role."""

import re

import pytest

from shop.orders import cart
from shop.orders import downloads
from shop.orders import orders
from models import DownloadLink, Order, Product
from tests.bad_input import database_snapshot, still_serving
from tests.catalog_helpers import form_for
from tests.conftest import login
from tests.shop_fixtures import make_product

# Routes anyone may open; everything else needs an account.
PUBLIC = {"/", "/healthz", "/login", "/register", "/favicon.ico", "/metrics", "/products/<slug>",
          "/media/<path:path>", "/static/<path:path>",
          # The account's emailed links: the token in the address is the permission.
          "/password/forgot", "/password/reset/<token>", "/email/verify/<token>",
          "/account/email/confirm/<token>",
          # A guest's order: the receipt's signed link, and the download links it carries.
          "/orders/<reference>/guest/<key>", "/orders/<reference>/guest/<key>/invoice",
          "/orders/<reference>/guest/<key>/invoice.json", "/download/<token>",
          "/orders/<reference>/guest/<key>/credit-notes/<note_id:int>",
          "/download/<token>/files/<file_id:int>", "/download/<token>/all.zip",
          # A seller's storefront, as public as their product pages.
          "/sellers/<slug>",
          # Buying needs no account: a visitor's cart is empty until a product is put in it.
          "/cart", "/checkout",
          # The JSON API's description of itself.
          "/api/v1/openapi.json"}
# Routes that gateways post to without a session, checked by their own signatures; and the
# public license API, which the sellers' software calls with a key and nothing else.
CSRF_EXEMPT = {"/webhooks/stripe", "/webhooks/paytm", "/webhooks/test", "/checkout/paytm/callback",
               "/api/licenses/v1/activate", "/api/licenses/v1/validate", "/api/licenses/v1/deactivate"}
CSRF_MESSAGE = "The form has expired or did not come from this site."


def routes(method):
    import marketplace

    return [route for route in marketplace.app.routes if route.method == method]


def url(rule):
    """A concrete address for a route rule: the checks come before any lookup."""
    return re.sub(r"<[^>]+>", lambda m: "1" if ":int" in m.group(0) else "x", rule)


def test_every_private_page_sends_logged_out_visitors_to_log_in(client):
    private = [route.rule for route in routes("GET") if route.rule not in PUBLIC]
    assert len(private) > 30
    for rule in private:
        response = client.get(url(rule), expect_errors=True)
        if rule.startswith("/api/"):
            # The API answers a request without its token, never sending it to a login page.
            assert response.status_int == 401 and response.json["error"]["code"] == "unauthorized", rule
            continue
        assert response.status_int == 303, (rule, response.status)
        assert response.headers["Location"].startswith("/login?next="), rule
    still_serving(client)


@pytest.mark.parametrize("role", ["anonymous", "customer", "seller", "admin"])
def test_every_post_needs_this_visitors_csrf_token(client, make_user, role):
    make_product(make_user("seller"), title="Keep me", status="pending")
    user = None if role == "anonymous" else make_user(role)
    other_token = form_for(client.get("/login"), "/login")["csrf_token"].value
    client.reset()
    if user is not None:
        login(client, user)
    posts = [route.rule for route in routes("POST")]
    assert {rule for rule in posts if rule in CSRF_EXEMPT} == CSRF_EXEMPT
    before = database_snapshot()
    for rule in posts:
        if rule in CSRF_EXEMPT:
            continue
        fields = {"title": "Changed", "description": "x", "price": "1", "reason": "x", "product_id": "1",
                  "gateway": "test", "action": "pay", "email": "a@b.cd", "password": "correct-horse-42",
                  "name": "X", "role": "customer"}
        for token in (None, "", "forged", other_token):
            sent = dict(fields) if token is None else dict(fields, csrf_token=token)
            response = client.post(url(rule), sent, expect_errors=True)
            assert response.status_int == 403, (rule, token, response.status)
            assert CSRF_MESSAGE in response.text, rule
    assert database_snapshot() == before
    still_serving(client)


# ---------------------------------------------------------------------------
# Another customer's things
# ---------------------------------------------------------------------------


@pytest.fixture
def bought(make_user):
    """Alice's paid order (with its link) and her pending one, and a second seller's product."""
    seller, alice = make_user("seller"), make_user("customer", name="Alice")
    product = make_product(seller, "Alice's presets", 1500)
    cart.add(alice, product.id)
    paid = orders.create_from_cart(alice, "test")
    orders.mark_paid(paid.id, payment_ref="pi_test_1")
    cart.add(alice, make_product(seller, "Second thing", 900).id)
    pending = orders.create_from_cart(alice, "test")
    return {"seller": seller, "alice": alice, "paid": Order.get_by_id(paid.id), "pending": pending,
            "link": downloads.url_for(DownloadLink.get())}


def test_another_customers_orders_invoices_and_links_are_refused(client, make_user, bought):
    login(client, make_user("customer", name="Mallory"))
    paid, pending = bought["paid"].id, bought["pending"].id
    for path in [f"/orders/{paid}/success", f"/orders/{paid}/status.json", f"/orders/{paid}/invoice",
                 f"/orders/{paid}/invoice.json", f"/pay/test/{pending}", f"/orders/{pending}/status.json",
                 bought["link"], "/orders/999999/status.json", "/pay/test/999999"]:
        response = client.get(path, expect_errors=True)
        assert response.status_int in (403, 404), (path, response.status)
        assert "Alice" not in response.text and "Alice's presets" not in response.text, path
    token = form_for(client.get("/notifications"), "/logout")["csrf_token"].value
    before = database_snapshot()
    for path, fields in [(f"/pay/test/{pending}", {"action": "pay"}), (f"/orders/{paid}/invoice", {}),
                         (f"/admin/orders/{paid}/refund", {})]:
        response = client.post(path, dict(fields, csrf_token=token), expect_errors=True)
        assert response.status_int in (403, 404), (path, response.status)
    assert database_snapshot() == before
    assert Order.get_by_id(pending).status == "pending"
    # Alice herself still gets her things.
    client.reset()
    login(client, bought["alice"])
    assert client.get(f"/orders/{paid}/status.json").status_int == 200
    assert client.get(bought["link"]).status_int == 200


@pytest.mark.parametrize("role", ["customer", "seller"])
def test_only_admins_decide_refund_and_run_the_queue(client, make_user, bought, role):
    user = make_user(role)
    product = make_product(user if role == "seller" else bought["seller"], "Awaiting review", status="pending")
    login(client, user)
    token = form_for(client.get("/notifications"), "/logout")["csrf_token"].value
    before = database_snapshot()
    for path in [f"/admin/products/{product.id}/approve", f"/admin/products/{product.id}/reject",
                 f"/admin/orders/{bought['paid'].id}/refund", "/admin/queue/failed/retry-all",
                 "/admin/queue/failed/flush", "/admin/queue/queues/default/pause"]:
        response = client.post(path, {"csrf_token": token, "reason": "x"}, expect_errors=True)
        assert response.status_int == 403, (path, response.status)
        assert "not available to your account" in response.text
    for path in ["/admin/products", f"/admin/orders/{bought['paid'].id}", "/admin/queue", "/admin/queue/failed",
                 "/seller/products" if role == "customer" else "/cart"]:
        assert client.get(path, expect_errors=True).status_int == 403, path
    assert database_snapshot() == before
    assert Product.get_by_id(product.id).status == "pending"
