"""A code's limits under real concurrency: 50 customers who check out at once with the last
use of a code, over HTTP to a served shop, make exactly one discounted order; the others are
told the code is used up and keep their carts."""

import urllib.parse
import urllib.request

from shop import security
from shop.accounts import users
from models import CartItem, DiscountCode, DiscountRedemption, Order
from tests.concurrency import send_at_once
from tests.shop_fixtures import make_product

CUSTOMERS = 50


def test_fifty_customers_redeeming_the_last_use_at_once_make_one_redemption(live_app, make_user):
    seller = make_user("seller")
    product = make_product(seller, "Sample pack", 2000)
    code = DiscountCode.create(code="LAST", kind="percent", amount=25, max_uses=5, used_count=4)
    requests = []
    for number in range(CUSTOMERS):
        customer = make_user("customer")
        CartItem.create(user=customer, product=product)
        token = users.start_session(customer)
        body = urllib.parse.urlencode({"gateway": "test", "country": "US",
                                       "csrf_token": security.sign("csrf", f"session:{token}")}).encode()
        requests.append(urllib.request.Request(
            live_app.url + "/checkout", data=body,
            headers={"Cookie": f"session={token}; discount_code=LAST", "X-Real-IP": f"198.51.100.{number}"}))
    # urllib follows a 303 on its own; the winner's redirect to the test gateway's page is a 200 there.
    answers = send_at_once(requests)
    statuses = sorted(status for status, _ in answers)
    assert statuses.count(200) == 1 and statuses.count(400) == CUSTOMERS - 1, statuses
    assert all(b"used up" in body for status, body in answers if status == 400)
    assert DiscountCode.get_by_id(code.id).used_count == 5
    assert DiscountRedemption.select().count() == 1
    (order,) = Order.select()
    assert (order.total, order.discount) == (1500, 500)
    # The customers who lost the race still have the product in their carts, at its price.
    assert CartItem.select().count() == CUSTOMERS - 1
