"""The account's API tokens and webhook endpoints (sellers and admins): make and revoke
tokens, register endpoints, and on an endpoint's page its delivery log, "send again"
and a test event. Every form carries the CSRF token, as every form of the shop does."""

import tasks
from models import db
from shop.api import tokens
from shop.errors import ValidationError
from shop import security
from shop.webhooks_out import delivery, endpoints, events, signing
from shop_web.common import (RouteTable, current_user, flash, form_fields, redirect_to, render, request,
                             require_role)

routes = RouteTable()

API_ROLES = tokens.ROLES_WITH_API


def _page(status=200, **context):
    user = current_user()
    context.setdefault("errors", {})
    context.setdefault("form", {})
    return render("account_api.tpl", status=status, title="API and webhooks", tokens=tokens.tokens_of(user),
                  endpoints=endpoints.endpoints_of(user), event_types=endpoints.EVENT_TYPES,
                  expiry_choices=tokens.EXPIRY_CHOICES, **context)


@routes.get("/account/api")
@require_role(*API_ROLES)
def account_api():
    return _page()


@routes.post("/account/api/tokens")
@require_role(*API_ROLES)
def account_api_token_make():
    form = form_fields()
    try:
        with db.atomic():
            row, token = tokens.make_token(current_user(), form.get("name"), form.get("scopes"),
                                           form.get("expires_in_days"))
    except ValidationError as exc:
        return _page(400, errors=exc.errors, form=form, failed="token")
    # Shown on this page and never again: only its digest is kept.
    return _page(new_token=token, new_token_row=row)


@routes.post("/account/api/tokens/<token_id:int>/revoke")
@require_role(*API_ROLES)
def account_api_token_revoke(token_id):
    with db.atomic():
        tokens.revoke(current_user(), token_id)
    flash("The token is revoked: requests made with it are refused from now on.", "success")
    redirect_to("/account/api")


@routes.post("/account/webhooks")
@require_role(*API_ROLES)
def account_webhook_register():
    url = request.forms.getunicode("url") or ""
    chosen = request.forms.getall("events")
    try:
        with db.atomic():
            endpoint = endpoints.register(current_user(), url, chosen)
    except ValidationError as exc:
        return _page(400, errors=exc.errors, form={"url": url, "events": chosen}, failed="endpoint")
    flash("The endpoint is added. Its signing secret is on this page.", "success")
    redirect_to(f"/account/webhooks/{endpoint.id}")


@routes.get("/account/webhooks/<endpoint_id:int>")
@require_role(*API_ROLES)
def account_webhook_page(endpoint_id):
    endpoint = endpoints.of_owner(current_user(), endpoint_id)
    return render("webhook_endpoint.tpl", title="Webhook endpoint", endpoint=endpoint,
                  secret=signing.endpoint_secret(endpoint), log=delivery.log_of(endpoint),
                  event_types=endpoints.EVENT_TYPES, request_key=security.random_token(16),
                  signature_header=signing.SIGNATURE_HEADER)


def _dispatch_new(made, new):
    if new:
        tasks.deliver_webhook.dispatch(made.id)


@routes.post("/account/webhooks/<endpoint_id:int>/test")
@require_role(*API_ROLES)
def account_webhook_test(endpoint_id):
    endpoint = endpoints.of_owner(current_user(), endpoint_id)
    with db.atomic():
        _dispatch_new(*events.test_event(endpoint, (form_fields().get("request_key") or "")[:64]))
    flash("A test event is on its way; its attempts appear below.", "success")
    redirect_to(f"/account/webhooks/{endpoint.id}")


@routes.post("/account/webhooks/deliveries/<delivery_id:int>/resend")
@require_role(*API_ROLES)
def account_webhook_resend(delivery_id):
    with db.atomic():
        made, new = delivery.resend(current_user(), delivery_id, form_fields().get("request_key") or "")
        _dispatch_new(made, new)
    flash("The event is sent again, with the same id and body.", "success")
    redirect_to(f"/account/webhooks/{made.endpoint_id}")


@routes.post("/account/webhooks/<endpoint_id:int>/enable")
@require_role(*API_ROLES)
def account_webhook_enable(endpoint_id):
    with db.atomic():
        endpoints.enable(current_user(), endpoint_id)
    flash("The endpoint is enabled again.", "success")
    redirect_to(f"/account/webhooks/{endpoint_id}")


@routes.post("/account/webhooks/<endpoint_id:int>/delete")
@require_role(*API_ROLES)
def account_webhook_delete(endpoint_id):
    with db.atomic():
        endpoints.delete(current_user(), endpoint_id)
    flash("The endpoint is deleted.", "success")
    redirect_to("/account/api")
