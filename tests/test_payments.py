"""Which gateways are offered, and the amounts gateways speak (major-unit strings)."""

from hypothesis import given
from hypothesis import strategies as st

import config
import payments
from tests.shop_fixtures import PAYTM_KEY, PAYTM_MID, STRIPE_KEY, STRIPE_WEBHOOK_SECRET


@given(minor=st.integers(min_value=0, max_value=10**12), currency=st.sampled_from(["USD", "INR", "JPY", "KWD"]))
def test_amounts_round_trip(minor, currency):
    assert payments.minor_amount(payments.decimal_amount(minor, currency), currency) == minor


def test_amount_strings():
    assert payments.decimal_amount(69800, "INR") == "698.00"
    assert payments.decimal_amount(500, "JPY") == "500"
    assert payments.decimal_amount(1234, "KWD") == "1.234"
    assert payments.minor_amount("698", "INR") == 69800
    for bad in ("12.345", "abc", "", "NaN", "Infinity", None):
        assert payments.minor_amount(bad, "INR") is None, bad


def test_test_mode_only_without_a_real_gateway(app_env):
    assert payments.enabled_gateways() == ["test"]
    app_env.reload(STRIPE_SECRET_KEY=STRIPE_KEY, STRIPE_WEBHOOK_SECRET=STRIPE_WEBHOOK_SECRET)
    assert payments.enabled_gateways() == ["stripe"] and not config.TEST_PAYMENTS_ENABLED
    app_env.reload(PAYTM_MID=PAYTM_MID, PAYTM_MERCHANT_KEY=PAYTM_KEY, PAYTM_WEBSITE="WEBSTAGING")
    assert payments.enabled_gateways() == ["stripe", "paytm"]
    assert payments.available_gateways_for("USD") == ["stripe"]
    assert payments.available_gateways_for("INR") == ["stripe", "paytm"]


def test_never_test_mode_in_production(app_env):
    app_env.reload(APP_ENV="production")
    assert payments.enabled_gateways() == []
