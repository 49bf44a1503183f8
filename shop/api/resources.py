"""What each API user may read, and how a row is shown: one place decides who sees what.

A seller sees their own products, payouts, sales, the orders holding their sales (with
only their items), the customers who bought from them, the license keys of their sales
and their own discount codes; an admin sees the shop's, shop-wide codes included.
Every list is a page of the same (created_at, id) cursor (pagination.py).
"""

from peewee import fn

from models import (GUEST_ROLE, DiscountCode, DiscountCodeProduct, LicenseKey, Order, OrderItem, Payout, Product,
                    TransactionItem, User, utcnow)
from shop.api import errors, pagination
from shop.catalog import products as catalog
from shop.selling import licenses
from shop.money import decimal_amount


def _iso(moment):
    return None if moment is None else moment.isoformat(timespec="seconds") + "Z"


def _person(user, order=None):
    """A buyer as the API shows one. A guest has no address of its own: the address is the
    one given at checkout of `order`."""
    if user.is_guest:
        return {"id": user.id, "name": "", "email": (order.guest_email if order else None) or ""}
    return {"id": user.id, "name": user.name, "email": user.email}


def _dated(query, model, created_after, created_before):
    if created_after is not None:
        query = query.where(model.created_at > created_after)
    if created_before is not None:
        query = query.where(model.created_at < created_before)
    return query


def listing(query, model, serialise, filters, serialise_page=None):
    """A page of `query` as {"data": [...], "next_cursor": ...}. `serialise_page(rows)`, when
    given, makes a serialiser for the whole page (to load what the rows share in one query)."""
    rows, cursor = pagination.page(_dated(query, model, filters.get("created_after"), filters.get("created_before")),
                                   model, filters.get("cursor"), filters.get("limit") or pagination.DEFAULT_LIMIT)
    serialise = serialise_page(rows) if serialise_page else serialise
    return {"data": [serialise(row) for row in rows], "next_cursor": cursor}


def _one(query, serialise):
    row = query.first()
    if row is None:
        raise errors.not_found()
    return serialise(row)


# ---------------------------------------------------------------------------
# Products
# ---------------------------------------------------------------------------


def product_json(product):
    return {"id": product.id, "seller_id": product.seller_id, "title": product.title, "slug": product.slug,
            "description": product.description, "price": product.price, "currency": product.currency,
            "status": product.status, "rejection_reason": product.rejection_reason,
            "file_name": product.file_name, "file_size": product.file_size,
            "download_count": product.download_count, "created_at": _iso(product.created_at),
            "updated_at": _iso(product.updated_at), "approved_at": _iso(product.approved_at)}


def products_query(user):
    query = Product.select()
    return query if user.is_admin else query.where(Product.seller == user)


def list_products(user, filters):
    query = products_query(user)
    if filters.get("status"):
        query = query.where(Product.status == filters["status"])
    return listing(query, Product, product_json, filters)


def get_product(user, product_id):
    return _one(products_query(user).where(Product.id == product_id), product_json)


def update_product(user, product_id, body):
    """Change a product's title, description or price, as the seller's edit form does
    (content changes on an approved product send it back to review). Returns
    (the product's JSON, whether it went back to review)."""
    product = products_query(user).where(Product.id == product_id).first()
    if product is None:
        raise errors.not_found()
    form = catalog.form_values(product)
    for field in ("title", "description"):
        if field in body:
            form[field] = body[field]
    if "price" in body:
        form["price"] = str(decimal_amount(body["price"], product.currency))
    with catalog.StagedFiles() as staged:
        updated, review_again = catalog.update_product(product, form, None, None, staged)
    return product_json(updated), review_again


# ---------------------------------------------------------------------------
# Sales and orders
# ---------------------------------------------------------------------------


def sale_json(sale):
    return {"id": sale.id, "order_id": sale.order_id, "order_reference": sale.order.reference,
            "product_id": sale.product_id, "seller_id": sale.seller_id, "buyer": _person(sale.buyer, sale.order),
            "amount": sale.amount, "platform_fee": sale.platform_fee, "seller_amount": sale.seller_amount,
            "currency": sale.currency, "refunded": sale.order.status == "refunded",
            "created_at": _iso(sale.created_at)}


def sales_query(user):
    query = (TransactionItem.select(TransactionItem, Order, User)
             .join(Order, on=TransactionItem.order == Order.id)
             .switch(TransactionItem).join(User, on=TransactionItem.buyer == User.id))
    return query if user.is_admin else query.where(TransactionItem.seller == user)


def list_sales(user, filters):
    return listing(sales_query(user), TransactionItem, sale_json, filters)


def get_sale(user, sale_id):
    return _one(sales_query(user).where(TransactionItem.id == sale_id), sale_json)


def order_json_for(user, orders=None):
    """The serialiser of orders as `user` sees them; given the `orders` of a page, their
    items are read in one query instead of one per order."""
    items_of = {}
    if orders is not None:
        for item in OrderItem.select().where(OrderItem.order.in_([o.id for o in orders])).order_by(OrderItem.id):
            items_of.setdefault(item.order_id, []).append(item)

    def order_json(order):
        found = items_of.get(order.id, []) if orders is not None else order.items
        items = [item for item in found if user.is_admin or item.seller_id == user.id]
        return {"id": order.id, "reference": order.reference, "status": order.status, "gateway": order.gateway,
                "currency": order.currency,
                "total": order.total if user.is_admin else sum(item.price for item in items),
                "buyer": _person(order.buyer, order),
                # price is what the customer paid; list_price - discount == price (a discount code's share).
                "items": [{"product_id": item.product_id, "seller_id": item.seller_id, "title": item.title,
                           "price": item.price, "list_price": item.price_before_discount,
                           "discount": item.discount or 0, "currency": item.currency} for item in items],
                "created_at": _iso(order.created_at), "paid_at": _iso(order.paid_at),
                "refunded_at": _iso(order.refunded_at)}

    return order_json


def orders_query(user):
    query = Order.select(Order, User).join(User, on=Order.buyer == User.id)
    if user.is_admin:
        return query
    # A seller's orders are the paid ones that hold at least one of their items.
    theirs = OrderItem.select(OrderItem.order).where(OrderItem.seller == user)
    return query.where(Order.id.in_(theirs) & Order.paid_at.is_null(False))


def list_orders(user, filters):
    query = orders_query(user)
    if filters.get("status"):
        query = query.where(Order.status == filters["status"])
    return listing(query, Order, None, filters, lambda rows: order_json_for(user, rows))


def get_order(user, order_id):
    return _one(orders_query(user).where(Order.id == order_id), order_json_for(user))


# ---------------------------------------------------------------------------
# Customers and payouts
# ---------------------------------------------------------------------------


def customer_json_for(viewer):
    """The serialiser of customers for `viewer`. A guest's address is the one of the guest's
    latest order the viewer may see (for a seller, one holding their items): a guest
    session is one browser's, and may have bought from others under another address."""

    def customer_json(user):
        order = None
        if user.is_guest:
            orders = Order.select(Order.guest_email).where(Order.buyer == user)
            if not viewer.is_admin:
                orders = orders.where(Order.id.in_(TransactionItem.select(TransactionItem.order)
                                                   .where(TransactionItem.seller == viewer)))
            order = orders.order_by(Order.id.desc()).first()
        return {**_person(user, order), "created_at": _iso(user.created_at)}

    return customer_json


def customers_query(user):
    if user.is_admin:
        # Guests who bought are customers too; those who only filled a cart are not.
        return User.select().where((User.role == "customer")
                                   | ((User.role == GUEST_ROLE) & User.id.in_(Order.select(Order.buyer))))
    buyers = TransactionItem.select(fn.DISTINCT(TransactionItem.buyer)).where(TransactionItem.seller == user)
    return User.select().where(User.id.in_(buyers))


def list_customers(user, filters):
    return listing(customers_query(user), User, customer_json_for(user), filters)


def get_customer(user, customer_id):
    return _one(customers_query(user).where(User.id == customer_id), customer_json_for(user))


def payout_json(payout):
    return {"id": payout.id, "seller_id": payout.seller_id, "amount": payout.amount, "currency": payout.currency,
            "method": payout.method, "reference": payout.reference, "status": payout.status,
            "created_at": _iso(payout.created_at)}


def payouts_query(user):
    query = Payout.select()
    return query if user.is_admin else query.where(Payout.seller == user)


def list_payouts(user, filters):
    return listing(payouts_query(user), Payout, payout_json, filters)


def get_payout(user, payout_id):
    return _one(payouts_query(user).where(Payout.id == payout_id), payout_json)


# ---------------------------------------------------------------------------
# License keys and discount codes
# ---------------------------------------------------------------------------


def activation_json(instance):
    return {"instance_id": instance.instance_id, "name": instance.name, "created_at": _iso(instance.created_at),
            "last_validated_at": _iso(instance.last_validated_at)}


def license_key_json_for(keys=None):
    """The serialiser of license keys; given the `keys` of a page, their activations are read
    in one query instead of one per key. The key text is shown: the seller reads it on their
    License keys page too, and a buyer writing for help quotes it."""
    activations = licenses.activations_of(keys) if keys is not None else None

    def license_key_json(key):
        instances = activations[key.id] if activations is not None else licenses.activations_of([key])[key.id]
        order = key.order_item.order
        return {"id": key.id, "key": key.key, "product_id": key.product_id, "seller_id": key.seller_id,
                "order_id": order.id, "order_reference": order.reference, "buyer": _person(key.buyer, order),
                "status": licenses.state(key), "disabled_reason": key.disabled_reason,
                "activation_limit": key.activation_limit, "activation_count": key.activation_count,
                # Deactivating an instance deletes it: these are the instances active now.
                "activations": [activation_json(instance) for instance in instances],
                "expires_at": _iso(key.expires_at), "disabled_at": _iso(key.disabled_at),
                "created_at": _iso(key.created_at)}

    return license_key_json


def license_keys_query(user):
    query = (LicenseKey.select(LicenseKey, OrderItem, Order, User)
             .join(OrderItem, on=LicenseKey.order_item == OrderItem.id)
             .join(Order, on=OrderItem.order == Order.id)
             .switch(LicenseKey).join(User, on=LicenseKey.buyer == User.id))
    return query if user.is_admin else query.where(LicenseKey.seller == user)


def list_license_keys(user, filters):
    query = license_keys_query(user)
    if filters.get("status"):
        query = query.where(_license_status_is(filters["status"]))
    return listing(query, LicenseKey, None, filters, license_key_json_for)


def _license_status_is(status):
    """The condition of licenses.state(key) == status, in SQL."""
    now = utcnow()
    live = LicenseKey.disabled_at.is_null()
    unexpired = LicenseKey.expires_at.is_null() | (LicenseKey.expires_at > now)
    return {"active": live & unexpired,
            "expired": live & ~unexpired,
            "refunded": ~live & (LicenseKey.disabled_reason == "refunded"),
            "disabled": ~live & ((LicenseKey.disabled_reason != "refunded") | LicenseKey.disabled_reason.is_null()),
            }[status]


def get_license_key(user, key_id):
    return _one(license_keys_query(user).where(LicenseKey.id == key_id), license_key_json_for())


def discount_code_json_for(codes=None):
    """The serialiser of discount codes; given the `codes` of a page, the products they are
    limited to are read in one query."""
    ids = [code.id for code in codes] if codes is not None else None

    def products_of(code_ids):
        found = {code_id: [] for code_id in code_ids}
        if code_ids:
            for link in (DiscountCodeProduct.select().where(DiscountCodeProduct.discount_code.in_(code_ids))
                         .order_by(DiscountCodeProduct.product)):
                found[link.discount_code_id].append(link.product_id)
        return found

    chosen = products_of(ids) if ids is not None else None

    def discount_code_json(code):
        products = (chosen if chosen is not None else products_of([code.id]))[code.id]
        return {"id": code.id, "code": code.code, "seller_id": code.seller_id, "kind": code.kind,
                "amount": code.amount, "currency": code.currency, "all_products": bool(code.all_products),
                "product_ids": [] if code.all_products else products,
                "starts_at": _iso(code.starts_at), "ends_at": _iso(code.ends_at),
                # used_count holds the uses reserved now: an unpaid order's use is given back.
                "used_count": code.used_count, "max_uses": code.max_uses,
                "max_uses_per_customer": code.max_uses_per_customer, "min_order": code.min_order,
                "disabled_at": _iso(code.disabled_at), "created_at": _iso(code.created_at)}

    return discount_code_json


def discount_codes_query(user):
    query = DiscountCode.select()
    # A seller's codes are their own; the shop-wide ones (seller None) are the owner's.
    return query if user.is_admin else query.where(DiscountCode.seller == user)


def list_discount_codes(user, filters):
    return listing(discount_codes_query(user), DiscountCode, None, filters, discount_code_json_for)


def get_discount_code(user, code_id):
    return _one(discount_codes_query(user).where(DiscountCode.id == code_id), discount_code_json_for())
