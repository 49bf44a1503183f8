"""The web app `app` (marketplace:app is the WSGI entry point).

Each module of shop_web/ holds the pages of one audience; they are attached here.
The request hooks open the database connection, load the visitor and refuse
bodies over the upload limit; expected errors become 4xx pages, anything else is
logged with its traceback and shown as a plain 500 page.
"""

import logging
import sys
import time
from urllib.parse import urlparse

import bottle
from bottle import Bottle, HTTPError, HTTPResponse, request, response

from shop import config
import models
import tasks
from shop_web import common
from shop.errors import MarketplaceError, MissingObject, StorageError, TooManyRequests
from shop.api import errors as api_errors

log = logging.getLogger("marketplace")

# gunicorn imports this module to start the web app: the web process's start-up.
tasks.start()

app = Bottle()
# <id:int> in a route takes only ids a row can have; a larger number is a 400, not a 500.
app.router.add_filter("int", common.id_filter)
app.install(common.CSRFPlugin())

# Bodies larger than this are spooled to a temporary file instead of memory.
bottle.BaseRequest.MEMFILE_MAX = 1024 * 1024


# ---------------------------------------------------------------------------
# Request hooks
# ---------------------------------------------------------------------------


def _max_body_bytes():
    # A product upload carries the file and a thumbnail plus a little form text.
    return (config.UPLOAD_MAX_MB + config.THUMBNAIL_MAX_MB) * 1024 * 1024 + 64 * 1024


@app.hook("before_request")
def before_request():
    request.environ["app.started"] = time.perf_counter()
    try:
        length = request.content_length
    except ValueError:
        raise HTTPError(400, "The Content-Length is not a number.") from None
    if length > _max_body_bytes():
        raise HTTPError(413, f"The upload is too large: the limit is {config.UPLOAD_MAX_MB} MB.")
    if length < 0 and "chunked" in (common.header("Transfer-Encoding") or "").lower():
        raise HTTPError(411, "Send a Content-Length with the request body.")
    common.check_address()
    models.db.connect(reuse_if_open=True)
    common.load_visitor()


@app.hook("after_request")
def after_request():
    response.set_header("X-Content-Type-Options", "nosniff")
    response.set_header("X-Frame-Options", "DENY")
    # A page whose address holds a secret (a password reset link) asks for no referrer at all.
    if "Referrer-Policy" not in response.headers:
        response.set_header("Referrer-Policy", "same-origin")
    response.set_header("Content-Security-Policy", content_security_policy())
    if not models.db.is_closed():
        models.db.close()


def _extra_form_targets():
    targets = []
    if config.STRIPE_ENABLED:
        targets.append("https://checkout.stripe.com")
    if config.PAYTM_ENABLED:
        targets.append(config.PAYTM_HOST)
    return targets


def _media_origin():
    """The bucket's public URL or CDN that serves the thumbnails, when it is not this site."""
    parsed = urlparse(config.MEDIA_URL)
    return [f"{parsed.scheme}://{parsed.netloc}"] if parsed.netloc else []


def content_security_policy():
    """The page's CSP. A page that embeds a gateway's checkout (Paytm's JS) widens it for
    itself alone by putting {directive: [sources]} in request.environ["app.csp_extra"]."""
    directives = {
        "default-src": ["'self'"],
        "img-src": ["'self'", "data:", *_media_origin()],
        "style-src": ["'self'"],
        "script-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'", *_extra_form_targets()],
    }
    for directive, sources in (request.environ.get("app.csp_extra") or {}).items():
        directives.setdefault(directive, ["'self'"]).extend(s for s in sources if s not in directives[directive])
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------


def _wants_json():
    # Read leniently: the error page answers whatever the request held, Accept included.
    accept = common.lenient_header("Accept")
    return request.path.startswith(("/webhooks/", "/api/")) or (
        "application/json" in accept and "text/html" not in accept)


def error_page(status, message):
    """The error page of `status`; it cannot fail. When the page cannot be rendered (the
    database is down, the request holds what the page cannot read), plain text answers."""
    try:
        if request.path.startswith("/api/"):
            return common.json_response(api_errors.error_body(status, message), status)
        if _wants_json():
            return common.json_response({"error": message}, status)
        return common.render("error.tpl", status=status, title=f"Error {status}", status_code=status,
                             message=message)
    except Exception:
        log.exception("error page %s could not be rendered; answered in plain text", status)
    return _plain_error(status, message)


def _plain_error(status, message):
    """What answers when nothing else can: the status and the message."""
    response.status = status
    response.content_type = "text/plain; charset=utf-8"
    return message


class ErrorPlugin:
    """Turns the named errors of shop/errors.py into 4xx pages; logs anything unexpected."""

    name = "errors"
    api = 2

    def apply(self, callback, route):
        def wrapper(*args, **kwargs):
            try:
                return callback(*args, **kwargs)
            except HTTPResponse:
                raise
            except TooManyRequests as exc:
                response.set_header("Retry-After", str(exc.retry_after))
                return error_page(exc.status, str(exc))
            except MissingObject as exc:
                log.error("%s %s: %s", request.method, request.path, exc)
                return error_page(404, "This file is missing on our side. It has been logged; "
                                       "please contact the shop.")
            except StorageError as exc:
                # The message names the bucket and the key: for the log, not for the visitor.
                log.error("%s %s: %s", request.method, request.path, exc)
                return error_page(503, "The shop's file storage cannot be reached right now, so this was not "
                                       "done. Please try again in a few minutes.")
            except MarketplaceError as exc:
                return error_page(exc.status, str(exc))
            except Exception:
                log.exception("unhandled error on %s %s", request.method, request.path)
                return error_page(500, "Something went wrong on our side. It has been logged; "
                                       "please try again in a moment.")

        return wrapper


app.install(ErrorPlugin())

_STATUS_MESSAGES = {
    404: "There is nothing at this address.",
    405: "That action is not allowed here.",
    413: "The upload is too large.",
}


def _bottle_error(error):
    message = error.body if isinstance(error.body, str) and error.body else _STATUS_MESSAGES.get(
        error.status_code, "The request could not be handled.")
    if error.status_code >= 500:
        if error.traceback:
            log.error("unhandled error on %s %s\n%s", request.method, request.path, error.traceback)
        message = "Something went wrong on our side. It has been logged; please try again in a moment."
    return error_page(error.status_code, message)


for _code in (400, 401, 403, 404, 405, 411, 413, 429, 500):
    app.error(_code)(_bottle_error)


# ---------------------------------------------------------------------------
# Health
# ---------------------------------------------------------------------------


@app.get("/healthz")
def healthz():
    from shop.operations import health, reachability

    report = health.check()
    # Which server answered: the start-up check of APP_URL looks for its own.
    report["server"] = reachability.SERVER_ID
    return common.json_response(report, 200 if report["ok"] else 503)


# ---------------------------------------------------------------------------
# Areas
# ---------------------------------------------------------------------------

from shop_web import accounts  # noqa: E402
from shop_web import api  # noqa: E402
from shop_web import admin  # noqa: E402
from shop_web import checkout  # noqa: E402
from shop_web import customer  # noqa: E402
from shop_web import integrations  # noqa: E402
from shop_web import queue_admin  # noqa: E402
from shop_web import seller  # noqa: E402
from shop_web import storefront  # noqa: E402
from shop_web import webhooks  # noqa: E402

for _area in (accounts, api, integrations, storefront, seller, admin, checkout, customer, webhooks, queue_admin):
    _area.routes.attach(app)


if __name__ == "__main__":  # `python marketplace.py ...` is the `marketplace` command
    from shop import cli

    sys.exit(cli.main())


__all__ = ["app", "tasks"]
