"""Hostile text in every text field: SQL and LIKE metacharacters, template syntax, markup,
NUL bytes, very long strings, right-to-left text, emoji and combining marks, bytes that are
not UTF-8. Each is stored exactly or refused with a 400 and a message; echoed values are
HTML-escaped; nothing is stored by a refusal; the app keeps serving."""

import html
import unicodedata

import pytest

from models import LoginAttempt, Product, ProductReview, User
from tests.bad_input import HOSTILE_TEXT, RAW_MARKUP, clear_error, database_snapshot, still_serving
from tests.catalog_helpers import form_for, jpeg_bytes, make_product, uploaded_files
from tests.conftest import login

NUL_TEXT = ["nul\x00byte", "\x00", "trailing\x00"]
BAD_UTF8 = b"\xff\xfe\xc3\x28 not utf-8"
PDF = b"%PDF-1.4\n" + b"A product file.\n" * 50


def token(client, path="/login", action="/login"):
    """A valid CSRF token for this client, read from a page's form."""
    page = client.get(path)
    form = form_for(page, action) if action else next(iter(page.forms.values()))
    return form["csrf_token"].value


def assert_escaped(page, value):
    """`value` appears in the page only HTML-escaped: no markup of it is live."""
    for marker in RAW_MARKUP:
        if marker in value:
            assert marker not in page.text, marker
    if "{{ 7*7 }}" in value:
        assert "{{ 7*7 }}" in html.unescape(page.text) or html.escape("{{ 7*7 }}") in page.text


def post_bytes(client, path, body, content_type="application/x-www-form-urlencoded"):
    return client.post(path, body, headers={"Content-Type": content_type}, expect_errors=True)


# ---------------------------------------------------------------------------
# Registration and login
# ---------------------------------------------------------------------------


def test_hostile_names_are_stored_exactly_and_shown_escaped(client):
    for number, name in enumerate(HOSTILE_TEXT):
        client.reset()
        fields = {"name": name, "email": f"new{number}@example.com", "password": "correct-horse-42",
                  "role": "customer", "csrf_token": token(client, "/register", "/register")}
        response = client.post("/register", fields)
        assert response.status_int == 303, response.text[:500]
        assert User.get(User.email == fields["email"]).name == name.strip()
        page = response.follow()
        assert name.strip() in html.unescape(page.text), name
        assert_escaped(page, name)
        still_serving(client)


def test_hostile_emails_are_refused_with_a_message_and_echoed_escaped(client):
    for email in HOSTILE_TEXT + ["a@b.c'; DROP TABLE users; --", "a@b", "@example.com"]:
        fields = {"name": "Nina", "email": email, "password": "correct-horse-42", "role": "customer",
                  "csrf_token": token(client, "/register", "/register")}
        response = clear_error(client.post("/register", fields, expect_errors=True))
        assert "Enter a valid email address." in response.text, email
        assert_escaped(response, email)
    assert User.select().count() == 0
    still_serving(client)


def test_nul_bytes_in_registration_are_a_400_and_nothing_is_stored(client):
    for field, value in [(field, value) for field in ("name", "email", "password") for value in NUL_TEXT]:
        fields = {"name": "Nina", "email": "nina@example.com", "password": "correct-horse-42",
                  "role": "customer", "csrf_token": token(client, "/register", "/register")}
        fields[field] = value if field != "password" else "correct-horse-42" + value
        response = clear_error(client.post("/register", fields, expect_errors=True))
        assert "contains a NUL character" in response.text
    assert User.select().count() == 0
    still_serving(client)


def test_very_long_registration_fields_are_refused_with_messages(client):
    fields = {"name": "N" * 100_000, "email": "e" * 300 + "@example.com", "password": "p" * 5000,
              "role": "customer", "csrf_token": token(client, "/register", "/register")}
    response = clear_error(client.post("/register", fields, expect_errors=True))
    for message in ("Use at most 100 characters.", "Enter a valid email address.", "That password is too long."):
        assert message in response.text
    assert User.select().count() == 0
    still_serving(client)


def test_hostile_login_emails_are_a_wrong_login(client, make_user, app_env):
    app_env.reload(LOGIN_MAX_FAILURES=100)
    make_user("customer", email="real@example.com")
    for email in HOSTILE_TEXT + ["%", "_", "\\", "' OR '1'='1", "real@example.com' --"]:
        fields = {"email": email, "password": "' OR '1'='1", "csrf_token": token(client)}
        response = clear_error(client.post("/login", fields, expect_errors=True), 401)
        assert "Wrong email or password." in response.text, email
        assert_escaped(response, email)
    still_serving(client)


def test_nul_bytes_in_the_login_form_are_a_400(client, make_user):
    user = make_user("customer")
    for field in ("email", "password", "next"):
        fields = {"email": user.email, "password": "correct-horse-42", "next": "/", "csrf_token": token(client)}
        fields[field] += "\x00"
        clear_error(client.post("/login", fields, expect_errors=True))
    assert LoginAttempt.select().count() == 0
    assert login(client, user).status_int == 303  # and the real login still works


def test_form_bytes_that_are_not_utf8_are_a_400(client):
    csrf = token(client, "/register", "/register")
    body = b"name=" + BAD_UTF8 + b"&email=x%40example.com&password=correct-horse-42&role=customer&csrf_token=" + \
        csrf.encode()
    response = clear_error(post_bytes(client, "/register", body))
    assert "not UTF-8 text" in response.text
    assert User.select().count() == 0
    still_serving(client)


# ---------------------------------------------------------------------------
# Products
# ---------------------------------------------------------------------------


def product_fields(client, **changes):
    fields = {"title": "Pixel Icons", "description": "Forty icons.", "price": "12.50",
              "csrf_token": token(client, "/seller/products/new", "/seller/products")}
    fields.update(changes)
    return fields


def create(client, **changes):
    files = [("file", "icons.zip", PDF), ("thumbnail", "cover.jpg", jpeg_bytes())]
    return client.post("/seller/products", product_fields(client, **changes), upload_files=files,
                       expect_errors=True)


def test_hostile_titles_and_descriptions_are_kept_and_escaped(client, login_as):
    login_as("seller")
    for text in HOSTILE_TEXT:
        response = create(client, title=text, description=text + "\n\n" + text)
        assert response.status_int == 303, response.text[:500]
        product = Product.select().order_by(Product.id.desc()).first()
        assert product.title == " ".join(text.split())
        assert product.description == text + "\n\n" + text
        page = response.follow()
        assert_escaped(page, text)
        # The edit form fills its fields with the same text, escaped.
        edit = client.get(f"/seller/products/{product.id}/edit")
        assert edit.html.select_one("#f-title")["value"] == product.title
        assert_escaped(edit, text)
    still_serving(client)


def test_hostile_prices_are_a_form_error(client, login_as):
    login_as("seller")
    for price in HOSTILE_TEXT + ["12.50.00", "1e3", "NaN", "-Infinity", "0x10", "١٢", "12.50\u200b", "9" * 5000,
                                 "12.345", "$-5", "USD"]:
        response = clear_error(create(client, price=price))
        assert response.html.select_one("#e-price") is not None, price
        assert_escaped(response, price)
    assert Product.select().count() == 0 and uploaded_files() == []
    still_serving(client)


def test_a_decimal_comma_in_a_price_is_a_form_error_not_a_hundredfold_price(client, login_as):
    """"12,50" was stored as $1,250.00, "0,99" as $99.00 and "1,2,3" as $123.00."""
    seller = login_as("seller")
    for price in ("12,50", "0,99", "1,2,3", "1,250"):
        response = clear_error(create(client, price=price))
        assert "Use a point for the decimals" in response.html.select_one("#e-price").text, price
    assert Product.select().count() == 0 and uploaded_files() == []
    assert create(client, price="1,250.00").status_int == 303
    product = Product.get(Product.seller == seller)
    assert product.price == 125000
    fields = product_fields(client, price="12,50")
    fields["csrf_token"] = token(client, f"/seller/products/{product.id}/edit", f"/seller/products/{product.id}/edit")
    clear_error(client.post(f"/seller/products/{product.id}/edit", fields, expect_errors=True))
    assert Product.get_by_id(product.id).price == 125000


def test_nul_bytes_in_product_fields_are_a_400_and_nothing_is_stored(client, login_as):
    login_as("seller")
    for field in ("title", "description", "price"):
        response = clear_error(create(client, **{field: "12\x0050" if field == "price" else "Pixel\x00Icons"}))
        assert "contains a NUL character" in response.text, field
    assert Product.select().count() == 0 and uploaded_files() == []
    still_serving(client)


def test_nul_bytes_in_an_edit_change_nothing(client, login_as):
    seller = login_as("seller")
    product = make_product(seller, title="Original")
    before = database_snapshot()
    fields = product_fields(client, title="Changed\x00", description="Changed")
    fields["csrf_token"] = token(client, f"/seller/products/{product.id}/edit", f"/seller/products/{product.id}/edit")
    clear_error(client.post(f"/seller/products/{product.id}/edit", fields, expect_errors=True))
    assert database_snapshot() == before
    still_serving(client)


def test_very_long_product_fields_are_refused_with_messages(client, login_as):
    login_as("seller")
    response = clear_error(create(client, title="T" * 20_000, description="D" * 200_000))
    assert "Use at most 120 characters." in response.text and "Use at most 5000 characters." in response.text
    assert Product.select().count() == 0 and uploaded_files() == []


def test_a_multipart_field_that_is_not_utf8_is_a_400(client, login_as):
    login_as("seller")
    csrf = token(client, "/seller/products/new", "/seller/products")
    boundary = "xYzZy"
    parts = [(b"csrf_token", csrf.encode()), (b"title", BAD_UTF8), (b"description", b"ok"), (b"price", b"1")]
    body = b"".join(b"--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n" % (boundary.encode(), n, v)
                    for n, v in parts)
    body += (b"--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.zip\"\r\n"
             b"Content-Type: application/zip\r\n\r\n%s\r\n--%s--\r\n") % (boundary.encode(), PDF, boundary.encode())
    clear_error(post_bytes(client, "/seller/products", body, f"multipart/form-data; boundary={boundary}"))
    assert Product.select().count() == 0 and uploaded_files() == []
    still_serving(client)


# ---------------------------------------------------------------------------
# Moderation
# ---------------------------------------------------------------------------


def test_hostile_rejection_reasons_reach_the_seller_escaped(client, login_as, make_user):
    seller = make_user("seller")
    admin = make_user("admin")
    for reason in HOSTILE_TEXT:
        product = make_product(seller)
        client.reset()
        login(client, admin)
        csrf = token(client, "/admin/products", f"/admin/products/{product.id}/reject")
        response = client.post(f"/admin/products/{product.id}/reject", {"reason": reason, "csrf_token": csrf})
        assert response.status_int == 303
        assert Product.get_by_id(product.id).rejection_reason == reason.strip()
        client.reset()
        login(client, seller)
        page = client.get("/seller/products")
        assert_escaped(page, reason)
        assert unicodedata.normalize("NFC", reason.strip()) in unicodedata.normalize("NFC", html.unescape(page.text))


def test_nul_or_overlong_rejection_reasons_are_a_400(client, login_as, make_user):
    product = make_product(make_user("seller"))
    login_as("admin")
    for reason in NUL_TEXT + ["R" * 100_000]:
        csrf = token(client, "/admin/products", f"/admin/products/{product.id}/reject")
        clear_error(client.post(f"/admin/products/{product.id}/reject", {"reason": reason, "csrf_token": csrf},
                                expect_errors=True))
    assert Product.get_by_id(product.id).status == "pending" and ProductReview.select().count() == 0
    still_serving(client)


# ---------------------------------------------------------------------------
# Search and other query strings
# ---------------------------------------------------------------------------


@pytest.fixture
def catalog(make_user):
    seller = make_user("seller")
    return {"plain": make_product(seller, title="Ambient loops", status="approved"),
            "percent": make_product(seller, title="100% vinyl drums", status="approved"),
            "underscore": make_product(seller, title="snake_case fonts", status="approved"),
            "backslash": make_product(seller, title="C:\\presets pack", status="approved")}


def titles(page):
    return {card.text.strip() for card in page.html.select(".product-card h2, .product-card h3, .product-card a.title")}


def found(client, query):
    page = client.get("/", {"q": query})
    assert page.status_int == 200
    return page


def test_search_wildcards_match_only_themselves(client, catalog):
    # Search matches words (shop/catalog/search.py): punctuation separates them and is never
    # a wildcard, so symbols alone find nothing rather than everything.
    cases = [("%", None), ("_", None), ("\\", None), ("100%", "percent"), ("snake_c", "underscore"),
             ("e_c", None), ("%%_%", None), ("s_ake", None), ("c:\\pres", "backslash")]
    for query, expected in cases:
        page = found(client, query)
        for name, product in catalog.items():
            assert (product.title in html.unescape(page.text)) == (name == expected), (query, name)


def test_hostile_search_queries_answer_a_page_with_the_query_escaped(client, catalog):
    for query in HOSTILE_TEXT + ["q" * 10_000]:
        assert_escaped(found(client, query), query)
    for query in NUL_TEXT:
        response = clear_error(client.get("/", {"q": query}, expect_errors=True))
        assert "contains a NUL character" in response.text
    still_serving(client)


def test_query_string_bytes_that_are_not_utf8_are_a_400(client, catalog):
    response = clear_error(client.get("/?q=%ff%fe%c3%28", expect_errors=True))
    assert "not UTF-8 text" in response.text
    still_serving(client)


def test_nul_bytes_in_addresses_are_a_400(client, login_as):
    login_as("admin")
    for path in ["/admin/queue/metrics?job=%00", "/admin/queue/jobs?queue=%00&state=%00", "/admin/orders?status=%00",
                 "/products/x%00y", "/admin/queue/jobs/abc%00", "/admin/queue/batches/%00"]:
        response = clear_error(client.get(path, expect_errors=True))
        assert "contains a NUL character" in response.text, path
    for path in ["/admin/queue/failed?queue=%27%3B--", "/admin/queue/metrics?job=%25", "/admin/queue/jobs?queue=_"]:
        assert client.get(path).status_int == 200, path
    still_serving(client)
