"""The buyer's billing details at checkout, and the tax of their order (the one hook
order creation calls, shop/orders/orders.py).

`Billing` is what the checkout form gives: the country (required), and for a
business its name, address and VAT/GST number. `apply` works the order's tax out
of its items' prices (shop/tax/calculation.py), records it on the items and the
order with the evidence of the buyer's country, and sets the order's total to
what the buyer pays. `record_card_country` adds the card's country when the
gateway reports it.
"""

import dataclasses
import json
import re
from decimal import Decimal

from shop import config
from shop.errors import ValidationError
from shop.tax import calculation, rates
from models import Order, OrderItem

# A VAT/GST number as printed: a two-letter country prefix then 2 to 13 letters or digits
# (GB123456789, DE123456789, FRXX999999999); India's GSTIN is 15 characters (22AAAAA0000A1Z5)
# and is taken with or without an IN prefix. Only the form is checked: whether the number is
# registered is for the owner to check (VIES for the EU) before relying on a reverse charge.
_VAT_NUMBER_RE = re.compile(r"[A-Z]{2}[0-9A-Z]{2,13}")
_GSTIN_RE = re.compile(r"[0-9]{2}[0-9A-Z]{10}[0-9A-Z]{3}")


@dataclasses.dataclass(frozen=True)
class Billing:
    country: str
    business_name: str = ""
    address: str = ""
    tax_number: str = ""


def normalise_tax_number(text):
    return re.sub(r"[\s.\-]", "", text or "").upper()


def billing_from_form(country, business_name="", address="", tax_number="", table=None):
    """A checked Billing from the checkout form's fields; ValidationError naming the field."""
    table = table or rates.table()
    country = (country or "").strip().upper()
    errors = {}
    if country not in table.countries:
        errors["country"] = "Choose the country you live in (or where your business is)."
    business_name = (business_name or "").strip()[:200]
    address = (address or "").strip()[:500]
    tax_number = normalise_tax_number(tax_number)
    if tax_number:
        if country == "IN" and _GSTIN_RE.fullmatch(tax_number.removeprefix("IN")):
            tax_number = tax_number.removeprefix("IN")
        elif not _VAT_NUMBER_RE.fullmatch(tax_number):
            errors["tax_number"] = "Enter the VAT number with its country prefix, such as DE123456789."
        elif table.country_of_vat_number(tax_number) != country:
            errors["tax_number"] = (f"This VAT number is of {table.name_of(table.country_of_vat_number(tax_number))}, "
                                    f"not of {table.name_of(country)}: choose your business's country.")
        if not business_name and "tax_number" not in errors:
            errors["business_name"] = "Give your business's name to go with its VAT number."
    if errors:
        raise ValidationError("Please check your billing details.", errors=errors)
    return Billing(country=country, business_name=business_name, address=address, tax_number=tax_number)


def latest_billed(user):
    """The customer's newest order that recorded billing details, or None."""
    return (Order.select().where((Order.buyer == user) & Order.tax_country.is_null(False))
            .order_by(Order.created_at.desc(), Order.id.desc()).first())


def price_mode():
    return calculation.INCLUSIVE if config.PRICES_INCLUDE_TAX else calculation.EXCLUSIVE


def evidence_of(billing, table):
    """The evidence of the buyer's country that is known at checkout."""
    return {"country_given": billing.country,
            "address_country": billing.country if billing.address else None,
            "vat_number_country": table.country_of_vat_number(billing.tax_number) if billing.tax_number else None,
            "card_country": None}


def apply(order, billing):
    """Record `billing` and the order's tax on a pending order and its items; returns its OrderTax.

    The items' prices are read as the sellers set them (tax included or not, as
    PRICES_INCLUDE_TAX says); each item's price becomes what the buyer pays for it.
    With TAX_CALCULATION=stripe the tax is Stripe's, known once the payment is made,
    and with "off" none is charged: the prices are then both net and gross.
    """
    table = rates.table()
    recorded = (order.tax_country, order.buyer_business_name or "", order.buyer_address or "",
                order.buyer_tax_number or "")
    if order.gateway_ref and order.tax_country is not None and recorded != (
            billing.country, billing.business_name, billing.address, billing.tax_number):
        # Its payment page already asks for the amount worked out from the old details.
        raise ValidationError(f"Your order {order.reference} is waiting for its payment with other billing "
                              "details. Finish or cancel that payment (see Purchases) to change them.")
    items = list(OrderItem.select().where(OrderItem.order == order).order_by(OrderItem.id))
    # The price as set is the base in either mode: a reused order is worked out afresh.
    amounts = [item.net if (item.net is not None and price_mode() == calculation.EXCLUSIVE) else item.price
               for item in items]
    if config.TAX_CALCULATION == "table":
        result = calculation.calculate(amounts, billing.country, billing.tax_number, price_mode(), table,
                                       shop_country=config.SHOP_COUNTRY)
        treatment = result.treatment
    else:
        result = calculation.calculate(amounts, billing.country, "", calculation.INCLUSIVE, _NO_RATES)
        treatment = "stripe" if config.TAX_CALCULATION == "stripe" else calculation.NOT_TAXED
    for item, line in zip(items, result.lines):
        OrderItem.update(price=line.gross, net=line.net, tax=line.tax).where(OrderItem.id == item.id).execute()
    fields = {"tax_country": billing.country, "buyer_business_name": billing.business_name or None,
              "buyer_address": billing.address or None, "buyer_tax_number": billing.tax_number or None,
              "tax_evidence": json.dumps(evidence_of(billing, table), sort_keys=True),
              "tax_treatment": treatment, "tax_rate": calculation.format_rate(result.rate),
              "net_total": result.net, "tax_total": result.tax, "total": result.gross}
    Order.update(**fields).where(Order.id == order.id).execute()
    for name, value in fields.items():
        setattr(order, name, value)
    return result


_NO_RATES = rates.RateTable(source="", date="", eu=frozenset(), vat_prefixes={}, rates={}, countries={})


def evidence(order):
    """The order's evidence of the buyer's country, as a dict ({} before tax was charged)."""
    return json.loads(order.tax_evidence) if order.tax_evidence else {}


def record_card_country(order_id, country):
    """Add the card's country, as the gateway reports it, to the order's evidence (once is enough)."""
    order = Order.get_or_none(Order.id == order_id)
    if order is None or not country or not order.tax_evidence:
        return False
    found = evidence(order)
    if found.get("card_country") == country.upper():
        return False
    found["card_country"] = country.upper()
    Order.update(tax_evidence=json.dumps(found, sort_keys=True)).where(Order.id == order.id).execute()
    return True


def evidence_conflicts(order):
    """The pieces of evidence that name another country than the one taxed (for the admin's eye)."""
    found = evidence(order)
    given = found.get("country_given")
    return {name: value for name, value in found.items() if value and value != given}


# ---------------------------------------------------------------------------
# Stripe Tax (TAX_CALCULATION=stripe): the tax Stripe's checkout page worked out
# ---------------------------------------------------------------------------


def shares(total, weights):
    """`total` split in proportion to `weights`, in whole minor units that add up to it exactly
    (the largest remainders get the leftover units, the earlier line on a tie)."""
    weight = sum(weights)
    if weight == 0:
        return [total] + [0] * (len(weights) - 1) if weights else []
    exact = [total * w for w in weights]
    parts = [value // weight for value in exact]
    leftover = total - sum(parts)
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(exact[i] % weight), i))
    for i in by_remainder[:leftover]:
        parts[i] += 1
    return parts


def expected_stripe_total(order, amount_tax):
    """What Stripe should charge for the order: its prices, plus the tax when they exclude it
    (once recorded, the order's total holds the tax already)."""
    if order.tax_total or config.PRICES_INCLUDE_TAX:
        return order.total
    return order.total + amount_tax


def record_stripe_tax(order, amount_tax, address_country=None):
    """Record on the order and its items the tax Stripe Tax charged (its total_details.amount_tax).

    Stripe reports the tax of the whole session; it is shared among the items in proportion
    to their prices, so each item keeps net + tax = gross and the commission is taken on its net.
    """
    if order.tax_treatment != "stripe" or order.tax_total:
        return False
    items = list(OrderItem.select().where(OrderItem.order == order).order_by(OrderItem.id))
    taxes = shares(amount_tax, [item.price for item in items])
    for item, tax in zip(items, taxes):
        if config.PRICES_INCLUDE_TAX:
            net, gross = item.price - tax, item.price
        else:
            net, gross = item.price, item.price + tax
        OrderItem.update(net=net, tax=tax, price=gross).where(OrderItem.id == item.id).execute()
    net_total = sum(item.price for item in items) - (amount_tax if config.PRICES_INCLUDE_TAX else 0)
    rate = (Decimal(amount_tax) * 100 / net_total).quantize(Decimal("0.01")) if net_total else Decimal(0)
    found = evidence(order)
    if address_country:
        found["address_country"] = address_country.upper()
    Order.update(tax_total=amount_tax, net_total=net_total, total=net_total + amount_tax,
                 tax_rate=calculation.format_rate(rate),
                 tax_evidence=json.dumps(found, sort_keys=True)).where(Order.id == order.id).execute()
    return True
