"""The public license API, for the sellers' software to check its buyers' keys:

    POST /api/licenses/v1/activate    key, instance_name  -> 200 {"activated": true, "instance": {"id": ...}, ...}
    POST /api/licenses/v1/validate    key[, instance_id]  -> 200 {"valid": true, ...}
    POST /api/licenses/v1/deactivate  key, instance_id    -> 200 {"deactivated": true, ...}

Fields come as JSON or as a form. It runs inside the buyer's copy of the software, so
it asks for no secret and no CSRF token (a forged request gains nothing a copy of the
key would not); it is rate limited per key and per address instead. A refusal is a
4xx with {"error": {"code": <stable code>, "message": <text>}}, the shape of the shop's
other JSON answers under /api/: key_not_found, key_disabled,
key_expired, order_refunded, activation_limit_reached, instance_not_found,
invalid_request, rate_limited.
"""

import hashlib
import json

from shop import config
from shop.accounts import users
from shop.selling import licenses
from shop.selling.licenses import LicenseProblem, LicenseRefused
from models import LicenseActivation, db
import tasks
from shop_web.common import RouteTable, client_ip, form_fields, json_response, request, response

routes = RouteTable()

PREFIX = "/api/licenses/v1"
MAX_BODY_BYTES = 4096
WINDOW_SECONDS = 60


def _fields():
    """The call's fields from a JSON object or a form; LicenseRefused when neither can be read."""
    if (request.content_length or 0) > MAX_BODY_BYTES:
        raise LicenseRefused(LicenseProblem.INVALID_REQUEST, f"The request is larger than {MAX_BODY_BYTES} bytes.")
    if (request.content_type or "").startswith("application/json"):
        try:
            data = json.loads(request.body.read(MAX_BODY_BYTES + 1).decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise LicenseRefused(LicenseProblem.INVALID_REQUEST, "The body is not a JSON object.") from None
        if not isinstance(data, dict) or not all(isinstance(v, (str, type(None))) for v in data.values()):
            raise LicenseRefused(LicenseProblem.INVALID_REQUEST, "Send a JSON object of text fields.")
        if any("\x00" in (value or "") for value in data.values()):
            raise LicenseRefused(LicenseProblem.INVALID_REQUEST, "A field contains a NUL character.")
        return {key: value or "" for key, value in data.items()}
    return form_fields()


def _throttle(key_text):
    """Count the call against its address and its key, before anything is looked up."""
    checks = [(f"license-address:{client_ip()}", config.LICENSE_API_PER_ADDRESS_PER_MINUTE)]
    if key_text:
        digest = hashlib.sha256(licenses.normalise(key_text).encode("utf-8")).hexdigest()[:40]
        checks.append((f"license-key:{digest}", config.LICENSE_API_PER_KEY_PER_MINUTE))
    for counter, limit in checks:
        with db.atomic():
            attempts, _ = users.count_attempt(counter, window_seconds=WINDOW_SECONDS)
        if attempts > limit:
            response.set_header("Retry-After", str(WINDOW_SECONDS))
            raise LicenseRefused(LicenseProblem.RATE_LIMITED, "Too many calls; try again in a minute.")


def _call(action):
    try:
        fields = _fields()
        _throttle(fields.get("key"))
        return json_response(action(fields))
    except LicenseRefused as refused:
        return json_response({"error": {"code": refused.problem.code, "message": str(refused)}},
                             refused.problem.status)


def _activate(fields):
    """Activate, and ask for the license.activated webhooks in the same transaction."""
    with db.atomic():
        answer = licenses.activate(fields.get("key"), fields.get("instance_name"))
        activation = LicenseActivation.get(LicenseActivation.instance_id == answer["instance"]["id"])
        tasks.publish_after_commit("license.activated", activation.id)
    return {"activated": True, **answer}


@routes.post(f"{PREFIX}/activate", csrf=False)
def license_activate():
    return _call(_activate)


@routes.post(f"{PREFIX}/validate", csrf=False)
def license_validate():
    return _call(lambda fields: {"valid": True, **licenses.validate(fields.get("key"), fields.get("instance_id"))})


@routes.post(f"{PREFIX}/deactivate", csrf=False)
def license_deactivate():
    return _call(lambda fields: {"deactivated": True,
                                 **licenses.deactivate(fields.get("key"), fields.get("instance_id"))})
