"""/api/v1: the JSON API, for the tools of sellers and shop owners.

Every route is an Operation of one table (OPERATIONS); the routes and the OpenAPI
document at /api/v1/openapi.json are both made from it. Requests carry a personal
access token as `Authorization: Bearer ...`; the session cookie is never read, so
no page's cookie can act here, and there is no CSRF check to make. Every answer is
JSON, errors included: {"error": {"code": ..., "message": ...}}.
"""

import functools
import json

from models import Product, db
from shop import config
from shop.accounts import verification
from shop.api import errors, rate_limit, resources, schemas, tokens
from shop.api.openapi import API_PREFIX, Operation, build_document
from shop.api.params import LIST_PARAMS, Param, id_param
from shop.errors import MarketplaceError, ValidationError
import tasks
from shop_web.common import RouteTable, header, json_response, request, response

routes = RouteTable()

MAX_BODY_BYTES = 64 * 1024


def _error_answer(exc):
    for name, value in exc.headers.items():
        response.set_header(name, value)
    return json_response(errors.error_body(exc.status, str(exc), exc.code), exc.status)


def _read_body(schema):
    """The JSON object of the request body, checked against the declared `schema`'s
    property names and types (the body schemas of this API are flat objects)."""
    if (request.content_length or 0) > MAX_BODY_BYTES:
        raise errors.ApiError(413, "payload_too_large", f"The body is larger than {MAX_BODY_BYTES} bytes.")
    try:
        body = json.loads(request.body.read(MAX_BODY_BYTES + 1) or b"null")
    except (ValueError, UnicodeDecodeError):
        raise errors.ApiError(400, "invalid_body", "The body is not JSON.") from None
    if not isinstance(body, dict) or not body:
        raise errors.ApiError(400, "invalid_body", "The body must be a JSON object with at least one field.")
    kinds = {"string": str, "integer": int}
    for name, value in body.items():
        declared = schema["properties"].get(name)
        if declared is None:
            raise errors.ApiError(400, "invalid_body", f"{name}: no such field.")
        if not isinstance(value, kinds[declared["type"]]) or isinstance(value, bool):
            raise errors.ApiError(400, "invalid_body", f"{name}: must be a {declared['type']}.")
        if isinstance(value, int) and not declared["minimum"] <= value <= declared["maximum"]:
            raise errors.ApiError(400, "invalid_body", f"{name}: out of range.")
        if isinstance(value, str) and not declared["minLength"] <= len(value) <= declared["maxLength"]:
            raise errors.ApiError(400, "invalid_body", f"{name}: wrong length.")
    return body


def _serve(operation):
    """The bottle callback of `operation`: token, rate limit, scope, parameters, answer."""

    @functools.wraps(operation.handler)
    def callback(**path_values):
        try:
            user = None
            if operation.scope:
                token = tokens.authenticate(header("Authorization"))
                allowance = rate_limit.count_request(token.id)
                for name, value in allowance.headers().items():
                    response.set_header(name, value)
                tokens.require_scope(token, operation.scope)
                user = token.user
            values = {}
            for param in operation.params:
                raw = path_values.get(param.name) if param.location == "path" else request.query.get(param.name)
                values[param.name] = param.read(raw)
            body = _read_body(operation.request_body) if operation.request_body is not None else None
            response.set_header("Cache-Control", "no-store")
            return json_response(operation.handler(user, values, body))
        except errors.ApiError as exc:
            return _error_answer(exc)
        except ValidationError as exc:
            answer = errors.error_body(400, str(exc), "validation_failed")
            if exc.errors:
                answer["error"]["fields"] = {str(k): str(v) for k, v in exc.errors.items()}
            return json_response(answer, 400)
        except MarketplaceError as exc:
            return json_response(errors.error_body(exc.status, str(exc)), exc.status)

    return callback


# ---------------------------------------------------------------------------
# The operations
# ---------------------------------------------------------------------------

PRODUCT_STATUS = Param("status", {"type": "string", "enum": ["pending", "approved", "rejected"]},
                       "Only products in this state.")
ORDER_STATUS = Param("status", {"type": "string", "enum": ["pending", "paid", "failed", "expired", "refunded"]},
                     "Only orders in this state.")


def _lister(list_function):
    return lambda user, values, body: list_function(user, values)


def _getter(get_function):
    return lambda user, values, body: get_function(user, values["id"])


def _update_product(user, values, body):
    """As the seller's edit form: an unverified seller may not change what goes for review,
    and a product sent back to review is announced to the admins in the same transaction."""
    if user.is_seller and not user.email_verified:
        raise errors.forbidden(verification.MUST_VERIFY_TO_SELL, code="email_not_verified")
    with db.atomic():
        product, review_again = resources.update_product(user, values["id"], body)
        if review_again:
            tasks.submitted_for_review(Product.get_by_id(product["id"]))
    return {"product": product, "sent_back_to_review": review_again}


def _document(user, values, body):
    return build_document(OPERATIONS, config.APP_NAME, config.APP_URL)


def _resource(name, plural, schema, list_function, get_function, extra_params=()):
    return (
        Operation("GET", f"{API_PREFIX}/{plural}", f"list_{plural}", f"A page of {plural}, newest first.", "read",
                  LIST_PARAMS + tuple(extra_params), schemas.page_of(schema), _lister(list_function)),
        Operation("GET", f"{API_PREFIX}/{plural}/{{id}}", f"get_{name}", f"One {name}.", "read",
                  (id_param(f"The {name}'s id."),), schemas.ref(schema), _getter(get_function)),
    )


OPERATIONS = (
    Operation("GET", f"{API_PREFIX}/openapi.json", "get_openapi_document", "This document.", None, (),
              {"type": "object", "required": ["openapi", "paths"]}, _document),
    *_resource("product", "products", "Product", resources.list_products, resources.get_product, [PRODUCT_STATUS]),
    Operation("PATCH", f"{API_PREFIX}/products/{{id}}", "update_product",
              "Change a product's title, description or price (a changed title or description sends an approved "
              "product back to review).", "write", (id_param("The product's id."),),
              schemas.ref("ProductUpdated"), _update_product, schemas.COMPONENTS["ProductUpdate"]),
    *_resource("order", "orders", "Order", resources.list_orders, resources.get_order, [ORDER_STATUS]),
    *_resource("sale", "sales", "Sale", resources.list_sales, resources.get_sale),
    *_resource("customer", "customers", "Customer", resources.list_customers, resources.get_customer),
    *_resource("payout", "payouts", "Payout", resources.list_payouts, resources.get_payout),
)

for _operation in OPERATIONS:
    routes.route(_operation.route_path, _operation.method, csrf=False)(_serve(_operation))
