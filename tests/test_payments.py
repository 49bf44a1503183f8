"""Which gateways are offered, and the amounts gateways speak (major-unit strings)."""

from hypothesis import given
from hypothesis import strategies as st

from shop import config, money
from shop.payments import methods
from tests.shop_fixtures import PAYTM_KEY, PAYTM_MID, STRIPE_KEY, STRIPE_WEBHOOK_SECRET


@given(minor=st.integers(min_value=0, max_value=10**12), currency=st.sampled_from(["USD", "INR", "JPY", "KWD"]))
def test_amounts_round_trip(minor, currency):
    assert money.minor_amount(money.decimal_amount(minor, currency), currency) == minor


def test_amount_strings():
    assert money.decimal_amount(69800, "INR") == "698.00"
    assert money.decimal_amount(500, "JPY") == "500"
    assert money.decimal_amount(1234, "KWD") == "1.234"
    assert money.minor_amount("698", "INR") == 69800
    for bad in ("12.345", "abc", "", "NaN", "Infinity", None):
        assert money.minor_amount(bad, "INR") is None, bad


def test_test_mode_only_without_a_real_gateway(app_env):
    assert methods.enabled_gateways() == ["test"]
    app_env.reload(STRIPE_SECRET_KEY=STRIPE_KEY, STRIPE_WEBHOOK_SECRET=STRIPE_WEBHOOK_SECRET)
    assert methods.enabled_gateways() == ["stripe"] and not config.TEST_PAYMENTS_ENABLED
    app_env.reload(PAYTM_MID=PAYTM_MID, PAYTM_MERCHANT_KEY=PAYTM_KEY, PAYTM_WEBSITE="WEBSTAGING")
    assert methods.enabled_gateways() == ["stripe", "paytm"]
    assert methods.available_gateways_for("USD") == ["stripe"]
    assert methods.available_gateways_for("INR") == ["stripe", "paytm"]


def test_never_test_mode_in_production(app_env):
    app_env.reload(APP_ENV="production")
    assert methods.enabled_gateways() == []
