"""The JSON Schemas (2020-12, as OpenAPI 3.1 uses) of what the API answers. The routes'
serialisers (resources.py) and these are checked against each other by the suite's
property test, which validates every answer against the document."""

from models import DISCOUNT_KINDS, PAYOUT_STATUSES

LICENSE_STATUSES = ("active", "expired", "refunded", "disabled")

STRING = {"type": "string"}
NULLABLE_STRING = {"type": ["string", "null"]}
TIME = {"type": "string", "format": "date-time"}
NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}
INTEGER = {"type": "integer"}
NULLABLE_INTEGER = {"type": ["integer", "null"]}
ID = {"type": "integer", "minimum": 1}


def _object(properties):
    return {"type": "object", "properties": properties, "required": sorted(properties),
            "additionalProperties": False}


PERSON = _object({"id": ID, "name": STRING, "email": STRING})

COMPONENTS = {
    "Error": _object({"error": {
        "type": "object", "required": ["code", "message"], "additionalProperties": False,
        "properties": {"code": STRING, "message": STRING,
                       "fields": {"type": "object", "additionalProperties": STRING}}}}),
    "Product": _object({
        "id": ID, "seller_id": ID, "title": STRING, "slug": STRING, "description": STRING, "price": INTEGER,
        "currency": STRING, "status": {"enum": ["pending", "approved", "rejected"]},
        "rejection_reason": NULLABLE_STRING, "file_name": NULLABLE_STRING, "file_size": INTEGER,
        "download_count": INTEGER, "created_at": TIME, "updated_at": TIME, "approved_at": NULLABLE_TIME}),
    "ProductUpdate": {"type": "object", "additionalProperties": False, "minProperties": 1,
                      "properties": {"title": {"type": "string", "minLength": 1, "maxLength": 200},
                                     "description": {"type": "string", "minLength": 1, "maxLength": 20000},
                                     "price": {"type": "integer", "minimum": 0, "maximum": 10 ** 9}}},
    "ProductUpdated": _object({"product": {"$ref": "#/components/schemas/Product"},
                               "sent_back_to_review": {"type": "boolean"}}),
    "Sale": _object({
        "id": ID, "order_id": ID, "order_reference": STRING, "product_id": ID, "seller_id": ID, "buyer": PERSON,
        "amount": INTEGER, "platform_fee": INTEGER, "seller_amount": INTEGER, "currency": STRING,
        "refunded": {"type": "boolean"}, "created_at": TIME}),
    "Order": _object({
        "id": ID, "reference": STRING, "status": {"enum": ["pending", "paid", "failed", "expired", "refunded"]},
        "gateway": STRING, "currency": STRING, "total": INTEGER, "buyer": PERSON,
        "items": {"type": "array", "items": _object({"product_id": ID, "seller_id": ID, "title": STRING,
                                                      "price": INTEGER, "list_price": INTEGER,
                                                      "discount": INTEGER, "currency": STRING})},
        "created_at": TIME, "paid_at": NULLABLE_TIME, "refunded_at": NULLABLE_TIME}),
    "Customer": _object({"id": ID, "name": STRING, "email": STRING, "created_at": TIME}),
    # status: a Stripe payout is "sending" or "transferred" until the bank has it ("paid"),
    # and "returned" when its money went back to the seller's balance.
    # key is the text the buyer types; status as licenses.state reads it.
    "LicenseKey": _object({
        "id": ID, "key": STRING, "product_id": ID, "seller_id": ID, "order_id": ID, "order_reference": STRING,
        "buyer": PERSON, "status": {"enum": list(LICENSE_STATUSES)}, "disabled_reason": NULLABLE_STRING,
        "activation_limit": INTEGER, "activation_count": INTEGER,
        "activations": {"type": "array", "items": _object({"instance_id": STRING, "name": STRING,
                                                            "created_at": TIME,
                                                            "last_validated_at": NULLABLE_TIME})},
        "expires_at": NULLABLE_TIME, "disabled_at": NULLABLE_TIME, "created_at": TIME}),
    # seller_id null: a shop-wide code of the owner. amount is a percent or minor units of currency.
    "DiscountCode": _object({
        "id": ID, "code": STRING, "seller_id": {"type": ["integer", "null"], "minimum": 1},
        "kind": {"enum": list(DISCOUNT_KINDS)}, "amount": INTEGER, "currency": NULLABLE_STRING,
        "all_products": {"type": "boolean"}, "product_ids": {"type": "array", "items": ID},
        "starts_at": NULLABLE_TIME, "ends_at": NULLABLE_TIME, "used_count": INTEGER,
        "max_uses": NULLABLE_INTEGER, "max_uses_per_customer": NULLABLE_INTEGER, "min_order": NULLABLE_INTEGER,
        "disabled_at": NULLABLE_TIME, "created_at": TIME}),
    "Payout": _object({"id": ID, "seller_id": ID, "amount": INTEGER, "currency": STRING, "method": STRING,
                       "reference": STRING, "status": {"enum": list(PAYOUT_STATUSES)}, "created_at": TIME}),
}


def ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


def page_of(name):
    return _object({"data": {"type": "array", "items": ref(name)}, "next_cursor": NULLABLE_STRING})
