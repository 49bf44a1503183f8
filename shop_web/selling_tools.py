"""The selling tools' pages: discount codes (a seller's for their own products at
/seller/discounts, the owner's for the whole shop at /admin/discounts) and the seller's
license keys with their activations (/seller/licenses).

Each maker sees only their own codes and keys; anyone else's answers 404. The work is
done by shop/selling/discounts.py and shop/selling/licenses.py.
"""

from urllib.parse import quote

from shop import config
from shop.selling import discounts
from shop.selling import licenses
from shop.errors import ValidationError
from shop_web.common import (
    RouteTable,
    current_user,
    flash,
    form_data,
    redirect_to,
    render,
    request,
    require_role,
    validation_page,
)

routes = RouteTable()

# Where each role's codes live.
DISCOUNT_PAGES = {"seller": "/seller/discounts", "admin": "/admin/discounts"}


# ---------------------------------------------------------------------------
# Discount codes
# ---------------------------------------------------------------------------


def _discounts_context(maker):
    codes = discounts.codes_of(maker)
    return {"codes": codes, "choices": discounts.product_choices(maker), "describe": discounts.describe,
            "base": DISCOUNT_PAGES[maker.role], "app_url": config.APP_URL, "quote_code": quote,
            "currency": config.CURRENCY, "shop_wide": maker.is_admin,
            "chosen": {code.id: discounts.product_ids(code) for code in codes if not code.all_products}}


def _discounts_page(maker, form=None, exc=None):
    title = "Shop-wide discount codes" if maker.is_admin else "Discount codes"
    context = _discounts_context(maker)
    if exc is not None:
        return validation_page("selling_discounts.tpl", exc, form, title=title, **context)
    return render("selling_discounts.tpl", title=title, form=form or {"kind": "percent"}, **context)


def _create_code():
    maker = current_user()
    form = form_data(*[name for name in discounts.FORM_FIELDS if name != "products"])
    form["products"] = request.forms.getall("products")
    try:
        code = discounts.create_code(maker, form, discounts.product_choices(maker))
    except ValidationError as exc:
        return _discounts_page(maker, form, exc)
    flash(f"Discount code {code.code} created: {discounts.describe(code)}.", "success")
    redirect_to(DISCOUNT_PAGES[maker.role])


def _disable_code(code_id):
    maker = current_user()
    code = discounts.own_code(maker, code_id)
    discounts.disable(code)
    flash(f"Discount code {code.code} is disabled; orders already made keep their discount.")
    redirect_to(DISCOUNT_PAGES[maker.role])


@routes.get("/seller/discounts")
@require_role("seller")
def seller_discounts():
    return _discounts_page(current_user())


@routes.post("/seller/discounts")
@require_role("seller")
def seller_discounts_create():
    return _create_code()


@routes.post("/seller/discounts/<code_id:int>/disable")
@require_role("seller")
def seller_discounts_disable(code_id):
    return _disable_code(code_id)


@routes.get("/admin/discounts")
@require_role("admin")
def admin_discounts():
    return _discounts_page(current_user())


@routes.post("/admin/discounts")
@require_role("admin")
def admin_discounts_create():
    return _create_code()


@routes.post("/admin/discounts/<code_id:int>/disable")
@require_role("admin")
def admin_discounts_disable(code_id):
    return _disable_code(code_id)


# ---------------------------------------------------------------------------
# License keys
# ---------------------------------------------------------------------------


@routes.get("/seller/licenses")
@require_role("seller")
def seller_licenses():
    search = (request.query.getunicode("q") or "").strip()[:64]
    keys = licenses.keys_of_seller(current_user(), search)
    return render("seller_licenses.tpl", title="License keys", keys=keys, search=search,
                  activations=licenses.activations_of(keys), key_state=licenses.state)


def _change_key(key_id, change):
    key = licenses.own_key(current_user(), key_id)
    try:
        flash(*change(key))
    except ValidationError as exc:
        flash(str(exc), "error")
    redirect_to("/seller/licenses")


def _disable_key(key):
    licenses.disable(key)
    return (f"Key {key.key} is disabled: the license API refuses it from now on.",)


def _reset_key(key):
    removed = licenses.reset_activations(key)
    return (f"Key {key.key}: {removed} activation(s) forgotten; it can be activated afresh.",)


def _replace_key(key):
    replacement = licenses.replace(key)
    return (f"Key {key.key} is replaced by {replacement.key}; the buyer sees the new key in their library.",
            "success")


@routes.post("/seller/licenses/<key_id:int>/disable")
@require_role("seller")
def seller_licenses_disable(key_id):
    return _change_key(key_id, _disable_key)


@routes.post("/seller/licenses/<key_id:int>/reset")
@require_role("seller")
def seller_licenses_reset(key_id):
    return _change_key(key_id, _reset_key)


@routes.post("/seller/licenses/<key_id:int>/replace")
@require_role("seller")
def seller_licenses_replace(key_id):
    return _change_key(key_id, _replace_key)
