"""A product's selling options on the seller's form: pay what you want (a minimum, zero
allowed, with the price as the suggestion) and license keys (an activation limit and
how many days a key lasts)."""

from shop.errors import ValidationError
from shop.money import decimal_amount, parse_money

MAX_ACTIVATIONS = 1000
MAX_LICENSE_DAYS = 36500

FORM_FIELDS = ("pay_what_you_want", "min_price", "license_keys", "license_activations", "license_days")


def _whole(text, field, low, high, errors, message):
    text = (text or "").strip()
    if not text:
        return None
    if not text.isdigit() or not low <= int(text) <= high:
        errors[field] = message
        return None
    return int(text)


def validate(form, currency):
    """{price, min_price, license_activations, license_days} from the form, or ValidationError
    naming each problem. The price is the suggested price of a pay-what-you-want product,
    and may then be zero like its minimum."""
    errors, cleaned = {}, {}
    flexible = bool(form.get("pay_what_you_want"))
    try:
        cleaned["price"] = parse_money(form.get("price"), currency, allow_zero=flexible)
    except ValidationError as exc:
        errors.update(exc.errors)
    cleaned["min_price"] = None
    if flexible:
        try:
            cleaned["min_price"] = parse_money(form.get("min_price") or "0", currency, field="min_price",
                                               allow_zero=True)
        except ValidationError as exc:
            errors.update(exc.errors)
        if cleaned.get("price") is not None and cleaned["min_price"] is not None and cleaned["price"] < cleaned["min_price"]:
            errors["price"] = "The suggested price cannot be below the minimum."
    cleaned["license_activations"] = cleaned["license_days"] = None
    if form.get("license_keys"):
        cleaned["license_activations"] = _whole(
            form.get("license_activations") or "1", "license_activations", 1, MAX_ACTIVATIONS, errors,
            f"Enter how many instances a key may activate, from 1 to {MAX_ACTIVATIONS}.")
        cleaned["license_days"] = _whole(
            form.get("license_days"), "license_days", 1, MAX_LICENSE_DAYS, errors,
            "Enter the days a key lasts from the sale, or leave it empty for keys that never expire.")
    if errors:
        raise ValidationError(errors=errors)
    return cleaned


def form_values(product):
    flexible = product.min_price is not None
    return {"pay_what_you_want": "1" if flexible else "",
            "min_price": decimal_amount(product.min_price, product.currency) if flexible else "",
            "license_keys": "1" if product.license_activations is not None else "",
            "license_activations": str(product.license_activations or ""),
            "license_days": str(product.license_days or "")}
