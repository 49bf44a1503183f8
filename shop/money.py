"""Money: integer minor units with a currency. The one formatter, parser and splitter,
and the plain major-unit text that gateways and forms speak."""

import re
from decimal import ROUND_HALF_UP, Decimal

from shop.errors import ValidationError

# Minor-unit exponents that differ from 2 (ISO 4217).
_EXPONENTS = {"JPY": 0, "KRW": 0, "VND": 0, "CLP": 0, "ISK": 0, "BHD": 3, "KWD": 3, "OMR": 3, "JOD": 3}
_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "INR": "₹", "JPY": "¥"}
MAX_PRICE_MAJOR = Decimal("1000000")
_AMOUNT_RE = re.compile(r"[0-9]+(\.[0-9]*)?|\.[0-9]+")
# Thousands grouped by commas: 1 to 3 digits, then groups of exactly three.
_GROUPED_RE = re.compile(r"[0-9]{1,3}(,[0-9]{3})+")


def exponent(currency):
    return _EXPONENTS.get(currency.upper(), 2)


def format_money(minor, currency):
    """1250, "USD" -> "$12.50"; -1250 -> "-$12.50"; unknown currencies get their code."""
    digits = exponent(currency)
    value = Decimal(abs(int(minor))).scaleb(-digits)
    text = f"{value:,.{digits}f}"
    symbol = _SYMBOLS.get(currency.upper())
    text = f"{symbol}{text}" if symbol else f"{text} {currency.upper()}"
    return f"-{text}" if minor < 0 else text


def decimal_amount(minor, currency):
    """1250, "INR" -> "12.50": the amount in major units with no symbol or grouping, as a
    gateway such as Paytm expects it and as a price field accepts it."""
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


def _without_grouping(text, currency, field):
    """`text` with its thousands commas removed, when they can only be thousands commas.

    A comma is read as grouping only in whole groups of three before a decimal point
    ("1,250.00"), or in a currency without minor units ("¥1,250"). Anything else with a
    comma is refused, never guessed: "12,50" is 12.50 to half the world and was stored
    as 1,250.00; "1,250" alone may mean 1.25; "1,2,3" means nothing.
    """
    if "," not in text:
        return text
    whole, point, _ = text.partition(".")
    if _GROUPED_RE.fullmatch(whole) and (point or exponent(currency) == 0):
        return text.replace(",", "")
    raise ValidationError(errors={field: "Use a point for the decimals and commas only between thousands, "
                                         "such as 12.50 or 1,250.00."})


def _noun(field):
    """How an error names the amount: "price" for a price field, "amount" for any other."""
    return "price" if "price" in field else "amount"


def parse_money(text, currency, field="price", allow_zero=False):
    """A positive amount (or zero, with `allow_zero`) typed by a person ("12", "12.5", "1,299.00", "$12", "12.500 KWD") in
    minor units. Whatever format_money writes for a positive amount reads back the same.

    Only ASCII digits: Decimal would also take "1e3", "Infinity" or Arabic-Indic digits,
    none of which a seller means as a price. A comma that could be a decimal comma is
    a form error (see _without_grouping).
    """
    cleaned = (text or "").strip()
    code = currency.upper()
    if cleaned.upper().endswith(code):
        cleaned = cleaned[:-len(code)].rstrip()
    elif cleaned.upper().startswith(code):
        cleaned = cleaned[len(code):].lstrip()
    negative = cleaned.startswith("-")
    cleaned = cleaned.removeprefix("-")
    for symbol in _SYMBOLS.values():
        cleaned = cleaned.removeprefix(symbol)
    cleaned = _without_grouping(cleaned, code, field)
    if not _AMOUNT_RE.fullmatch(cleaned):
        raise ValidationError(errors={field: "Enter an amount such as 12.50."})
    value = Decimal(cleaned)
    if negative or value < 0 or (value == 0 and not allow_zero):
        raise ValidationError(errors={field: f"The {_noun(field)} must be more than zero."})
    if value >= MAX_PRICE_MAJOR:
        raise ValidationError(errors={field: f"The {_noun(field)} is too large."})
    digits = exponent(currency)
    if value != value.quantize(Decimal(1).scaleb(-digits)):
        raise ValidationError(errors={field: f"Use at most {digits} decimal places."})
    return int(value.scaleb(digits))


def split_sale(amount, commission_percent):
    """(platform fee, seller share) of `amount` minor units; they always sum to `amount`.

    Rounding rule: the platform fee is the exact percentage rounded half up to
    the nearest minor unit; the seller receives the rest.
    """
    if amount < 0:
        raise ValueError("amount must not be negative")
    fee = int((Decimal(amount) * Decimal(str(commission_percent)) / 100).quantize(
        Decimal(1), rounding=ROUND_HALF_UP))
    fee = min(max(fee, 0), amount)
    return fee, amount - fee


def allocate(amount, weights):
    """`amount` minor units shared in proportion to `weights` (largest remainder): the shares
    sum to exactly `amount`, and none passes its weight while `amount` <= sum(weights).

    Each share is the floor of its exact part; the units left go one each to the largest
    remainders (the earlier weight first on a tie), so no unit is lost or made.
    """
    total = sum(weights)
    if amount < 0 or any(weight < 0 for weight in weights):
        raise ValueError("amount and weights must not be negative")
    if total == 0:
        if amount:
            raise ValueError("nothing to share an amount by")
        return [0] * len(weights)
    shares = [amount * weight // total for weight in weights]
    left = amount - sum(shares)
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(amount * weights[i] % total), i))
    for index in by_remainder[:left]:
        shares[index] += 1
    return shares
