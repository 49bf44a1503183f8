"""What every page needs: the visitor, CSRF, rendering, forms, errors and a route table.

The web layer is marketplace.py (the app, hooks, error pages), this module, and
the modules of shop_web/ that each hold the pages of one audience (the public
shop, customers, sellers, admins, the gateways' webhooks). Only they import
bottle. Routes are collected in a RouteTable and attached to the one app by
marketplace.py, so nothing imports the app by accident. An audience module never
imports another: what two of them share lives here or in a small module of its
own (product_files.py).
"""

import functools
import json
import math
import time
from urllib.parse import quote, unquote, urlencode

import bottle
from bottle import HTTPError, HTTPResponse, request, response

from shop.accounts import guests
from shop.accounts import users
from shop.catalog.products import human_size
from shop import config
import models
from shop import security
from shop.errors import Forbidden, NotFound, ValidationError
from shop.money import decimal_amount, format_money

bottle.TEMPLATE_PATH[:] = [str(config.VIEWS_DIR)]

SESSION_COOKIE = "session"
ANON_COOKIE = "visitor"
FLASH_COOKIE = "flash"
# The discount code the visitor entered in the cart or arrived with (/?code=SPRING). Only
# the code's text: it is checked again against the cart on every page that prices it.
DISCOUNT_COOKIE = "discount_code"


# ---------------------------------------------------------------------------
# Routes
# ---------------------------------------------------------------------------


class RouteTable:
    """Routes of one area, declared with @routes.get/@routes.post and attached later."""

    def __init__(self):
        self.entries = []

    def route(self, path, method="GET", **options):
        def decorator(callback):
            self.entries.append((path, method, callback, options))
            return callback

        return decorator

    def get(self, path, **options):
        return self.route(path, "GET", **options)

    def post(self, path, **options):
        return self.route(path, "POST", **options)

    def attach(self, app):
        for path, method, callback, options in self.entries:
            app.route(path, method, callback, **options)


# ---------------------------------------------------------------------------
# Request headers and numbers: what cannot be read is a 400, in one place
# ---------------------------------------------------------------------------

# Every header the shop reads (an address, a token, a signature, a media type) is ASCII
# by its grammar. A WSGI server hands header bytes over as latin-1 text; bottle's own
# get_header decodes them again as UTF-8 and raises on anything else, and a token
# with non-ASCII characters makes hmac.compare_digest raise: either was a 500.
NOT_ASCII_MESSAGE = "The {} header is not ASCII text."


def header(name, default=None):
    """The request header `name` as ASCII text, `default` when absent; 400 when not ASCII."""
    value = lenient_header(name, None)
    if value is None:
        return default
    if not value.isascii():
        raise HTTPError(400, NOT_ASCII_MESSAGE.format(name))
    return value


def lenient_header(name, default=""):
    """The header as the server received it (latin-1 text), never raising: for the error
    pages, which must answer whatever the request held."""
    key = name.upper().replace("-", "_")
    key = key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else "HTTP_" + key
    value = request.environ.get(key)
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    return default if value is None else value


# The largest id a row can have on every database the shop runs on: PostgreSQL's
# `integer` (the type of peewee's AutoField there) is 32 bits, SQLite's 64. A number
# beyond it names no row, and handing it to the database raises (OverflowError on
# SQLite, "integer out of range" on PostgreSQL) instead of finding nothing.
MAX_ID = 2 ** 31 - 1


def id_filter(config):
    """The route filter behind <name:int>: ids from 0 to MAX_ID; anything else is bottle's 400."""

    def to_python(text):
        number = int(text)
        if not 0 <= number <= MAX_ID:
            raise ValueError("not an id")  # bottle answers a ValueError of a filter with 400
        return number

    return r"[0-9]+", to_python, lambda number: str(int(number))


# ---------------------------------------------------------------------------
# The visitor
# ---------------------------------------------------------------------------


def load_visitor():
    """Before each request: find the signed-in user, if any, and the shopper.

    A guest (shop/accounts/guests.py) has a session like anyone, but is not a user
    to the pages: current_user() is None for a guest, so every page that needs an
    account sends a guest to log in, and only the cart, checkout and order pages,
    which ask for current_shopper(), serve one.
    """
    token = request.get_cookie(SESSION_COOKIE)
    visitor = users.user_for_session(token) if token else None
    request.environ["app.session_token"] = token
    request.environ["app.user"] = None if visitor is not None and visitor.is_guest else visitor
    request.environ["app.shopper"] = visitor if visitor is not None and (visitor.is_guest or visitor.is_customer) else None


def current_user():
    return request.environ.get("app.user")


def current_shopper():
    """Whoever fills the cart and pays: the logged-in customer, or this visitor's guest user (or None)."""
    return request.environ.get("app.shopper")


def shopper_for_cart():
    """The shopper, made a guest on the spot for a visitor without an account: the first
    product put in the cart starts a guest session. Sellers and admins do not buy."""
    shopper = current_shopper()
    if shopper is not None:
        return shopper
    if current_user() is not None:
        raise Forbidden("This page is not available to your account.")
    guest = guests.create_guest()
    token = users.start_session(guest)
    set_cookie(SESSION_COOKIE, token, max_age=config.SESSION_DAYS * 86400)
    request.environ["app.session_token"] = token
    request.environ["app.shopper"] = guest
    return guest


def require_shopper(callback):
    """The cart's and checkout's pages: a customer or a guest (or a visitor yet to become
    one); a seller or an admin gets 403."""

    @functools.wraps(callback)
    def wrapper(*args, **kwargs):
        user = current_user()
        if user is not None and not user.is_customer:
            raise Forbidden("This page is not available to your account.")
        return callback(*args, **kwargs)

    return wrapper


def client_ip():
    """The visitor's address: the connection's, or nginx's X-Real-IP when nginx is the connection.

    REMOTE_ADDR, never bottle's remote_addr: that one believes the first address of
    X-Forwarded-For, which any client can write, and the login throttle counts by it.
    """
    remote = request.environ.get("REMOTE_ADDR") or ""
    if remote in ("127.0.0.1", "::1"):
        forwarded = header("X-Real-IP")
        if forwarded:
            return forwarded.strip()[:64]
    return (remote or "unknown")[:64]


def set_cookie(name, value, max_age=None, httponly=True):
    options = {"max_age": max_age} if max_age is not None else {}
    response.set_cookie(name, value, path="/", httponly=httponly, samesite="lax",
                        secure=config.SECURE_COOKIES, **options)


def discount_code():
    """The discount code this visitor entered or arrived with, or None."""
    return (request.get_cookie(DISCOUNT_COOKIE) or "").strip()[:64] or None


def remember_discount_code(code):
    """Keep `code` for the cart (None forgets it); a week, as a shared link's offer would."""
    if code:
        set_cookie(DISCOUNT_COOKIE, code, max_age=7 * 86400)
    else:
        response.delete_cookie(DISCOUNT_COOKIE, path="/")


def log_in(user):
    """Start the account's session. A guest's cart comes along, and the guest's session ends:
    from here the visitor is the account."""
    shopper = current_shopper()
    if shopper is not None and shopper.is_guest:
        guests.merge_cart(shopper, user)
    token = users.start_session(user)
    set_cookie(SESSION_COOKIE, token, max_age=config.SESSION_DAYS * 86400)
    request.environ["app.session_token"] = token
    request.environ["app.user"] = user
    request.environ["app.shopper"] = user if user.is_customer else None


def log_out():
    users.end_session(request.environ.get("app.session_token"))
    response.delete_cookie(SESSION_COOKIE, path="/")
    request.environ["app.user"] = None
    request.environ["app.shopper"] = None


def _to_login():
    target = request.fullpath + (("?" + request.query_string) if request.query_string else "")
    redirect_to("/login?" + urlencode({"next": target}))


def require_login(callback):
    @functools.wraps(callback)
    def wrapper(*args, **kwargs):
        if current_user() is None:
            _to_login()
        return callback(*args, **kwargs)

    return wrapper


def require_login_or_guest(callback):
    """An order's pages: an account, or the guest session that bought it; anyone else logs in."""

    @functools.wraps(callback)
    def wrapper(*args, **kwargs):
        if current_user() is None and current_shopper() is None:
            _to_login()
        return callback(*args, **kwargs)

    return wrapper


def require_role(*roles):
    """Only users with one of `roles`; others get 403, anonymous visitors the login page."""

    def decorator(callback):
        @functools.wraps(callback)
        @require_login
        def wrapper(*args, **kwargs):
            if current_user().role not in roles:
                raise Forbidden("This page is not available to your account.")
            return callback(*args, **kwargs)

        return wrapper

    return decorator


# ---------------------------------------------------------------------------
# CSRF: an HMAC of the session (or of an anonymous visitor cookie)
# ---------------------------------------------------------------------------


def _csrf_binding(create=False):
    token = request.environ.get("app.session_token")
    if token and current_user() is not None:
        return "session:" + token
    visitor = request.get_cookie(ANON_COOKIE) or request.environ.get("app.visitor")
    if not visitor and create:
        visitor = security.random_token(16)
        set_cookie(ANON_COOKIE, visitor)
        request.environ["app.visitor"] = visitor
    return "visitor:" + visitor if visitor else None


def csrf_token():
    return security.sign("csrf", _csrf_binding(create=True))


class _PageToken:
    """The page's CSRF token, made when the page first prints it: a guest's page without a
    form (the catalog) sets no visitor cookie, so it is the same page for every guest."""

    def __init__(self):
        self._value = None

    def __str__(self):
        if self._value is None:
            self._value = csrf_token()
        return self._value


def check_csrf():
    binding = _csrf_binding()
    sent = form_fields().get("csrf_token") or header("X-CSRF-Token") or ""
    if not binding or not security.verify_signature("csrf", binding, sent):
        raise HTTPError(403, "The form has expired or did not come from this site. "
                             "Go back, reload the page and try again.")


class CSRFPlugin:
    """Checks the form text and the CSRF token of every POST, unless the route says
    csrf=False (webhooks, which check their own body)."""

    name = "csrf"
    api = 2

    def apply(self, callback, route):
        if route.method != "POST" or route.config.get("csrf") is False:
            return callback

        @functools.wraps(callback)
        def wrapper(*args, **kwargs):
            form_fields()
            check_csrf()
            return callback(*args, **kwargs)

        return wrapper


# ---------------------------------------------------------------------------
# Text input: UTF-8 without NUL characters
# ---------------------------------------------------------------------------

# PostgreSQL refuses NUL characters in text, and bytes that are not UTF-8 are not text
# at all: either would otherwise fail deep inside a view, as a 500 instead of a 400.
NUL_MESSAGE = "The {} contains a NUL character, which text cannot hold. Remove it and try again."
NOT_UTF8_MESSAGE = "The {} is not UTF-8 text. Check what was typed or pasted and try again."


def _checked_text(values, where):
    """A copy of a bottle FormsDict with every key and value decoded strictly; 400 when not text."""
    try:
        decoded = values.decode()
    except UnicodeError:
        raise HTTPError(400, NOT_UTF8_MESSAGE.format(where)) from None
    if any("\x00" in key or "\x00" in value for key, value in decoded.allitems()):
        raise HTTPError(400, NUL_MESSAGE.format(where))
    return decoded


def check_address():
    """Before each request: the path and the query string must be text a database can hold."""
    if "\x00" in request.path:
        raise HTTPError(400, NUL_MESSAGE.format("address"))
    _checked_text(request.query, "address")


def form_fields():
    """The submitted form's text fields as {name: value} (the last of a repeated name).

    Decodes strictly: a field that is not UTF-8 or holds a NUL answers 400. Every
    POST with a CSRF check passes through here first; the routes without one
    (gateway callbacks) call it themselves.
    """
    try:
        forms = request.forms
    except UnicodeError:  # a multipart part is decoded while the body is parsed
        raise HTTPError(400, NOT_UTF8_MESSAGE.format("form")) from None
    except ValueError:  # bottle's multipart parser refuses a part header with a NUL or line break
        raise HTTPError(400, "The form data could not be read. Reload the page and try again.") from None
    return dict(_checked_text(forms, "form"))


# ---------------------------------------------------------------------------
# Rendering, flash messages, redirects
# ---------------------------------------------------------------------------


def flash(message, kind="info"):
    payload = json.dumps([kind, message[:300]])
    set_cookie(FLASH_COOKIE, quote(payload) + "." + security.sign("flash", payload))


def _pop_flash():
    raw = request.get_cookie(FLASH_COOKIE)
    if not raw:
        return None
    response.delete_cookie(FLASH_COOKIE, path="/")
    encoded, _, signature = raw.rpartition(".")
    payload = unquote(encoded)
    if not security.verify_signature("flash", payload, signature):
        return None
    kind, message = json.loads(payload)
    return {"kind": kind, "message": message}


def unread_notifications(user):
    if user is None:
        return 0
    return (models.Notification.select()
            .where((models.Notification.user == user) & models.Notification.read_at.is_null())
            .count())


# Filled by area modules that add to the page header (the cart count, for one).
context_processors = []


def render(name, status=200, **context):
    user = current_user()
    base = {
        "user": user,
        "shopper": current_shopper(),
        "csrf_token": _PageToken(),
        "flash": _pop_flash(),
        "unread_count": unread_notifications(user),
        "money": format_money,
        # The plain amount a price field takes back ("12.50"), for forms filled in advance.
        "money_text": decimal_amount,
        "filesize": human_size,
        "app_name": config.APP_NAME,
        "path": request.path,
        "test_payments": config.TEST_PAYMENTS_ENABLED,
        "errors": {},
        "form": {},
        "title": None,
        # The header's search box shows this and nothing else: a page's own loop
        # variables share the base template's namespace, so it has a name no page reuses.
        "site_search": "",
    }
    for processor in context_processors:
        base.update(processor(user))
    base.update(context)
    response.status = status
    private = user or base["shopper"] or request.environ.get("app.private_page")
    response.set_header("Cache-Control", "no-store" if private else "no-cache")
    return bottle.template(name, **base)


def redirect_to(location, status=303):
    """A 303 after a POST, so reloading the next page does not post again.

    The response is copied, as bottle.redirect does, to keep the cookies set so far.
    """
    redirect = response.copy(cls=HTTPResponse)
    redirect.status = status
    redirect.body = ""
    redirect.set_header("Location", location)
    raise redirect


def safe_next(target, default="/"):
    """Where a `next=` may send the visitor: a path on this site, else `default`.

    Every `next=` goes through here. Refused: anything not starting with one "/"
    (absolute and scheme-relative URLs), backslashes (browsers read them as "/"),
    and control characters and spaces: browsers strip tabs and line breaks from a
    URL, so "/\t/evil.example" would become "//evil.example", and a header cannot
    carry them at all. Non-ASCII text is sent percent-encoded, as a Location must be.
    """
    if not isinstance(target, str) or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target or any(ord(char) <= 0x20 or 0x7f <= ord(char) <= 0x9f for char in target):
        return default
    return quote(target, safe="/?&=#%:@!$'()*+,;~-._")


def json_response(data, status=200):
    response.status = status
    response.content_type = "application/json"
    return json.dumps(data, default=str)


def get_object_or_404(query, message="Not found."):
    obj = query.first()
    if obj is None:
        raise NotFound(message)
    return obj


def int_param(value, default=None, minimum=None, maximum=MAX_ID):
    """A whole number from a form or query field, or `default` when it is none or out of range:
    a number past the database's range would raise there instead of finding nothing."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        return default
    return number


def _count(query, cap=None):
    """The rows `query` matches, up to cap + 1 with a cap."""
    return (query if cap is None else query.limit(cap + 1)).count()


class Page:
    """One page of a query: items, page number, total pages.

    With `cap`, counting stops after `cap` rows: `capped` says there are more ("more than
    1,000 found"), `pages` counts only those, and a page past them is still served, with
    a next page while it is full.
    """

    def __init__(self, query, number, per_page=12, count_query=None, cap=None, count=None):
        # count_query: the same rows without the joins that only serve the display;
        # count(query, cap): what counts them, _count unless the caller shares its counts.
        counted = query if count_query is None else count_query  # a query's truth runs it
        found = (count or _count)(counted, cap)
        self.capped = cap is not None and found > cap
        self.total = min(found, cap) if self.capped else found
        self.pages = max(1, math.ceil(self.total / per_page))
        number = max(1, number or 1)
        self.number = number if self.capped else min(number, self.pages)
        self.items = list(query.paginate(self.number, per_page))
        self.has_prev = self.number > 1
        self.has_next = self.number < self.pages or (self.capped and len(self.items) == per_page)


def form_data(*fields):
    """The submitted text fields, stripped, as a dict (for re-rendering a form)."""
    return {field: (request.forms.getunicode(field) or "").strip() for field in fields}


def validation_page(template_name, exc, form, status=400, **context):
    return render(template_name, status=status, errors=exc.errors or {"_": str(exc)},
                  form=form, error_message=str(exc), **context)


def timed(callback):
    """Server-Timing header, for looking at page times in a browser's devtools."""

    @functools.wraps(callback)
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        result = callback(*args, **kwargs)
        response.set_header("Server-Timing", f"app;dur={(time.perf_counter() - start) * 1000:.1f}")
        return result

    return wrapper


__all__ = [
    "RouteTable", "current_user", "current_shopper", "shopper_for_cart", "require_shopper", "require_login", "require_login_or_guest", "require_role", "render", "redirect_to",
    "json_response", "get_object_or_404", "flash", "Page", "form_data", "validation_page",
    "ValidationError", "Forbidden", "NotFound", "request", "response", "csrf_token", "form_fields",
    "header", "lenient_header", "id_filter", "int_param", "safe_next", "client_ip",
    "discount_code", "remember_discount_code",
]
