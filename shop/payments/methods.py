"""Which payment gateways this shop offers.

The gateways themselves are stripe_gateway.py, paytm_gateway.py and testpay.py
(the test-mode gateway, only when APP_ENV is not production and no real
gateway is configured).
"""

from shop import config

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

