"""A customer's cart: add, remove, list. Rows in the database, so it survives logging out.

Digital products are bought once: the cart holds each product at most once,
and a product the customer already owns, or has in an order whose payment may
still land (a pending one), cannot be added again. An order takes its products
out of the cart when it is created; `give_back` returns them if its payment
fails, expires or is cancelled.
"""

from peewee import IntegrityError

from shop.errors import NotFound, ValidationError
from shop.money import format_money
from shop.selling import pricing
from models import CartItem, Order, OrderItem, Product, User, db


def owned_product_ids(user):
    """Products the customer has paid for and not had refunded."""
    query = (OrderItem.select(OrderItem.product).join(Order)
             .where((Order.buyer == user) & (Order.status == "paid")))
    return {row.product_id for row in query}


def pending_orders_by_product(user):
    """{product id: order} for the customer's orders whose payment may still land."""
    query = (OrderItem.select(OrderItem.product, Order).join(Order)
             .where((Order.buyer == user) & (Order.status == "pending")))
    return {row.product_id: row.order for row in query}


def add(user, product_id, chosen_price=None):
    """Put an approved product in the cart; returns the product. Adding it twice is harmless.

    `chosen_price` is the price the customer named for a pay-what-you-want product (at
    least its minimum; None takes the suggested price); adding it again with another
    price changes the price in the cart.
    """
    product = Product.get_or_none((Product.id == product_id) & (Product.status == "approved"))
    if product is None:
        raise NotFound("This product does not exist or is no longer on sale.")
    if product.seller_id == user.id:
        raise ValidationError("You cannot buy your own product.")
    if product.id in owned_product_ids(user):
        raise ValidationError("You already own this product: find it under Purchases.")
    pending = pending_orders_by_product(user).get(product.id)
    if pending is not None and not in_cart(user, product.id):
        raise ValidationError(f"This product is in your order {pending.reference}, which is waiting for its "
                              "payment: finish or cancel it from Purchases.")
    if product.pay_what_you_want:
        chosen_price = product.price if chosen_price is None else chosen_price
        if chosen_price < product.min_price:
            raise ValidationError(f"Name a price of at least {format_money(product.min_price, product.currency)}.",
                                  errors={"chosen_price": "Below the least this product sells for."})
    else:
        chosen_price = None
    try:
        with db.atomic():
            CartItem.create(user=user, product=product, chosen_price=chosen_price)
    except IntegrityError:
        # Already in the cart: a new named price replaces the old one.
        CartItem.update(chosen_price=chosen_price).where(
            (CartItem.user == user) & (CartItem.product == product)).execute()
    return product


def remove(user, product_id):
    """Take a product out of the cart; True if it was there."""
    return CartItem.delete().where((CartItem.user == user) & (CartItem.product == product_id)).execute() > 0


def items(user):
    """The cart's rows with their products and sellers, oldest first."""
    Seller = User.alias()
    return list(CartItem.select(CartItem, Product, Seller)
                .join(Product).join(Seller, on=(Product.seller == Seller.id))
                .where(CartItem.user == user)
                .order_by(CartItem.added_at, CartItem.id))


def in_cart(user, product_id):
    return CartItem.select().where((CartItem.user == user) & (CartItem.product == product_id)).exists()


def count(user):
    return CartItem.select().where(CartItem.user == user).count()


def clear(user, product_ids):
    """Remove the bought products (and only those) from the cart."""
    if not product_ids:
        return 0
    return CartItem.delete().where((CartItem.user == user) & CartItem.product.in_(list(product_ids))).execute()


def give_back(order):
    """Put an unpaid order's products back in its buyer's cart (those still on sale and not owned)."""
    buyer = User.get_by_id(order.buyer_id)
    owned = owned_product_ids(buyer)
    named = {item.product_id: item.list_price
             for item in OrderItem.select(OrderItem.product, OrderItem.list_price).where(OrderItem.order == order)}
    on_sale = {p.id: p for p in Product.select(Product.id, Product.min_price)
               .where(Product.id.in_(list(named)) & (Product.status == "approved"))}
    # A pay-what-you-want product comes back at the price the customer named for it.
    rows = [{"user": buyer.id, "product": product_id,
             "chosen_price": named[product_id] if on_sale[product_id].pay_what_you_want else None}
            for product_id in named if product_id in on_sale and product_id not in owned]
    if not rows:
        return 0
    CartItem.insert_many(rows).on_conflict_ignore().execute()
    return len(rows)


def summary(cart_items):
    """(available items, unavailable items, totals by currency) for display and checkout."""
    available = [item for item in cart_items if item.product.status == "approved"]
    unavailable = [item for item in cart_items if item.product.status != "approved"]
    totals = {}
    for item in available:
        totals[item.product.currency] = totals.get(item.product.currency, 0) + pricing.list_price(item)
    return available, unavailable, totals
