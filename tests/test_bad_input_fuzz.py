"""Hostile requests to every route of the app, as every role: whatever the path parameters,
query, headers and form fields hold, the answer is never a 5xx, nothing is logged as an
error, and a refused request (4xx) writes no row.

The routes are read from the app's own table (marketplace.app.routes), so a route is
fuzzed the day it is added. Each role has a real session and, most of the time, a valid
CSRF token, so requests get past the login and the token check to the code behind them.

The in-process suite runs a few dozen examples per role (seconds), the same ones every
time; FUZZ_EXAMPLES=2000 runs a deeper search, new examples each run.
"""

import http.cookiejar
import logging
import os
import re
from urllib.parse import quote, quote_from_bytes

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import models
from shop import security
from shop.accounts import users
from shop.orders import cart
from shop.orders import orders
from shop_web.common import ANON_COOKIE, SESSION_COOKIE
from tests.bad_input import HOSTILE_TEXT
from tests.shop_fixtures import make_product

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "30"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=not os.environ.get("FUZZ_EXAMPLES"),
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])
ROLES = ["anonymous", "customer", "seller", "admin"]

# A refused login is still a counted attempt: that row is the throttle itself.
COUNTED_ON_REFUSAL = {"/login": {"login_attempt"}}

NUMBERS = ["0", "1", "2", "-1", "2147483647", "2147483648", "4294967296", "9223372036854775807",
           "9223372036854775808", "18446744073709551616", "9" * 40, "1e3", " 1", "0x10", "١٢", "1.5", ""]
SPECIAL_TEXT = ["/\t/evil.example", "/\n/evil.example", "/\r\nSet-Cookie: x=1", "//evil.example",
                "https://evil.example/", "/\\evil.example", "\\\\evil.example", "javascript:alert(1)",
                "/%09/evil.example", "/ok/../../etc/passwd", "../../etc/passwd", "\x00", "\x7f", "\u0085",
                "\u2028", "é", "\ud7ff", "12,50", "1,2,3", "0,99"]
texts = st.one_of(st.sampled_from(HOSTILE_TEXT + SPECIAL_TEXT + NUMBERS), st.text(max_size=30))
# A header's bytes, as a WSGI server passes them on: latin-1 text. Some are UTF-8 of
# non-ASCII text, some not UTF-8 at all.
header_values = st.one_of(
    st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=40),
    texts.map(lambda text: text.encode("utf-8").decode("latin-1")),
).map(lambda value: value.replace("\r", "").replace("\n", ""))
HEADERS = ["Accept", "X-CSRF-Token", "X-Real-IP", "Stripe-Signature", "Authorization", "X-Forwarded-For",
           "Forwarded", "Accept-Language", "Referer", "User-Agent", "If-Modified-Since", "Range", "Cookie"]
FIELDS = ["product_id", "next", "email", "password", "title", "description", "price", "reason", "gateway",
          "action", "name", "role", "q", "page", "ORDERID", "CHECKSUMHASH", "STATUS"]
QUERY = ["next", "page", "q", "before", "role", "state", "queue", "job", "period", "cancelled", "status",
         "session_id", "gateway"]
# Raw bytes for a field: sometimes not UTF-8 at all.
raw_values = st.one_of(texts.map(lambda text: text.encode("utf-8", "surrogatepass")), st.binary(max_size=20))


def routes():
    import marketplace

    return list(marketplace.app.routes)


def path_value(kind, data):
    """A hostile value for a path parameter of `kind` (bottle's filter), already in URL form."""
    if kind == "int":
        return quote(data.draw(st.one_of(st.sampled_from(NUMBERS), st.integers().map(str))), safe="")
    value = data.draw(raw_values)
    if kind == "path":
        return quote_from_bytes(value, safe="/") or "x"
    return quote_from_bytes(value, safe="") or "x"


def concrete_path(rule, data):
    def replace(match):
        name, _, kind = match.group(1).partition(":")
        return path_value(kind or "re", data)

    return re.sub(r"<([^>]+)>", replace, rule)


def encoded(pairs):
    return b"&".join(quote_from_bytes(name.encode()).encode() + b"=" + quote_from_bytes(value).encode()
                     for name, value in pairs)


def row_counts():
    return {model._meta.table_name: model.select().count() for model in models.all_models()}


@pytest.fixture
def shop(make_user):
    """Someone of every role with a session, a product, a paid order and a pending one."""
    people = {role: make_user(role) for role in ROLES[1:]}
    product = make_product(people["seller"], "Fuzzed presets", 1500)
    cart.add(people["customer"], product.id)
    orders.mark_paid(orders.create_from_cart(people["customer"], "test").id)
    cart.add(people["customer"], make_product(people["seller"], "Second thing", 900).id)
    orders.create_from_cart(people["customer"], "test")
    make_product(people["seller"], "Awaiting review", status="pending")
    return people


class NoCookieJar(http.cookiejar.CookieJar):
    """WebTest's cookie handling reads the request's URL as UTF-8 and fails on a hostile
    path before the app sees it; the Cookie header is set by hand instead."""

    def add_cookie_header(self, request):
        pass

    def extract_cookies(self, response, request):
        pass


def client_as(role, shop):
    """A client, the Cookie header of `role` (a real session) and its valid CSRF token."""
    from webtest import TestApp

    import marketplace

    def app(environ, start_response):
        # bottle rewrites PATH_INFO in the environ it is given; WebTest reads it again afterwards.
        return marketplace.app(dict(environ), start_response)

    client = TestApp(app, extra_environ={"REMOTE_ADDR": "127.0.0.1"}, cookiejar=NoCookieJar())
    if role == "anonymous":
        visitor = security.random_token(16)
        return client, f"{ANON_COOKIE}={visitor}", security.sign("csrf", "visitor:" + visitor)
    token = users.start_session(shop[role])
    return client, f"{SESSION_COOKIE}={token}", security.sign("csrf", "session:" + token)


def hostile_request(data, csrf):
    route = data.draw(st.sampled_from(routes()))
    path = concrete_path(route.rule, data)
    query = data.draw(st.lists(st.tuples(st.sampled_from(QUERY), raw_values), max_size=3))
    if query:
        path += "?" + encoded(query).decode("ascii")
    headers = dict(data.draw(st.lists(st.tuples(st.sampled_from(HEADERS), header_values), max_size=3)))
    body = None
    if route.method == "POST":
        fields = data.draw(st.lists(st.tuples(st.sampled_from(FIELDS), raw_values), max_size=5))
        token = data.draw(st.one_of(st.just(csrf.encode()), st.just(csrf.encode()), raw_values))
        body = encoded([*fields, ("csrf_token", token)])
    return route, path, headers, body


def send(client, cookie, route, path, headers, body):
    headers = dict(headers, Cookie=cookie + ("; " + headers["Cookie"] if "Cookie" in headers else ""))
    if route.method == "POST":
        return client.post(path, body, headers={"Content-Type": "application/x-www-form-urlencoded", **headers},
                           expect_errors=True)
    return client.get(path, headers=headers, expect_errors=True)


@pytest.mark.parametrize("role", ROLES)
def test_hostile_requests_to_every_route_are_never_a_5xx_nor_logged_and_a_refusal_writes_nothing(
        shop, role, caplog):
    caplog.set_level(logging.ERROR)

    @FUZZ
    @given(data=st.data())
    def run(data):
        client, cookie, csrf = client_as(role, shop)
        route, path, headers, body = hostile_request(data, csrf)
        before, logged = row_counts(), len(caplog.records)
        response = send(client, cookie, route, path, headers, body)
        described = f"{route.method} {path} headers={headers!r} body={body!r}: {response.status}"
        assert response.status_int < 500, described + "\n" + response.text[:500]
        assert "Critical error" not in response.text, described
        errors = [record for record in caplog.records[logged:] if record.levelno >= logging.ERROR]
        assert not errors, described + "\n" + errors[0].getMessage()[:2000]
        if response.status_int >= 400:
            after = row_counts()
            allowed = COUNTED_ON_REFUSAL.get(route.rule, set())
            changed = {table for table in after if after[table] != before[table]} - allowed
            assert not changed, f"{described} wrote rows in {sorted(changed)}"
            # Nor does it start a session: no session cookie goes out with a refusal.
            started = [c for c in response.headers.getall("Set-Cookie") if c.startswith(SESSION_COOKIE + "=")
                       and not c.startswith(SESSION_COOKIE + "=;") and "Max-Age=-1" not in c]
            assert not started, described

    run()
