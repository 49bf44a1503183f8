"""The page header every page shares: its search box holds the visitor's search on the
search results page and nothing on any other page, whoever is looking."""

import re

import pytest

import job_runtime
import marketplace
from job_runtime.flow import batch, chain
from job_runtime.models import FailedJob
from models import Order
from shop import runtime
from shop.accounts import guests
from tests.conftest import login
from tests.sample_jobs import always_fail, make_effect, step
from tests.shop_fixtures import add_to_cart, checkout, make_product

# Routes that answer files or JSON, never a page with the header.
NOT_PAGES = {"/media/<path:path>", "/static/<path:path>", "/favicon.ico"}


@pytest.fixture
def shop_with_everything(make_user):
    """A product, an order, and queue rows of every kind, so each page has something to loop over."""
    seller, customer, admin = make_user("seller"), make_user("customer"), make_user("admin")
    product = make_product(seller, "Low tide field recordings")
    job_uuid = make_effect.s("low").on_queue("low").dispatch()
    always_fail.dispatch("doomed")
    chain_id = chain([step.s("c1"), step.s("c2")]).dispatch()
    job_runtime.huey.immediate = False  # the batch's jobs wait: no consumer runs here
    runtime.setup_job_runtime()
    batch_id = batch([step.s("b1"), step.s("b2")], name="covers").dispatch()
    return {"users": {"seller": seller, "customer": customer, "admin": admin, "visitor": None},
            "params": {"slug": product.slug, "product_id": product.id, "job_uuid": job_uuid,
                       "failed_id": FailedJob.get().id, "batch_id": batch_id, "chain_id": chain_id,
                       "token": "no-such-token", "file_id": 1},
            "product": product}


def page_urls(params):
    """Every GET route of the app with its placeholders filled in."""
    for route in marketplace.app.routes:
        if route.method != "GET" or route.rule in NOT_PAGES or route.rule.startswith("/api/"):
            continue
        yield re.sub(r"<(\w+)(?::[^>]*)?>", lambda m: str(params[m.group(1)]), route.rule)


def search_box_value(response):
    box = response.html.select_one("#site-search") if "html" in response.content_type else None
    return None if box is None else box.get("value", "")


def test_the_search_box_is_empty_on_every_page_but_a_search(client, shop_with_everything):
    everything = shop_with_everything
    login(client, everything["users"]["customer"])
    add_to_cart(client, everything["product"])
    order_id = int(checkout(client, "test").headers["Location"].rsplit("/", 1)[1])
    order = Order.get_by_id(order_id)
    params = dict(everything["params"], order_id=order_id, reference=order.reference,
                  key=guests.order_link_key(order), endpoint_id=1)
    params["note_id"] = 1  # no credit note: its pages answer 404 (the header is checked on them all the same)
    checked = set()
    for role, user in everything["users"].items():
        client.reset()
        if user is not None:
            login(client, user)
        for url in page_urls(params):
            response = client.get(url, expect_errors=True)
            value = search_box_value(response)
            if value is not None:
                assert value == "", f"{url} as {role} shows {value!r} in the search box"
                checked.add(url)
    # The pages whose loops once leaked into the header, among the rest.
    assert {"/admin/queue/jobs", "/admin/queue/failed", "/admin/queue"} <= checked
    assert len(checked) > 25


def test_the_search_box_keeps_the_search_on_the_results_page(client):
    assert search_box_value(client.get("/?q=low+tide")) == "low tide"
