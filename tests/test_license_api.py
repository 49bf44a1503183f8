"""The public license API as the seller's software would call it, over HTTP to a served shop:
activate, validate and deactivate, each refusal with its stable code, the rate limits, and
activations sent at once that never pass the key's limit."""

import datetime
import json
import urllib.error
import urllib.parse
import urllib.request

import pytest

from shop.accounts import personal_data
from shop.orders import cart, fulfilment, orders
from shop.selling import licenses
from models import LicenseActivation, LicenseKey, User, utcnow
from tests.concurrency import send_at_once
from tests.conftest import PASSWORD
from tests.shop_fixtures import make_product

API = "/api/licenses/v1"


def sold_key(make_user, limit=2, days=None, title="Synth plugin"):
    """A key as a sale issues it: a product with license keys bought and paid (the jobs run)."""
    seller = make_user("seller")
    product = make_product(seller, title, 2900)
    product.license_activations, product.license_days = limit, days
    product.save()
    customer = make_user("customer")
    cart.add(customer, product.id)
    order = orders.create_from_cart(customer, "test")
    assert orders.mark_paid(order.id, "pi_license")
    return LicenseKey.get(LicenseKey.product == product), order


def call(live_app, action, fields, as_json=True, address="192.0.2.10"):
    """(status, answer) of one API call, sent as JSON (or as a form)."""
    body = json.dumps(fields).encode() if as_json else urllib.parse.urlencode(fields).encode()
    kind = "application/json" if as_json else "application/x-www-form-urlencoded"
    request = urllib.request.Request(f"{live_app.url}{API}/{action}", data=body,
                                     headers={"Content-Type": kind, "X-Real-IP": address})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_activate_validate_and_deactivate_an_instance(live_app, make_user):
    key, _ = sold_key(make_user)
    status, answer = call(live_app, "activate", {"key": key.key.lower(), "instance_name": "studio-mac"})
    assert status == 200 and answer["activated"] is True
    instance_id = answer["instance"]["id"]
    assert answer["instance"]["name"] == "studio-mac" and answer["product"]["name"] == "Synth plugin"
    assert answer["license_key"] == {**answer["license_key"], "status": "active", "activation_limit": 2,
                                     "activation_usage": 1, "expires_at": None}
    status, answer = call(live_app, "validate", {"key": key.key, "instance_id": instance_id}, as_json=False)
    assert status == 200 and answer["valid"] is True and answer["instance"]["id"] == instance_id
    assert call(live_app, "validate", {"key": key.key})[1]["instance"] is None
    status, answer = call(live_app, "deactivate", {"key": key.key, "instance_id": instance_id})
    assert status == 200 and answer["deactivated"] is True and answer["license_key"]["activation_usage"] == 0
    assert call(live_app, "validate", {"key": key.key, "instance_id": instance_id}) == (
        404, {"error": {"code": "instance_not_found", "message": "This key has no such instance."}})


def test_each_refusal_has_its_code(live_app, make_user):
    key, order = sold_key(make_user, limit=1)
    assert call(live_app, "validate", {"key": "NOPE-NOPE"})[1]["error"]["code"] == "key_not_found"
    assert call(live_app, "activate", {"key": key.key})[:1] == (400,)
    assert call(live_app, "activate", {"instance_name": "x"})[1]["error"]["code"] == "invalid_request"
    assert call(live_app, "activate", {"key": key.key, "instance_name": "a"})[0] == 200
    status, answer = call(live_app, "activate", {"key": key.key, "instance_name": "b"})
    assert (status, answer["error"]["code"]) == (409, "activation_limit_reached")

    LicenseKey.update(expires_at=utcnow() - datetime.timedelta(days=1)).where(LicenseKey.id == key.id).execute()
    assert call(live_app, "validate", {"key": key.key})[1]["error"]["code"] == "key_expired"
    LicenseKey.update(expires_at=None).where(LicenseKey.id == key.id).execute()
    licenses.disable(LicenseKey.get_by_id(key.id))
    assert call(live_app, "validate", {"key": key.key}) == (
        403, {"error": {"code": "key_disabled", "message": "This license key has been disabled by its seller."}})

    other, other_order = sold_key(make_user, title="Reverb plugin")
    assert fulfilment.refund_order(other_order.id)
    status, answer = call(live_app, "activate", {"key": other.key, "instance_name": "laptop"})
    assert (status, answer["error"]["code"]) == (403, "order_refunded")


def test_bad_bodies_are_refused_as_json(live_app):
    request = urllib.request.Request(f"{live_app.url}{API}/validate", data=b"{not json",
                                     headers={"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 400 and json.loads(refused.value.read())["error"]["code"] == "invalid_request"
    assert call(live_app, "validate", {"key": ["a"]})[1]["error"]["code"] == "invalid_request"


def test_calls_are_rate_limited_per_key_and_per_address(live_app, make_user, app_env):
    app_env.reload(LICENSE_API_PER_KEY_PER_MINUTE=3, LICENSE_API_PER_ADDRESS_PER_MINUTE=5)
    key, _ = sold_key(make_user)
    answers = [call(live_app, "validate", {"key": key.key}, address=f"198.51.100.{n}") for n in range(4)]
    assert [status for status, _ in answers] == [200, 200, 200, 429]
    assert answers[-1][1]["error"]["code"] == "rate_limited"
    # One address guessing keys is stopped at its own limit, whatever keys it tries.
    guesses = [call(live_app, "validate", {"key": f"GUESS-{n}"}, address="203.0.113.9")[0] for n in range(6)]
    assert guesses == [404] * 5 + [429]


def test_activations_sent_at_once_never_pass_the_limit(live_app, make_user):
    key, _ = sold_key(make_user, limit=3)
    requests = [urllib.request.Request(
        f"{live_app.url}{API}/activate", data=json.dumps({"key": key.key, "instance_name": f"machine {n}"}).encode(),
        headers={"Content-Type": "application/json", "X-Real-IP": f"198.51.100.{n}"}) for n in range(20)]
    statuses = sorted(status for status, _ in send_at_once(requests))
    assert statuses == [200] * 3 + [409] * 17
    assert LicenseActivation.select().count() == 3 and LicenseKey.get_by_id(key.id).activation_count == 3


def test_the_seller_resets_activations_and_replaces_a_key(live_app, make_user):
    key, _ = sold_key(make_user, limit=1)
    assert call(live_app, "activate", {"key": key.key, "instance_name": "old laptop"})[0] == 200
    assert licenses.reset_activations(key) == 1
    assert call(live_app, "activate", {"key": key.key, "instance_name": "new laptop"})[0] == 200
    replacement = licenses.replace(LicenseKey.get_by_id(key.id))
    assert replacement.key != key.key and licenses.replace(LicenseKey.get_by_id(key.id)).id == replacement.id
    assert call(live_app, "validate", {"key": key.key})[1] == {"error": {
        "code": "key_disabled", "message": "This license key was replaced by a new one: the buyer finds it in their library."}}
    assert call(live_app, "activate", {"key": replacement.key, "instance_name": "new laptop"})[0] == 200


def test_odd_bodies_get_json_refusals_and_nothing_is_written(client):
    oversize = client.post(f"{API}/activate", {"key": "K" * 5000, "instance_name": "x"}, expect_errors=True)
    assert oversize.status_int == 400 and oversize.json["error"]["code"] == "invalid_request"
    nul = client.post(f"{API}/activate", json.dumps({"key": "A\x00B", "instance_name": "x"}),
                      content_type="application/json", expect_errors=True)
    assert nul.status_int == 400 and nul.json["error"]["code"] == "invalid_request"
    not_utf8 = client.post(f"{API}/validate", b"key=%FF%FE", content_type="application/x-www-form-urlencoded",
                           expect_errors=True)
    assert not_utf8.status_int == 400 and "error" in not_utf8.json
    assert client.get(f"{API}/validate", expect_errors=True).status_int == 405
    assert LicenseActivation.select().count() == 0


def test_the_buyers_keys_are_in_their_data_export_and_stop_when_the_account_is_deleted(live_app, make_user):
    key, _ = sold_key(make_user)
    call(live_app, "activate", {"key": key.key, "instance_name": "Casey's laptop"})
    buyer = User.get_by_id(key.buyer_id)
    (exported,) = personal_data.export(buyer)["license_keys"]
    assert exported["key"] == key.key and exported["instances"][0]["name"] == "Casey's laptop"
    personal_data.delete_account(buyer, PASSWORD)
    assert LicenseActivation.select().count() == 0
    assert call(live_app, "validate", {"key": key.key})[1]["error"]["code"] == "key_disabled"
