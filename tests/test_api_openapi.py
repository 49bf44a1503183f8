"""The OpenAPI document of /api/v1: it names exactly the routes that exist, its schemas are
valid JSON Schema, and every operation run with generated parameters (valid ones and
garbage) answers without a 5xx and with a body that matches the document."""

import json
import string
from urllib.parse import quote, urlencode

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import marketplace
from shop.api import tokens
from models import DiscountCode, DiscountCodeProduct
from shop.selling import licenses
from tests.test_api import bearer, paid_order, sell_with_license_keys


def document(client):
    return client.get("/api/v1/openapi.json").json


def test_the_document_names_every_api_route_and_no_other(client):
    # The public license API (/api/licenses/v1) is not part of it: it takes no token and
    # is described in the README.
    routes = {(route.method, route.rule) for route in marketplace.app.routes
              if route.rule.startswith("/api/") and not route.rule.startswith("/api/licenses/")}
    documented = {(method.upper(), path.replace("{", "<").replace("}", ">"))
                  for path, operations in document(client)["paths"].items() for method in operations}
    assert routes == documented and len(routes) >= 16


def test_the_documents_schemas_are_json_schema_2020_12(client):
    doc = document(client)
    assert doc["openapi"] == "3.1.0"
    for schema in doc["components"]["schemas"].values():
        jsonschema.Draft202012Validator.check_schema(schema)


GARBAGE = st.one_of(st.text(max_size=30), st.text(string.digits, min_size=1, max_size=25),
                    st.sampled_from(["-1", "0", "2147483648", "1e3", "null", "%00", "\u00e9", "9" * 40]))


def value_for(schema):
    """Values a parameter of `schema` may take, and garbage."""
    if schema.get("type") == "integer":
        valid = st.integers(schema.get("minimum", 0), schema.get("maximum", 2 ** 31 - 1)).map(str)
    elif schema.get("format") == "date-time":
        valid = st.datetimes().map(lambda moment: moment.isoformat() + "Z")
    elif "enum" in schema:
        valid = st.sampled_from(schema["enum"])
    else:
        valid = st.text(max_size=40)
    return st.one_of(valid, GARBAGE)


def body_for(schema):
    fields = {name: st.one_of(st.text(max_size=50), st.integers(-5, 10 ** 10), st.none(), st.booleans())
              for name in schema["properties"]}
    return st.one_of(st.fixed_dictionaries({}, optional=fields), st.text(max_size=20), st.lists(st.integers()))


@pytest.fixture
def shop_with_data(app_env, two_sellers, make_user):
    app_env.reload(API_RATE_LIMIT_PER_MINUTE=100000)
    paid_order(make_user("customer"), [two_sellers["presets"], two_sellers["ebook"]])
    # A row of every resource, nullable fields both set and not: keys (one activated, one
    # disabled) and codes (a seller's limited to a product, another's fixed, a shop-wide one).
    keys = sell_with_license_keys(make_user("customer"), [two_sellers["presets"], two_sellers["ebook"]])
    licenses.activate(keys[two_sellers["presets"].id].key, "studio-mac")
    licenses.disable(keys[two_sellers["ebook"].id])
    limited = DiscountCode.create(code="SAMS10", seller=two_sellers["sam"], kind="percent", amount=10,
                                  all_products=0, max_uses=5, max_uses_per_customer=1, min_order=1000,
                                  currency="USD")
    DiscountCodeProduct.create(discount_code=limited, product=two_sellers["presets"])
    DiscountCode.create(code="PRIYA5", seller=two_sellers["priya"], kind="fixed", amount=500, currency="USD")
    DiscountCode.create(code="SHOPWIDE", kind="percent", amount=15)
    # A seller's token and an admin's: each sees its own rows (the shop-wide code only the admin).
    return [tokens.make_token(user, "everything", "read write", 30)[1] for user in (two_sellers["sam"],
                                                                                   make_user("admin"))]


def _checked_answer(doc, operation, answer):
    assert answer.status_int < 500, answer.text
    assert str(answer.status_int) in operation["responses"], (answer.status_int, answer.text)
    assert answer.content_type == "application/json"
    schema = operation["responses"][str(answer.status_int)]["content"]["application/json"]["schema"]
    jsonschema.validate(json.loads(answer.body), {**schema, "components": doc["components"]},
                        cls=jsonschema.Draft202012Validator)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_every_operation_with_generated_input_answers_as_documented(client, shop_with_data, data):
    doc = document(client)
    calls = [(path, method, op) for path, ops in doc["paths"].items() for method, op in ops.items()]
    path, method, operation = data.draw(st.sampled_from(calls))
    query, concrete = {}, path
    for param in operation["parameters"]:
        if param["in"] == "path":
            text = data.draw(st.one_of(st.sampled_from(["1", "2", "3"]), value_for(param["schema"])))
            concrete = concrete.replace("{" + param["name"] + "}", quote(text, safe="") or "x")
        elif data.draw(st.booleans()):
            query[param["name"]] = data.draw(value_for(param["schema"]))
    headers = bearer(data.draw(st.sampled_from([*shop_with_data, *shop_with_data, "mp_wrong"])))
    if method == "get":
        answer = client.get(concrete, params=query, headers=headers, expect_errors=True)
    else:
        body = data.draw(body_for(operation["requestBody"]["content"]["application/json"]["schema"]))
        answer = client.request(concrete + "?" + urlencode(query), method=method.upper(),
                                body=json.dumps(body).encode(), headers={**headers, "Content-Type": "application/json"},
                                expect_errors=True)
    _checked_answer(doc, operation, answer)
