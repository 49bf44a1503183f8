"""License keys: one per item sold of a product that issues them, checked by the seller's
software through the public license API (shop_web/license_api.py).

A key is activated on at most activation_limit instances. activation_count moves only
by conditional UPDATEs (up while below the limit, down when an instance is deleted),
so activations sent at once never pass the limit: the UPDATE holds the key's row lock
on PostgreSQL until the commit, and SQLite's write lock serialises them. A refund
disables the order's keys; the seller can disable a key, reset its activations, or
replace it with a new key for the same item.
"""

import datetime
import enum
import secrets

from peewee import IntegrityError

from shop.errors import NotFound, ValidationError
from models import LicenseActivation, LicenseKey, Order, OrderItem, Product, User, db, utcnow

# Crockford's base32 without I, L, O and U: a key read aloud or typed from a receipt
# cannot be mistaken for another.
KEY_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
KEY_GROUPS = 5
MAX_KEY_LENGTH = 64
MAX_INSTANCE_NAME = 200


class LicenseProblem(enum.Enum):
    """Why the API refused: the stable codes a client program switches on, with the HTTP status."""

    KEY_NOT_FOUND = ("key_not_found", 404)
    KEY_DISABLED = ("key_disabled", 403)
    KEY_EXPIRED = ("key_expired", 403)
    ORDER_REFUNDED = ("order_refunded", 403)
    ACTIVATION_LIMIT_REACHED = ("activation_limit_reached", 409)
    INSTANCE_NOT_FOUND = ("instance_not_found", 404)
    INVALID_REQUEST = ("invalid_request", 400)
    RATE_LIMITED = ("rate_limited", 429)

    @property
    def code(self):
        return self.value[0]

    @property
    def status(self):
        return self.value[1]


class LicenseRefused(Exception):
    """A license API call that cannot be answered with success; `problem` says why."""

    def __init__(self, problem, message):
        super().__init__(message)
        self.problem = problem


# Why a key was disabled, as the API tells the software (all under key_disabled).
DISABLED_MESSAGES = {
    "replaced": "This license key was replaced by a new one: the buyer finds it in their library.",
    "account_deleted": "The account this license key was sold to has been closed.",
}


def new_key():
    """"7XQ2M-0K4TD-..."": 25 random base32 characters (125 bits) in groups of five."""
    chars = "".join(secrets.choice(KEY_ALPHABET) for _ in range(KEY_GROUPS * 5))
    return "-".join(chars[i:i + 5] for i in range(0, len(chars), 5))


def normalise(text):
    return (text or "").strip().upper()


# ---------------------------------------------------------------------------
# Issuing and disabling
# ---------------------------------------------------------------------------


def _create_once(issue_key, **fields):
    existing = LicenseKey.get_or_none(LicenseKey.issue_key == issue_key)
    if existing is not None:
        return existing, False
    try:
        with db.atomic():
            return LicenseKey.create(issue_key=issue_key, key=new_key(), **fields), True
    except IntegrityError:
        return LicenseKey.get(LicenseKey.issue_key == issue_key), False


def issue_for_item(item, order):
    """The item's key if its product issues them (created once; the fulfilment job may run
    twice); None otherwise. Its expiry counts from the payment."""
    product = Product.get_by_id(item.product_id)
    if not product.issues_licenses:
        return None
    paid_at = order.paid_at or utcnow()
    expires_at = paid_at + datetime.timedelta(days=product.license_days) if product.license_days else None
    key, _ = _create_once(f"item:{item.id}", order_item=item, product=product, seller=item.seller_id,
                          buyer=order.buyer_id, activation_limit=product.license_activations,
                          expires_at=expires_at)
    return key


def disable_for_order(order, reason="refunded"):
    """Disable every key of the order's items (a refund); returns how many were live."""
    item_ids = OrderItem.select(OrderItem.id).where(OrderItem.order == order)
    return LicenseKey.update(disabled_at=utcnow(), disabled_reason=reason).where(
        LicenseKey.order_item.in_(item_ids) & LicenseKey.disabled_at.is_null()).execute()


def keys_for_order(order):
    """{order item id: its live key, or its latest one} for the library, the receipt and the order page."""
    keys = (LicenseKey.select().join(OrderItem).where(OrderItem.order == order)
            .order_by(LicenseKey.created_at, LicenseKey.id))
    found = {}
    for key in keys:
        current = found.get(key.order_item_id)
        if current is None or current.disabled_at is not None or key.disabled_at is None:
            found[key.order_item_id] = key
    return found


def state(key, now=None):
    """"active", "expired", "refunded" or "disabled", as a buyer or seller would read it."""
    if key.disabled_at is not None:
        return "refunded" if key.disabled_reason == "refunded" else "disabled"
    if key.expires_at is not None and (now or utcnow()) >= key.expires_at:
        return "expired"
    return "active"


# ---------------------------------------------------------------------------
# The license API
# ---------------------------------------------------------------------------


def _find(key_text):
    text = normalise(key_text)
    if not text or len(text) > MAX_KEY_LENGTH:
        raise LicenseRefused(LicenseProblem.INVALID_REQUEST, "Send the license key as `key`.")
    key = LicenseKey.get_or_none(LicenseKey.key == text)
    if key is None:
        raise LicenseRefused(LicenseProblem.KEY_NOT_FOUND, "There is no such license key.")
    return key


def _usable(key_text, now=None):
    """The key if it may be used now; LicenseRefused saying why not."""
    key = _find(key_text)
    if key.disabled_at is not None and key.disabled_reason == "refunded":
        raise LicenseRefused(LicenseProblem.ORDER_REFUNDED, "The order of this license key was refunded.")
    if key.disabled_at is not None:
        raise LicenseRefused(LicenseProblem.KEY_DISABLED, DISABLED_MESSAGES.get(
            key.disabled_reason, "This license key has been disabled by its seller."))
    if key.expires_at is not None and (now or utcnow()) >= key.expires_at:
        raise LicenseRefused(LicenseProblem.KEY_EXPIRED, f"This license key expired on {key.expires_at:%Y-%m-%d}.")
    return key


def describe(key, instance=None):
    """The JSON answer's description of a key (and of one of its instances)."""
    key = LicenseKey.get_by_id(key.id)  # the count as committed by this call
    product = Product.get_by_id(key.product_id)
    answer = {
        "license_key": {"status": state(key), "activation_limit": key.activation_limit,
                        "activation_usage": key.activation_count,
                        "expires_at": key.expires_at.isoformat() + "Z" if key.expires_at else None,
                        "created_at": key.created_at.isoformat() + "Z"},
        "product": {"id": product.id, "name": product.title},
        "instance": None,
    }
    if instance is not None:
        answer["instance"] = {"id": instance.instance_id, "name": instance.name,
                              "created_at": instance.created_at.isoformat() + "Z"}
    return answer


def activate(key_text, instance_name):
    """Activate the key on a new instance named `instance_name`; its description with the instance."""
    name = (instance_name or "").strip()
    if not name or len(name) > MAX_INSTANCE_NAME:
        raise LicenseRefused(LicenseProblem.INVALID_REQUEST,
                             f"Send a name for this instance as `instance_name` (up to {MAX_INSTANCE_NAME} characters).")
    with db.atomic():
        key = _usable(key_text)
        taken = LicenseKey.update(activation_count=LicenseKey.activation_count + 1).where(
            (LicenseKey.id == key.id) & (LicenseKey.activation_count < LicenseKey.activation_limit)
            & LicenseKey.disabled_at.is_null()).execute()
        if taken != 1:
            raise LicenseRefused(LicenseProblem.ACTIVATION_LIMIT_REACHED,
                                 f"This license key is already activated on {key.activation_limit} instance(s); "
                                 "deactivate one first.")
        instance = LicenseActivation.create(license=key, instance_id=secrets.token_hex(16), name=name)
    return describe(key, instance)


def _instance(key, instance_id):
    text = (instance_id or "").strip()
    instance = LicenseActivation.get_or_none((LicenseActivation.license == key)
                                             & (LicenseActivation.instance_id == text[:64])) if text else None
    if instance is None:
        raise LicenseRefused(LicenseProblem.INSTANCE_NOT_FOUND, "This key has no such instance.")
    return instance


def validate(key_text, instance_id=None):
    """The key's description if it may be used now (and `instance_id` is one of its instances)."""
    key = _usable(key_text)
    instance = None
    if instance_id:
        instance = _instance(key, instance_id)
        LicenseActivation.update(last_validated_at=utcnow()).where(LicenseActivation.id == instance.id).execute()
    return describe(key, instance)


def deactivate(key_text, instance_id):
    """Delete one instance, freeing its activation. Works on a disabled or expired key too,
    so a customer can always tidy up their machines."""
    with db.atomic():
        key = _find(key_text)
        instance = _instance(key, instance_id)
        if LicenseActivation.delete().where(LicenseActivation.id == instance.id).execute():
            LicenseKey.update(activation_count=LicenseKey.activation_count - 1).where(
                (LicenseKey.id == key.id) & (LicenseKey.activation_count > 0)).execute()
    return describe(key)


# ---------------------------------------------------------------------------
# The seller's keys
# ---------------------------------------------------------------------------


def keys_of_seller(seller, search="", limit=200):
    """The seller's keys, newest first, with their product and buyer; `search` finds a key
    by any part of it (a customer writing to the seller quotes theirs)."""
    Buyer = User.alias()
    query = (LicenseKey.select(LicenseKey, Product, Buyer)
             .join(Product, on=(LicenseKey.product == Product.id))
             .switch(LicenseKey).join(Buyer, on=(LicenseKey.buyer == Buyer.id))
             .where(LicenseKey.seller == seller))
    text = normalise(search)[:MAX_KEY_LENGTH]
    if text:
        query = query.where(LicenseKey.key.contains(text))
    return list(query.order_by(LicenseKey.created_at.desc(), LicenseKey.id.desc()).limit(limit))


def activations_of(keys):
    """{key id: [instances]} of `keys`."""
    found = {key.id: [] for key in keys}
    if found:
        for instance in (LicenseActivation.select().where(LicenseActivation.license.in_(list(found)))
                         .order_by(LicenseActivation.created_at)):
            found[instance.license_id].append(instance)
    return found


def own_key(seller, key_id):
    key = LicenseKey.get_or_none((LicenseKey.id == key_id) & (LicenseKey.seller == seller))
    if key is None:
        raise NotFound("There is no such license key among your sales.")
    return key


def disable(key):
    """The seller disables a key: the software it activated stops validating."""
    if key.disabled_at is not None:
        raise ValidationError("This key is already disabled.")
    LicenseKey.update(disabled_at=utcnow(), disabled_reason="seller").where(
        (LicenseKey.id == key.id) & LicenseKey.disabled_at.is_null()).execute()


def reset_activations(key):
    """Forget every instance of the key, so it can be activated afresh; returns how many."""
    with db.atomic():
        removed = LicenseActivation.delete().where(LicenseActivation.license == key).execute()
        LicenseKey.update(activation_count=0).where(LicenseKey.id == key.id).execute()
    return removed


def replace(key):
    """Disable `key` and issue a new one for the same item, limit and expiry (a key leaked
    or lost); issuing it twice gives the same replacement."""
    if key.disabled_at is not None and key.disabled_reason == "refunded":
        raise ValidationError("The order of this key was refunded; it cannot be replaced.")
    with db.atomic():
        replacement, _ = _create_once(f"replaces:{key.id}", order_item=key.order_item_id, product=key.product_id,
                                      seller=key.seller_id, buyer=key.buyer_id,
                                      activation_limit=key.activation_limit, expires_at=key.expires_at)
        LicenseKey.update(disabled_at=utcnow(), disabled_reason="replaced").where(
            (LicenseKey.id == key.id) & LicenseKey.disabled_at.is_null()).execute()
    return replacement


def order_of(key):
    return Order.select().join(OrderItem).where(OrderItem.id == key.order_item_id).get()
