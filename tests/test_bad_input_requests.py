"""Requests that cannot be read as the shop reads them: `next=` addresses that leave the site,
numbers past the database's range, headers that are not ASCII or not UTF-8. Each is a 4xx
(or, for `next=`, a safe default), decided in one place: safe_next, the <id:int> route
filter and int_param, common.header, and an error page that cannot fail."""

import re
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models import CartItem, Session
from shop_web.common import MAX_ID, int_param, safe_next
from tests.bad_input import clear_error, database_snapshot, still_serving
from tests.catalog_helpers import form_for
from tests.conftest import PASSWORD, ROOT, login
from tests.shop_fixtures import make_product

LEAVING = ["/\t/evil.example", "/\n/evil.example", "/\r/evil.example", "//evil.example",
           "/\\evil.example", "\\\\evil.example", "https://evil.example/", "http:evil.example", "evil.example",
           "javascript:alert(1)", " //evil.example", "/\x00/evil.example", "/\x0b/evil.example", "/\u0085/evil.example"]
SOME = settings(max_examples=200, deadline=None)
TOO_LARGE = ["2147483648", "4294967296", "9223372036854775807", "9223372036854775808", "18446744073709551616",
             "9" * 40]


def routes(method=None):
    import marketplace

    return [route for route in marketplace.app.routes if method is None or route.method == method]


def as_browser_reads(location):
    """What a browser makes of a Location: tabs and line breaks removed, backslashes read as slashes."""
    return re.sub(r"[\t\n\r]", "", location).replace("\\", "/")


# ---------------------------------------------------------------------------
# next=
# ---------------------------------------------------------------------------


@SOME
@given(target=st.one_of(st.sampled_from(LEAVING), st.text(max_size=30), st.text(max_size=30).map(lambda t: "/" + t)))
def test_safe_next_only_ever_gives_a_path_of_this_site(target):
    location = safe_next(target, "/home")
    read = as_browser_reads(location)
    assert read.startswith("/") and not read.startswith("//"), (target, location)
    assert location.isascii() and location.isprintable() and " " not in location, (target, location)


def test_safe_next_keeps_ordinary_paths():
    assert safe_next("/admin/queue/failed?queue=default&page=2") == "/admin/queue/failed?queue=default&page=2"
    assert safe_next("/products/gr%C3%BCn") == "/products/gr%C3%BCn"
    assert safe_next("/products/grün") == "/products/gr%C3%BCn"


def test_next_that_leaves_the_site_sends_a_logged_in_visitor_home(client, login_as):
    login_as("customer")
    for target in LEAVING:
        response = client.get("/login?next=" + quote(target, safe=""), expect_errors=True)
        if "\x00" in target:  # text a database cannot hold is refused in any address
            clear_error(response)
            continue
        assert response.status_int == 303, (target, response.status)
        assert response.headers["Location"].endswith("/"), (target, response.headers["Location"])


def test_a_login_with_a_next_that_leaves_the_site_lands_on_the_shop(client, make_user):
    user = make_user("customer")
    for target in LEAVING:
        client.reset()
        form = form_for(client.get("/login"), "/login")
        fields = {"email": user.email, "password": PASSWORD, "next": target, "csrf_token": form["csrf_token"].value}
        response = client.post("/login", fields, expect_errors=True)
        if "\x00" in target:  # text a database cannot hold is refused before the login
            clear_error(response)
            continue
        assert response.status_int == 303, (target, response.status)
        assert not as_browser_reads(response.headers["Location"]).startswith("//"), target
        assert "evil" not in response.headers["Location"], target


def test_control_characters_in_next_write_no_session_on_a_refused_login(client, make_user):
    """The wrong password with next=/\\r\\n... once wrote a session row and a Set-Cookie in a 500."""
    user = make_user("customer")
    form = form_for(client.get("/login"), "/login")
    before = Session.select().count()
    response = client.post("/login", {"email": user.email, "password": "wrong-password", "next": "/\r\nX: y",
                                      "csrf_token": form["csrf_token"].value}, expect_errors=True)
    assert response.status_int == 401
    assert "session=" not in response.headers.get("Set-Cookie", "")
    assert Session.select().count() == before


def test_queue_actions_return_only_to_queue_pages(client, login_as):
    login_as("admin")
    token = form_for(client.get("/notifications"), "/logout")["csrf_token"].value
    for target in LEAVING + ["/admin/queue\t/evil"]:
        response = client.post("/admin/queue/queues/default/pause", {"csrf_token": token, "next": target},
                               expect_errors=True)
        if "\x00" in target:
            clear_error(response)
            continue
        assert response.status_int == 303 and response.headers["Location"].endswith("/admin/queue"), target
        client.post("/admin/queue/queues/default/continue", {"csrf_token": token})


# ---------------------------------------------------------------------------
# Numbers past the database's range
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["customer", "seller", "admin"])
def test_an_id_past_the_databases_range_in_any_path_is_a_400(client, login_as, role):
    login_as(role)
    token = form_for(client.get("/notifications"), "/logout")["csrf_token"].value
    numbered = [route for route in routes() if ":int>" in route.rule]
    assert len(numbered) > 15
    before = database_snapshot()
    for route in numbered:
        for number in TOO_LARGE:
            path = re.sub(r"<[^>]+:int>", number, route.rule)
            if route.method == "POST":
                response = client.post(path, {"csrf_token": token, "reason": "x"}, expect_errors=True)
            else:
                response = client.get(path, expect_errors=True)
            assert response.status_int == 400, (path, response.status)
        # The largest id a row can have is still looked up, and found to be missing.
        path = re.sub(r"<[^>]+:int>", str(MAX_ID), route.rule)
        response = client.get(path, expect_errors=True) if route.method == "GET" else \
            client.post(path, {"csrf_token": token, "reason": "x"}, expect_errors=True)
        assert response.status_int < 500 and response.status_int != 200, (path, response.status)
    assert database_snapshot() == before
    still_serving(client)


def test_a_product_id_past_the_databases_range_in_a_form_adds_nothing(client, login_as, make_user):
    make_product(make_user("seller"))
    login_as("customer")
    token = form_for(client.get("/notifications"), "/logout")["csrf_token"].value
    for number in TOO_LARGE + ["-9" * 30, "1e400"]:
        for action in ("/cart/add", "/cart/remove"):
            response = client.post(action, {"product_id": number, "csrf_token": token}, expect_errors=True)
            assert response.status_int < 500, (action, number, response.status)
    assert CartItem.select().count() == 0


def test_int_param_refuses_what_no_row_can_be():
    assert int_param("12") == 12 and int_param(str(MAX_ID)) == MAX_ID
    for text in TOO_LARGE + [None, "", "x", "1.5"]:
        assert int_param(text, default="none") == "none", text
    assert int_param("0", 1, 1) == 1


# ---------------------------------------------------------------------------
# Headers
# ---------------------------------------------------------------------------

NOT_ASCII = ["\xff\xfe", "caf\xc3\xa9", "\xe9", "\x80abc"]  # as a server passes header bytes on: latin-1


@pytest.mark.parametrize("name", ["X-CSRF-Token", "X-Real-IP", "Authorization", "X-Forwarded-For"])
def test_headers_that_are_not_ascii_are_a_400_not_a_500(client, make_user, name):
    user = make_user("customer")
    form = form_for(client.get("/login"), "/login")
    for value in NOT_ASCII:
        fields = {"email": user.email, "password": PASSWORD, "csrf_token": form["csrf_token"].value}
        if name == "X-CSRF-Token":  # the header is read when the form carries no token
            del fields["csrf_token"]
        response = client.post("/login", fields, headers={name: value}, expect_errors=True)
        if name in ("X-Real-IP", "X-CSRF-Token"):  # read on every login
            clear_error(response)
        else:
            assert response.status_int < 500, (name, value, response.status)
        response = client.get("/metrics", headers={name: value}, expect_errors=True)
        assert response.status_int < 500, (name, value, response.status)
    assert Session.select().count() == 0 or name not in ("X-Real-IP", "X-CSRF-Token")
    still_serving(client)


@pytest.mark.parametrize("path", ["/webhooks/stripe", "/webhooks/test"])
def test_a_stripe_signature_that_is_not_ascii_is_a_400(client, app_env, path):
    app_env.reload(STRIPE_SECRET_KEY="sk_test_x" if path == "/webhooks/stripe" else "",
                   STRIPE_WEBHOOK_SECRET="whsec_x" if path == "/webhooks/stripe" else "")
    for value in NOT_ASCII:
        response = client.post(path, b"{}", headers={"Content-Type": "application/json", "Stripe-Signature": value},
                               expect_errors=True)
        assert response.status_int == 400 and response.json["error"], (value, response.status)


def test_every_error_page_answers_whatever_accept_holds(client, login_as):
    for accept in NOT_ASCII + ["application/json\xff", "text/html"]:
        for path, status in (("/nothing-here", 404), ("/orders/99999999999999999999/success", 400),
                             ("/seller/products", 303)):
            response = client.get(path, headers={"Accept": accept}, expect_errors=True)
            assert response.status_int == status, (accept, path, response.status)
            assert "Critical error" not in response.text
    login_as("customer")
    response = client.post("/cart/add", {"product_id": "1"}, headers={"Accept": "\xff"}, expect_errors=True)
    assert response.status_int == 403 and "did not come from this site" in response.text


def test_a_csrf_token_with_non_ascii_characters_is_a_403(client, login_as):
    login_as("customer")
    for token in ("é" * 64, "\u0661" * 64, "\U0001f600", "x\udcff"[:1]):
        response = client.post("/cart/add", {"product_id": "1", "csrf_token": token}, expect_errors=True)
        assert response.status_int == 403, (token, response.status)
    still_serving(client)


def test_the_web_layer_reads_headers_only_through_common_header():
    """bottle's get_header decodes as UTF-8 and raises; header() is the one way in."""
    offenders = []
    for path in sorted((ROOT / "shop_web").glob("*.py")) + [ROOT / "marketplace.py"]:
        for number, line in enumerate(Path(path).read_text().splitlines(), 1):
            if re.search(r"\.get_header\(|request\.headers\b|\.remote_addr\b", line) and not line.lstrip().startswith("#"):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []


def test_an_error_page_that_cannot_be_rendered_still_answers_its_status(client, monkeypatch):
    from shop_web import common

    def broken(*args, **kwargs):
        raise RuntimeError("the database is down")

    monkeypatch.setattr(common, "render", broken)
    response = client.get("/nothing-here", expect_errors=True)
    assert response.status_int == 404 and response.content_type == "text/plain"
    assert "Critical error" not in response.text and "Not found" in response.text
    monkeypatch.setattr(common, "json_response", broken)
    response = client.post("/webhooks/stripe", b"{}", headers={"Content-Type": "application/json"},
                           expect_errors=True)
    assert 400 <= response.status_int < 500 and "Critical error" not in response.text
