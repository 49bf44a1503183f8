"""Which payment gateways this shop offers.

The gateways themselves are stripe_gateway.py, paytm_gateway.py and testpay.py
(the test-mode gateway, only when APP_ENV is not production and no real
gateway is configured).
"""

from shop import config

# The order of a free cart (a total of exactly zero) is paid through no gateway.
FREE = "free"

LABELS = {
    "stripe": "Card (Stripe)",
    "paytm": "Paytm (UPI, cards, wallet)",
    "test": "Test payment (no money moves)",
    FREE: "Free (nothing to pay)",
}

# The least each gateway charges, in minor units: Stripe refuses a charge below about
# 50 cents of the currency, Paytm below one rupee. A discount code never takes a total
# below the minimum of the methods on offer, so the cart's total is payable whichever
# method the customer picks; a total of zero is a free order and needs none.
STRIPE_MINIMUMS = {"USD": 50, "EUR": 50, "GBP": 30, "INR": 50, "AUD": 50, "CAD": 50, "CHF": 50,
                   "NZD": 50, "SGD": 50, "BRL": 50, "DKK": 250, "NOK": 300, "SEK": 300, "PLN": 200,
                   "HKD": 400, "MXN": 1000, "JPY": 50}
STRIPE_DEFAULT_MINIMUM = 50
PAYTM_MINIMUM = 100
TEST_MINIMUM = 1


def gateway_minimum(gateway, currency):
    """The least `gateway` charges in `currency`, in minor units."""
    if gateway == "stripe":
        return STRIPE_MINIMUMS.get(currency.upper(), STRIPE_DEFAULT_MINIMUM)
    if gateway == "paytm":
        return PAYTM_MINIMUM
    return TEST_MINIMUM


def minimum_charge(currency):
    """The least total a paid order in `currency` may have: the highest minimum of the
    methods offered for it (or one minor unit when none is)."""
    return max([gateway_minimum(g, currency) for g in available_gateways_for(currency)] or [1])


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

