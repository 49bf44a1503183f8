"""The tax of an order, in integer minor units: one pure function, no database.

Each line is rounded on its own (half up unless told otherwise) and the tax is the
difference of the two other figures, so net + tax = gross holds exactly on every line,
and the order's totals, being the sums of its lines, hold it too.

Who pays what:
- a business buyer whose VAT number is of an EU country other than the shop's own
  pays no VAT: the reverse charge (the buyer accounts for it);
- anyone else pays the rate of the country they gave (the rate table's; a country
  without a rate pays none);
- prices are what buyers pay (PRICES_INCLUDE_TAX, the net is worked out of them) or
  what the sellers get before tax (the tax is added on top).
"""

import dataclasses
from decimal import ROUND_HALF_UP, Decimal

STANDARD = "standard"
REVERSE_CHARGE = "reverse_charge"
NOT_TAXED = "not_taxed"

INCLUSIVE = "inclusive"
EXCLUSIVE = "exclusive"


@dataclasses.dataclass(frozen=True)
class Line:
    net: int
    tax: int
    gross: int


@dataclasses.dataclass(frozen=True)
class OrderTax:
    country: str
    rate: Decimal           # the percent charged; 0 under the reverse charge or where none is due
    treatment: str          # STANDARD, REVERSE_CHARGE or NOT_TAXED
    lines: tuple

    @property
    def net(self):
        return sum(line.net for line in self.lines)

    @property
    def tax(self):
        return sum(line.tax for line in self.lines)

    @property
    def gross(self):
        return sum(line.gross for line in self.lines)

    @property
    def reverse_charge(self):
        return self.treatment == REVERSE_CHARGE


def _round(value, rounding):
    return int(value.quantize(Decimal(1), rounding=rounding))


def split_line(amount, rate, price_mode, rounding=ROUND_HALF_UP):
    """One line's Line from its price in minor units, at `rate` percent."""
    if amount < 0:
        raise ValueError("an amount must not be negative")
    rate = Decimal(rate)
    if price_mode == INCLUSIVE:
        net = _round(Decimal(amount) * 100 / (100 + rate), rounding)
        return Line(net=net, tax=amount - net, gross=amount)
    if price_mode == EXCLUSIVE:
        tax = _round(Decimal(amount) * rate / 100, rounding)
        return Line(net=amount, tax=tax, gross=amount + tax)
    raise ValueError(f"unknown price mode {price_mode!r}")


def treatment_for(table, country, vat_number, shop_country):
    """(treatment, rate) for a buyer in `country` with `vat_number` (or none)."""
    if vat_number:
        vat_country = table.country_of_vat_number(vat_number)
        if table.is_eu(vat_country) and vat_country != (shop_country or "").upper():
            return REVERSE_CHARGE, Decimal(0)
    rate = table.rate_for(country)
    if rate is None or rate == 0:
        return NOT_TAXED, Decimal(0)
    return STANDARD, rate


def calculate(amounts, country, vat_number, price_mode, table, shop_country="", rounding=ROUND_HALF_UP):
    """The OrderTax of items priced `amounts` (minor units, in the price mode's sense)."""
    treatment, rate = treatment_for(table, country, vat_number, shop_country)
    lines = tuple(split_line(amount, rate, price_mode, rounding) for amount in amounts)
    return OrderTax(country=(country or "").upper(), rate=rate, treatment=treatment, lines=lines)


def format_rate(rate):
    """Decimal("19.00") -> "19", Decimal("25.5") -> "25.5": how a rate prints and is stored."""
    text = f"{Decimal(rate):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
