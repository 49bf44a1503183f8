"""A seller's notice of a burst of sales in a real consumer (`huey_consumer tasks.huey -w 2`):
the sales of orders paid together make one notice, in the app and by email."""

import pytest

from job_runtime.models import FailedJob
from models import Notification
from shop.orders import sale_notices
from tests.conftest import wait_for
from tests.test_sale_notices import buy
from tests.shop_fixtures import make_product

pytestmark = pytest.mark.consumer


def test_a_burst_of_sales_is_one_notice(consumer, make_user, app_env):
    app_env.reload(SALE_NOTICE_DELAY_SECONDS=8)
    consumer(workers=2, env={"SALE_NOTICE_DELAY_SECONDS": "8"})
    seller = make_user("seller")
    products = [make_product(seller, f"Pack {n}", 900) for n in range(3)]
    for product in products:
        buy(make_user("customer"), product)
    wait_for(lambda: Notification.select().where(Notification.type == sale_notices.SALES).exists()
             and any(m["To"] == seller.email for m in app_env.mails), timeout=60, message="the seller's notice")
    [notice] = Notification.select().where(Notification.type == sale_notices.SALES)
    assert notice.user_id == seller.id and notice.data["count"] == 3
    assert len([m for m in app_env.mails if m["To"] == seller.email]) == 1
    assert FailedJob.select().count() == 0
