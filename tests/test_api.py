"""The JSON API over HTTP (in-process) with real personal access tokens: scopes, expiry,
revocation, one seller's data refused to another, cursors that hold while rows are
added, date filters, JSON errors with stable codes, and the rate limit's headers."""

import datetime

import pytest

import models
from models import PersonalAccessToken, Product
from shop.api import tokens
from tests.shop_fixtures import make_product


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def seller_token(two_sellers):
    return tokens.make_token(two_sellers["sam"], "spreadsheet", "read", 30)[1]


def get(client, path, token, expected=200, **params):
    answer = client.get(path, params=params, headers=bearer(token) if token else {}, expect_errors=True)
    assert answer.status_int == expected, answer.text
    assert answer.content_type == "application/json"
    return answer


def test_a_seller_reads_their_own_products_and_never_anothers(client, two_sellers, seller_token):
    listing = get(client, "/api/v1/products", seller_token).json
    assert [p["id"] for p in listing["data"]] == [two_sellers["presets"].id]
    assert listing["next_cursor"] is None
    assert get(client, f"/api/v1/products/{two_sellers['presets'].id}", seller_token).json["title"] == \
        "Field recorder presets"
    refused = get(client, f"/api/v1/products/{two_sellers['ebook'].id}", seller_token, 404).json
    assert refused == {"error": {"code": "not_found", "message": "There is no such resource, or it is not yours."}}


def test_an_admin_reads_every_product(client, two_sellers, make_user):
    token = tokens.make_token(make_user("admin"), "books", "read", 7)[1]
    ids = {p["id"] for p in get(client, "/api/v1/products", token).json["data"]}
    assert ids == {two_sellers["presets"].id, two_sellers["ebook"].id}


def test_no_token_a_wrong_one_and_a_cookie_are_all_refused(client, two_sellers, login_as):
    assert get(client, "/api/v1/products", None, 401).json["error"]["code"] == "unauthorized"
    assert get(client, "/api/v1/products", "mp_not-a-token", 401).json["error"]["code"] == "invalid_token"
    login_as("admin")  # a signed-in session's cookie opens nothing here
    answer = get(client, "/api/v1/products", None, 401)
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")


def test_expired_and_revoked_tokens_are_refused_with_their_own_codes(client, two_sellers, seller_token):
    row = PersonalAccessToken.get()
    row.expires_at = models.utcnow() - datetime.timedelta(seconds=1)
    row.save()
    assert get(client, "/api/v1/products", seller_token, 401).json["error"]["code"] == "token_expired"
    fresh = tokens.make_token(two_sellers["sam"], "fresh", "read", 30)
    assert get(client, "/api/v1/products", fresh[1]).json["data"]
    tokens.revoke(two_sellers["sam"], fresh[0].id)
    assert get(client, "/api/v1/products", fresh[1], 401).json["error"]["code"] == "token_revoked"
    assert PersonalAccessToken.get_by_id(fresh[0].id).last_used_at is not None


def test_the_token_is_stored_only_as_its_digest(two_sellers):
    row, token = tokens.make_token(two_sellers["sam"], "newsletter", "read write", 90)
    assert token.startswith("mp_") and token not in {row.token_hash, row.prefix} and len(row.token_hash) == 64
    assert token.startswith(row.prefix)


def test_a_read_token_cannot_write_and_a_write_token_can(client, two_sellers, seller_token, make_user):
    admin = make_user("admin")
    product = two_sellers["presets"]
    answer = client.patch_json(f"/api/v1/products/{product.id}", {"price": 1900}, headers=bearer(seller_token),
                               expect_errors=True)
    assert answer.status_int == 403 and answer.json["error"]["code"] == "insufficient_scope"
    writer = tokens.make_token(two_sellers["sam"], "writer", "read write", 30)[1]
    answer = client.patch_json(f"/api/v1/products/{product.id}", {"price": 1900}, headers=bearer(writer))
    assert answer.json["product"]["price"] == 1900 and answer.json["sent_back_to_review"] is False
    assert Product.get_by_id(product.id).price == 1900
    answer = client.patch_json(f"/api/v1/products/{product.id}", {"title": "New presets"}, headers=bearer(writer))
    assert answer.json["sent_back_to_review"] is True and Product.get_by_id(product.id).status == "pending"
    # The admin hears of it as of an edit made on the seller's page.
    [notice] = models.Notification.select().where(models.Notification.user == admin)
    assert notice.data["product_id"] == product.id and notice.data["title"] == "New presets"
    # Another seller's product is not theirs to change, and nothing is written.
    answer = client.patch_json(f"/api/v1/products/{two_sellers['ebook'].id}", {"price": 1}, headers=bearer(writer),
                               expect_errors=True)
    assert answer.status_int == 404 and Product.get_by_id(two_sellers["ebook"].id).price == 999
    answer = client.patch_json(f"/api/v1/products/{product.id}", {"price": "free"}, headers=bearer(writer),
                               expect_errors=True)
    assert answer.status_int == 400 and answer.json["error"]["code"] == "invalid_body"


def test_an_unverified_seller_cannot_change_a_product_through_the_api(client, two_sellers):
    sam = two_sellers["sam"]
    models.User.update(email_verified_at=None).where(models.User.id == sam.id).execute()
    writer = tokens.make_token(sam, "writer", "read write", 30)[1]
    answer = client.patch_json(f"/api/v1/products/{two_sellers['presets'].id}", {"title": "Sneaky"},
                               headers=bearer(writer), expect_errors=True)
    assert answer.status_int == 403 and answer.json["error"]["code"] == "email_not_verified"
    assert Product.get_by_id(two_sellers["presets"].id).title == "Field recorder presets"


def test_pages_hold_while_products_are_added(client, two_sellers, seller_token):
    sam = two_sellers["sam"]
    for number in range(6):
        make_product(sam, f"Pack {number}")
    first = get(client, "/api/v1/products", seller_token, limit=3).json
    assert len(first["data"]) == 3 and first["next_cursor"]
    for number in range(4):  # sold while the client pages through
        make_product(sam, f"Late pack {number}")
    seen = [p["id"] for p in first["data"]]
    cursor = first["next_cursor"]
    while cursor:
        page = get(client, "/api/v1/products", seller_token, limit=3, cursor=cursor).json
        seen += [p["id"] for p in page["data"]]
        cursor = page["next_cursor"]
    before_the_first_page = {p.id for p in Product.select().where(Product.seller == sam)
                             if not p.title.startswith("Late")}
    assert len(seen) == len(set(seen)) and set(seen) == before_the_first_page


def test_date_filters_and_bad_parameters(client, two_sellers, seller_token):
    old = make_product(two_sellers["sam"], "Old pack")
    Product.update(created_at=datetime.datetime(2020, 1, 1)).where(Product.id == old.id).execute()
    recent = get(client, "/api/v1/products", seller_token, created_after="2021-01-01T00:00:00Z").json["data"]
    assert old.id not in {p["id"] for p in recent} and recent
    older = get(client, "/api/v1/products", seller_token, created_before="2021-01-01T00:00:00+00:00").json["data"]
    assert [p["id"] for p in older] == [old.id]
    for params in ({"limit": "0"}, {"limit": "many"}, {"cursor": "forged"}, {"created_after": "yesterday"},
                   {"status": "sold"}):
        assert get(client, "/api/v1/products", seller_token, 400, **params).json["error"]["code"] == \
            "invalid_parameter"
    assert get(client, "/api/v1/products/x", seller_token, 400).json["error"]["code"] == "invalid_parameter"
    assert get(client, "/api/v1/nothing", seller_token, 404).json["error"]["code"] == "not_found"
    assert client.delete("/api/v1/products", expect_errors=True).json["error"]["code"] == "method_not_allowed"


def test_the_rate_limit_counts_each_token_and_answers_429(client, app_env, two_sellers, seller_token):
    app_env.reload(API_RATE_LIMIT_PER_MINUTE=3)
    answers = [client.get("/api/v1/payouts", headers=bearer(seller_token), expect_errors=True) for _ in range(4)]
    assert [a.status_int for a in answers] == [200, 200, 200, 429]
    assert [a.headers["RateLimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]
    assert answers[0].headers["RateLimit-Limit"] == "3" and 1 <= int(answers[0].headers["RateLimit-Reset"]) <= 60
    assert answers[3].json["error"]["code"] == "rate_limited" and int(answers[3].headers["Retry-After"]) >= 1


def paid_order(customer, products):
    from shop.orders import cart, orders

    for product in products:
        cart.add(customer, product.id)
    order = orders.create_from_cart(customer, "test")
    assert orders.mark_paid(order.id, f"pi_{order.id}")
    return order


def test_a_seller_sees_only_their_sales_their_buyers_and_their_part_of_an_order(client, two_sellers, make_user,
                                                                                  seller_token):
    both = make_user("customer", name="Both Buyer")
    only_priya = make_user("customer", name="Priya's Buyer")
    order = paid_order(both, [two_sellers["presets"], two_sellers["ebook"]])
    paid_order(only_priya, [two_sellers["ebook"]])
    sales = get(client, "/api/v1/sales", seller_token).json["data"]
    assert [(s["product_id"], s["buyer"]["email"]) for s in sales] == [(two_sellers["presets"].id, both.email)]
    assert [c["email"] for c in get(client, "/api/v1/customers", seller_token).json["data"]] == [both.email]
    get(client, f"/api/v1/customers/{only_priya.id}", seller_token, 404)
    seen = get(client, f"/api/v1/orders/{order.id}", seller_token).json
    assert [item["title"] for item in seen["items"]] == ["Field recorder presets"] and seen["total"] == 1500
    assert len(get(client, "/api/v1/orders", seller_token).json["data"]) == 1
    admin = tokens.make_token(make_user("admin"), "books", "read", 7)[1]
    assert get(client, f"/api/v1/orders/{order.id}", admin).json["total"] == 1500 + 999
    assert len(get(client, "/api/v1/customers", admin).json["data"]) == 2


def test_a_guest_buyer_is_shown_by_the_address_given_at_checkout(client, two_sellers, seller_token, make_user):
    from shop.accounts import guests
    from shop.orders import cart, orders

    guest = guests.create_guest()
    cart.add(guest, two_sellers["presets"].id)
    order = orders.create_from_cart(guest, "test", guest_email="gus@example.com")
    assert orders.mark_paid(order.id, f"pi_{order.id}")
    guests.create_guest()  # a guest who only filled a cart is nobody's customer
    [sale] = get(client, "/api/v1/sales", seller_token).json["data"]
    assert sale["buyer"] == {"id": guest.id, "name": "", "email": "gus@example.com"}
    assert get(client, f"/api/v1/orders/{order.id}", seller_token).json["buyer"]["email"] == "gus@example.com"
    assert [c["email"] for c in get(client, "/api/v1/customers", seller_token).json["data"]] == ["gus@example.com"]
    admin = tokens.make_token(make_user("admin"), "books", "read", 7)[1]
    assert [c["email"] for c in get(client, "/api/v1/customers", admin).json["data"]] == ["gus@example.com"]
