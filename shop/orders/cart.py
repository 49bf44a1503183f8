"""A customer's cart: add, remove, list. Rows in the database, so it survives logging out.

Digital products are bought once: the cart holds each product at most once,
and a product the customer already owns cannot be added again.
"""

from peewee import IntegrityError

from shop.errors import NotFound, ValidationError
from models import CartItem, Order, OrderItem, Product, User, db


def owned_product_ids(user):
    """Products the customer has paid for and not had refunded."""
    query = (OrderItem.select(OrderItem.product).join(Order)
             .where((Order.buyer == user) & (Order.status == "paid")))
    return {row.product_id for row in query}


def add(user, product_id):
    """Put an approved product in the cart; returns the product. Adding it twice is harmless."""
    product = Product.get_or_none((Product.id == product_id) & (Product.status == "approved"))
    if product is None:
        raise NotFound("This product does not exist or is no longer on sale.")
    if product.seller_id == user.id:
        raise ValidationError("You cannot buy your own product.")
    if product.id in owned_product_ids(user):
        raise ValidationError("You already own this product: find it under Purchases.")
    try:
        with db.atomic():
            CartItem.create(user=user, product=product)
    except IntegrityError:
        pass  # already in the cart
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


def count(user):
    return CartItem.select().where(CartItem.user == user).count()


def clear(user, product_ids):
    """Remove the bought products (and only those) from the cart."""
    if not product_ids:
        return 0
    return CartItem.delete().where((CartItem.user == user) & CartItem.product.in_(list(product_ids))).execute()


def summary(cart_items):
    """(available items, unavailable items, totals by currency) for display and checkout."""
    available = [item for item in cart_items if item.product.status == "approved"]
    unavailable = [item for item in cart_items if item.product.status != "approved"]
    totals = {}
    for item in available:
        totals[item.product.currency] = totals.get(item.product.currency, 0) + item.product.price
    return available, unavailable, totals
