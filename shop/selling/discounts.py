"""Discount codes: made by a seller for their own products or by the shop owner for all,
checked against a cart, and redeemed once per order within their limits.

A use is reserved when the order is made, in the order's transaction: one
conditional UPDATE raises the code's used_count only while it is below max_uses,
so customers redeeming the last use at once get exactly one, on SQLite and
PostgreSQL alike; the per-customer limit is counted under the buyer's row lock
(orders._lock_buyer), which every checkout of that customer takes first. A
payment that fails, expires or is cancelled releases the use (orders._close_unpaid);
one that lands after all takes it again, over the limit if need be, because the
customer paid the discounted price.
"""

import datetime
import re

from peewee import IntegrityError

from shop import config
from shop.errors import NotFound, ValidationError
from shop.money import format_money, parse_money
from shop.selling import pricing
from models import DiscountCode, DiscountCodeProduct, DiscountRedemption, Order, Product, db, utcnow

CODE_RE = re.compile(r"[A-Z0-9][A-Z0-9_-]{2,31}")


class CodeRefused(ValidationError):
    """The code exists or not, but cannot be used for this cart; the message says why."""

    def __init__(self, message):
        super().__init__(message, errors={"code": message})


def normalise(text):
    return (text or "").strip().upper()[:64]


def find(text):
    """The code a customer typed (any case), or None."""
    code = normalise(text)
    return DiscountCode.get_or_none(DiscountCode.code == code) if CODE_RE.fullmatch(code) else None


def product_ids(code):
    return {link.product_id for link in DiscountCodeProduct.select().where(DiscountCodeProduct.discount_code == code)}


def applies_to(code, chosen=None):
    """A function telling whether `code` covers a product: its seller's own (an owner's code,
    every seller's), and only the chosen ones unless it is for all products."""
    chosen = None if code.all_products else (product_ids(code) if chosen is None else chosen)

    def covers(product):
        if code.seller_id is not None and product.seller_id != code.seller_id:
            return False
        return chosen is None or product.id in chosen

    return covers


def active_redemptions(code, buyer, guest_email=None):
    """The uses of `code` this customer holds: by the orders they bought (a guest's orders
    that their account claimed since included) and, at a guest's checkout, by the orders
    of the same address, so a new guest session does not start the count again."""
    whom = Order.buyer == buyer
    if guest_email:
        whom = whom | (Order.guest_email == guest_email)
    return (DiscountRedemption.select().join(Order, on=(DiscountRedemption.order == Order.id))
            .where((DiscountRedemption.discount_code == code) & DiscountRedemption.released_at.is_null() & whom)
            .count())


def check(code_text, buyer, cart_items, currency, now=None):
    """The DiscountCode for this cart, or CodeRefused saying why it cannot be used."""
    now = now or utcnow()
    code = find(code_text)
    if code is None or code.disabled_at is not None:
        raise CodeRefused(f"There is no discount code {normalise(code_text)[:32]!r}." if code is None
                          else f"The code {code.code} is no longer valid.")
    if code.starts_at and now < code.starts_at:
        raise CodeRefused(f"The code {code.code} is valid from {code.starts_at:%d %b %Y}.")
    if code.ends_at and now >= code.ends_at:
        raise CodeRefused(f"The code {code.code} has ended.")
    if code.max_uses is not None and code.used_count >= code.max_uses:
        raise CodeRefused(f"The code {code.code} has been used up.")
    if (code.max_uses_per_customer is not None and buyer is not None
            and active_redemptions(code, buyer) >= code.max_uses_per_customer):
        raise CodeRefused(f"You have already used the code {code.code}.")
    if code.currency and code.currency != currency:
        raise CodeRefused(f"The code {code.code} is for orders in {code.currency}.")
    covers = applies_to(code)
    if not any(covers(item.product) and not item.product.pay_what_you_want for item in cart_items):
        raise CodeRefused(f"The code {code.code} does not apply to anything in your cart.")
    subtotal = sum(pricing.list_price(item) for item in cart_items)
    if code.min_order and subtotal < code.min_order:
        raise CodeRefused(f"The code {code.code} needs an order of at least "
                          f"{format_money(code.min_order, code.currency or currency)}.")
    return code, covers


def quote_cart(buyer, cart_items, currency, code_text=None, strict=False):
    """The cart's Quote with the code applied when it can be; with `strict`, a code that
    cannot be used raises CodeRefused instead of pricing the cart without it."""
    if not code_text:
        return pricing.quote(cart_items, currency)
    try:
        code, covers = check(code_text, buyer, cart_items, currency)
    except CodeRefused as refused:
        if strict:
            raise
        return pricing.quote(cart_items, currency, refusal=str(refused))
    return pricing.quote(cart_items, currency, code, covers)


# ---------------------------------------------------------------------------
# Redemptions
# ---------------------------------------------------------------------------


def reserve(quote, order, buyer):
    """Take one use of the quote's code for `order`, inside the order's transaction.

    The conditional UPDATE matches only while uses are left; on PostgreSQL it also holds
    the code's row lock until the commit, so a concurrent reservation waits and then sees
    the new count. SQLite's transactions take the write lock at BEGIN, which serialises
    them the same way.
    """
    code = quote.code
    taken = DiscountCode.update(used_count=DiscountCode.used_count + 1).where(
        (DiscountCode.id == code.id) & DiscountCode.disabled_at.is_null()
        & (DiscountCode.max_uses.is_null() | (DiscountCode.used_count < DiscountCode.max_uses))).execute()
    if taken != 1:
        raise CodeRefused(f"The code {code.code} has just been used up.")
    if (code.max_uses_per_customer is not None
            and active_redemptions(code, buyer, order.guest_email) >= code.max_uses_per_customer):
        raise CodeRefused(f"You have already used the code {code.code}.")
    return DiscountRedemption.create(discount_code=code, order=order, buyer=buyer, amount=quote.discount,
                                     currency=quote.currency)


def release(order_id):
    """The order will not be paid: give its code's use back, once."""
    redemption = DiscountRedemption.get_or_none(DiscountRedemption.order == order_id)
    if redemption is None:
        return False
    released = DiscountRedemption.update(released_at=utcnow()).where(
        (DiscountRedemption.id == redemption.id) & DiscountRedemption.released_at.is_null()).execute()
    if released:
        DiscountCode.update(used_count=DiscountCode.used_count - 1).where(
            (DiscountCode.id == redemption.discount_code_id) & (DiscountCode.used_count > 0)).execute()
    return bool(released)


def retake(order_id):
    """A payment landed on an order whose use was given back: the customer paid the
    discounted price, so the use counts again (even past the limit)."""
    redemption = DiscountRedemption.get_or_none(DiscountRedemption.order == order_id)
    if redemption is None:
        return False
    taken = DiscountRedemption.update(released_at=None).where(
        (DiscountRedemption.id == redemption.id) & DiscountRedemption.released_at.is_null(False)).execute()
    if taken:
        DiscountCode.update(used_count=DiscountCode.used_count + 1).where(
            DiscountCode.id == redemption.discount_code_id).execute()
    return bool(taken)


# ---------------------------------------------------------------------------
# Making and managing codes
# ---------------------------------------------------------------------------

FORM_FIELDS = ("code", "kind", "amount", "products", "starts_on", "ends_on", "max_uses",
               "max_uses_per_customer", "min_order")


def _date(text, field, errors):
    text = (text or "").strip()
    if not text:
        return None
    try:
        return datetime.datetime.strptime(text, "%Y-%m-%d")
    except ValueError:
        errors[field] = "Enter a date such as 2027-03-01."
        return None


def _count(text, field, errors):
    text = (text or "").strip()
    if not text:
        return None
    if not text.isdigit() or not 1 <= int(text) <= 1_000_000:
        errors[field] = "Enter a whole number from 1, or leave it empty for no limit."
        return None
    return int(text)


def validate(form, owner_of_products, product_choices):
    """Cleaned fields of a new code, or ValidationError naming each problem.

    `product_choices` are the products the maker may choose (a seller's own, every
    approved product for the owner); `owner_of_products` is the seller, None for the owner.
    """
    errors = {}
    currency = config.CURRENCY
    code = normalise(form.get("code"))
    if not CODE_RE.fullmatch(code):
        errors["code"] = "Use 3 to 32 letters, digits, - or _, starting with a letter or digit."
    kind = form.get("kind")
    amount = None
    if kind not in ("percent", "fixed"):
        errors["kind"] = "Choose a percentage or a fixed amount."
    elif kind == "percent":
        text = (form.get("amount") or "").strip().rstrip("%").strip()
        if not text.isdigit() or not 1 <= int(text) <= 100:
            errors["amount"] = "Enter a percentage from 1 to 100."
        else:
            amount = int(text)
    else:
        try:
            amount = parse_money(form.get("amount"), currency, field="amount")
        except ValidationError as exc:
            errors.update(exc.errors)
    chosen = set()
    for text in form.get("products") or []:
        if not str(text).isdigit() or int(text) not in product_choices:
            errors["products"] = "Choose among the products shown."
            break
        chosen.add(int(text))
    starts_at = _date(form.get("starts_on"), "starts_on", errors)
    ends_at = _date(form.get("ends_on"), "ends_on", errors)
    if starts_at and ends_at and ends_at <= starts_at:
        errors["ends_on"] = "The last day must come after the first."
    min_order = None
    if (form.get("min_order") or "").strip():
        try:
            min_order = parse_money(form.get("min_order"), currency, field="min_order")
        except ValidationError as exc:
            errors.update(exc.errors)
    cleaned = {"code": code, "kind": kind, "amount": amount, "currency": currency if kind == "fixed" or min_order else None,
               "all_products": 0 if chosen else 1, "products": chosen, "starts_at": starts_at,
               # The last day is whole: the code ends when the next day begins.
               "ends_at": ends_at + datetime.timedelta(days=1) if ends_at else None,
               "max_uses": _count(form.get("max_uses"), "max_uses", errors),
               "max_uses_per_customer": _count(form.get("max_uses_per_customer"), "max_uses_per_customer", errors),
               "min_order": min_order, "seller": owner_of_products}
    if errors:
        raise ValidationError(errors=errors)
    return cleaned


def create_code(maker, form, product_choices):
    """A new code of `maker`: a seller's covers their own products, the owner's (an admin) all."""
    seller = None if maker.is_admin else maker
    cleaned = validate(form, seller, product_choices)
    chosen = cleaned.pop("products")
    try:
        with db.atomic():
            code = DiscountCode.create(created_by=maker, **cleaned)
            for product_id in sorted(chosen):
                DiscountCodeProduct.create(discount_code=code, product=product_id)
    except IntegrityError:
        raise ValidationError(errors={"code": "That code is taken; choose another."}) from None
    return code


def codes_of(maker):
    """A seller's codes, or the owner's shop-wide ones, newest first."""
    where = DiscountCode.seller.is_null() if maker.is_admin else (DiscountCode.seller == maker)
    return list(DiscountCode.select().where(where).order_by(DiscountCode.created_at.desc(), DiscountCode.id.desc()))


def own_code(maker, code_id):
    code = DiscountCode.get_or_none(DiscountCode.id == code_id)
    if code is None or (code.seller_id is None) != maker.is_admin or (
            code.seller_id is not None and code.seller_id != maker.id):
        raise NotFound("There is no such discount code.")
    return code


def disable(code):
    DiscountCode.update(disabled_at=utcnow()).where(
        (DiscountCode.id == code.id) & DiscountCode.disabled_at.is_null()).execute()


def product_choices(maker):
    """{id: title} of the products a maker's code may be limited to."""
    query = Product.select(Product.id, Product.title)
    query = query.where(Product.status == "approved") if maker.is_admin else query.where(Product.seller == maker)
    return {p.id: p.title for p in query.order_by(Product.title)}


def describe(code):
    """"20% off" or "$5.00 off"."""
    return f"{code.amount}% off" if code.kind == "percent" else f"{format_money(code.amount, code.currency)} off"
