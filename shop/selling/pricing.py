"""What a cart costs: list prices (a named price for pay what you want), a discount code's
share of each item, and the price actually paid.

The cart page and the order are priced by the same `quote`, so the customer pays
what the cart showed. All arithmetic is in integer minor units: a code's discount
is shared across its items by largest remainder (money.allocate), so no cent is
lost or made, no price goes below zero, and the total never lands between zero and
the payment methods' minimum charge (a total of zero is a free order).
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from shop.payments import methods
from shop.money import allocate


@dataclass(frozen=True)
class Line:
    """One item of a cart as priced: its list price, the code's share, the price paid."""

    product_id: int
    seller_id: int
    title: str
    list_price: int
    discount: int = 0

    @property
    def price(self):
        return self.list_price - self.discount


@dataclass(frozen=True)
class Quote:
    """A priced cart in one currency. `code` is the DiscountCode applied (None: none, or
    refused, and then `refusal` says why)."""

    currency: str
    lines: tuple
    code: object = None
    refusal: str = None

    @property
    def subtotal(self):
        return sum(line.list_price for line in self.lines)

    @property
    def discount(self):
        return sum(line.discount for line in self.lines)

    @property
    def total(self):
        return sum(line.price for line in self.lines)

    @property
    def is_free(self):
        return bool(self.lines) and self.total == 0


def list_price(cart_item):
    """The cart item's price before any code: the customer's named price for pay what you
    want (the suggested price until they name one), the product's price otherwise (a
    named price is forgotten if the product stops being pay what you want)."""
    product = cart_item.product
    if product.pay_what_you_want and cart_item.chosen_price is not None:
        # A minimum the seller raised since the price was named holds: the cart shows it.
        return max(cart_item.chosen_price, product.min_price)
    return product.price


def code_discount(kind, amount, eligible):
    """What a code takes off `eligible` minor units: a percentage rounded half up, or a
    fixed amount, never more than `eligible`."""
    if kind == "percent":
        taken = int((Decimal(eligible) * Decimal(amount) / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    else:
        taken = amount
    return max(0, min(taken, eligible))


def within_minimum(subtotal, discount, minimum):
    """The discount, lowered so that the total is zero or at least `minimum`."""
    total = subtotal - discount
    if total == 0 or total >= minimum:
        return discount
    return max(0, subtotal - minimum)


def price_lines(lines, eligible, kind, amount, minimum):
    """`lines` (Line with no discount) with the code applied to those whose index is in `eligible`."""
    weights = [line.list_price if index in eligible else 0 for index, line in enumerate(lines)]
    subtotal = sum(line.list_price for line in lines)
    discount = within_minimum(subtotal, code_discount(kind, amount, sum(weights)), minimum)
    shares = allocate(discount, weights) if discount else [0] * len(lines)
    return tuple(Line(line.product_id, line.seller_id, line.title, line.list_price, share)
                 for line, share in zip(lines, shares))


def quote(cart_items, currency, code=None, applies_to=None, refusal=None):
    """The Quote of the cart's available items in `currency`.

    `code` is a DiscountCode already found usable for this cart; `applies_to(product)`
    says whether it covers a product. Pay-what-you-want items keep the price the
    customer named: a code does not lower it.
    """
    lines = tuple(Line(item.product.id, item.product.seller_id, item.product.title, list_price(item))
                  for item in cart_items)
    if code is None:
        return Quote(currency, lines, None, refusal)
    eligible = {index for index, item in enumerate(cart_items)
                if not item.product.pay_what_you_want and applies_to(item.product)}
    priced = price_lines(lines, eligible, code.kind, code.amount, methods.minimum_charge(currency))
    return Quote(currency, priced, code)
