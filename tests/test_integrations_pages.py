"""The account's API and webhook pages: a token shown once and revoked, an endpoint
registered, its test event and "send again" delivered to a real receiver, and none of
it reachable by another account or without the form's CSRF token."""

import json

import pytest

from models import PersonalAccessToken, WebhookDelivery
from shop.webhooks_out import signing
from tests.webhook_receiver import Receiver


def form_for(page, action):
    return next(f for f in page.forms.values() if f.action == action)


@pytest.fixture
def receiver(app_env):
    app_env.reload(WEBHOOK_ALLOW_PRIVATE="true")
    server = Receiver()
    yield server
    server.stop()


def test_a_token_made_on_the_page_is_shown_once_works_and_is_revoked(client, login_as):
    login_as("seller")
    form = form_for(client.get("/account"), "/account/name")  # the settings page links to the API page
    assert "/account/api" in client.get("/account").text and form
    form = form_for(client.get("/account/api"), "/account/api/tokens")
    form["name"] = "newsletter"
    form["scopes"] = "read"
    page = form.submit()
    token = page.html.select_one("#new-token").text
    assert token.startswith("mp_") and page.headers["Cache-Control"] == "no-store"
    assert token not in client.get("/account/api").text
    api = client.get("/api/v1/products", headers={"Authorization": f"Bearer {token}"})
    assert api.json == {"data": [], "next_cursor": None}
    row = PersonalAccessToken.get()
    form_for(client.get("/account/api"), f"/account/api/tokens/{row.id}/revoke").submit()
    refused = client.get("/api/v1/products", headers={"Authorization": f"Bearer {token}"}, expect_errors=True)
    assert refused.status_int == 401 and refused.json["error"]["code"] == "token_revoked"


def test_a_bad_token_form_is_shown_again_with_its_errors(client, login_as):
    login_as("seller")
    form = form_for(client.get("/account/api"), "/account/api/tokens")
    form["name"] = ""
    page = client.post("/account/api/tokens", {"csrf_token": form["csrf_token"].value, "name": "",
                                               "scopes": "admin", "expires_in_days": "2"}, expect_errors=True)
    assert page.status_int == 400 and PersonalAccessToken.select().count() == 0
    assert "Choose read, or read and write." in page.text


def test_customers_have_no_api_page_and_forms_need_their_csrf_token(client, login_as):
    login_as("customer")
    assert client.get("/account/api", expect_errors=True).status_int == 403
    client.reset()
    login_as("seller")
    answer = client.post("/account/api/tokens", {"name": "x", "scopes": "read", "expires_in_days": "30"},
                         expect_errors=True)
    assert answer.status_int == 403 and PersonalAccessToken.select().count() == 0


def test_an_endpoint_page_sends_a_test_event_and_sends_it_again(client, login_as, receiver, make_user):
    seller = login_as("seller")
    form = form_for(client.get("/account/api"), "/account/webhooks")
    form["url"] = receiver.url
    form["events"] = ["order.paid"]
    page = form.submit().follow()
    endpoint = seller.webhook_endpoints.get()
    secret = page.html.select_one("#signing-secret").text
    assert secret == signing.endpoint_secret(endpoint)
    test_form = form_for(page, f"/account/webhooks/{endpoint.id}/test")
    page = test_form.submit().follow()
    test_form.submit()  # a double click sends one test event
    [(headers, body)] = receiver.requests
    assert signing.verify(secret, body, headers[signing.SIGNATURE_HEADER])
    assert json.loads(body)["type"] == "webhook.test"
    delivery = WebhookDelivery.get()
    assert "200" in page.html.select_one(f"#delivery-{delivery.id}").text
    resend = form_for(page, f"/account/webhooks/deliveries/{delivery.id}/resend")
    resend.submit()
    resend.submit()
    assert [b for _, b in receiver.requests] == [body, body]

    # Another seller sees none of it and cannot send it again.
    client.reset()
    login_as("seller")
    assert client.get(f"/account/webhooks/{endpoint.id}", expect_errors=True).status_int == 404
    token = form_for(client.get("/account/api"), "/account/webhooks")["csrf_token"].value
    answer = client.post(f"/account/webhooks/deliveries/{delivery.id}/resend", {"csrf_token": token,
                                                                                "request_key": "k"},
                         expect_errors=True)
    assert answer.status_int == 404 and len(receiver.requests) == 2


def test_an_endpoint_on_a_private_address_is_refused_with_the_setting_off(client, login_as):
    login_as("seller")
    form = form_for(client.get("/account/api"), "/account/webhooks")
    form["url"] = "http://169.254.169.254/latest/meta-data"
    form["events"] = ["order.paid"]
    page = form.submit(expect_errors=True)
    assert page.status_int == 400 and "link-local" in page.text
