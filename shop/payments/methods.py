"""Which payment gateways this shop offers, and the amounts they speak.

The gateways themselves are stripe_gateway.py, paytm_gateway.py and testpay.py
(the test-mode gateway, only when APP_ENV is not production and no real
gateway is configured).
"""

from decimal import Decimal

from shop import config
from shop.money import exponent

LABELS = {
    "stripe": "Card (Stripe)",
    "paytm": "Paytm (UPI, cards, wallet)",
    "test": "Test payment (no money moves)",
}

# Paytm settles in Indian rupees only.
PAYTM_CURRENCIES = ("INR",)


def enabled_gateways():
    gateways = []
    if config.STRIPE_ENABLED:
        gateways.append("stripe")
    if config.PAYTM_ENABLED:
        gateways.append("paytm")
    if config.TEST_PAYMENTS_ENABLED:
        gateways.append("test")
    return gateways


def available_gateways_for(currency):
    """The enabled gateways that can take `currency` (None: every enabled gateway)."""
    return [g for g in enabled_gateways()
            if currency is None or g != "paytm" or currency.upper() in PAYTM_CURRENCIES]


def decimal_amount(minor, currency):
    """1250, "INR" -> "12.50": the major-unit string gateways such as Paytm expect."""
    digits = exponent(currency)
    return f"{Decimal(int(minor)).scaleb(-digits):.{digits}f}"


def minor_amount(text, currency):
    """"12.50", "INR" -> 1250; None when `text` is not an exact amount in this currency."""
    try:
        value = Decimal(str(text).strip())
    except ArithmeticError:
        return None
    if not value.is_finite():
        return None
    scaled = value.scaleb(exponent(currency))
    if scaled != scaled.to_integral_value():
        return None
    return int(scaled)
