"""Prices and shares for any cart, discount code and commission (hypothesis): the customer
pays what the cart showed, each seller's credit plus the commission is what was paid, and
rounding never loses or makes a cent."""

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shop import config
from shop.money import allocate, split_sale
from shop.orders import cart, orders
from shop.selling import discounts, pricing
from models import DiscountCode, LedgerEntry, OrderItem, Product, TransactionItem
from tests.shop_fixtures import make_product

SOME = settings(max_examples=300, deadline=None)
FEW = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                      HealthCheck.too_slow])

prices = st.integers(min_value=0, max_value=5_000_000)
codes = st.one_of(st.tuples(st.just("percent"), st.integers(1, 100)),
                  st.tuples(st.just("fixed"), st.integers(1, 6_000_000)))


@SOME
@given(amount=st.integers(0, 10_000_000), weights=st.lists(st.integers(0, 10_000_000), min_size=1, max_size=8))
def test_an_allocation_sums_to_its_amount_and_no_share_passes_its_weight(amount, weights):
    amount = min(amount, sum(weights))
    shares = allocate(amount, weights)
    assert sum(shares) == amount
    assert all(0 <= share <= weight for share, weight in zip(shares, weights))


@SOME
@given(lines=st.lists(st.tuples(prices, st.integers(1, 3), st.booleans()), min_size=1, max_size=6),
       code=codes, minimum=st.sampled_from([1, 30, 50, 100, 1000]), percent=st.decimals(0, 100, places=2))
def test_any_code_on_any_cart_keeps_every_cent(lines, code, minimum, percent):
    cart_lines = [pricing.Line(n, seller, f"item {n}", price) for n, (price, seller, _) in enumerate(lines)]
    eligible = {n for n, (_, _, covered) in enumerate(lines) if covered}
    priced = pricing.price_lines(cart_lines, eligible, *code, minimum)
    subtotal = sum(line.list_price for line in cart_lines)
    total = sum(line.price for line in priced)
    # No price below zero, no discount on an item the code does not cover, and nothing made or lost.
    assert all(0 <= line.price <= line.list_price for line in priced)
    assert all(line.discount == 0 for n, line in enumerate(priced) if n not in eligible)
    assert total + sum(line.discount for line in priced) == subtotal
    # Never between zero and the minimum charge, unless the cart itself was already below it.
    assert total == 0 or total >= minimum or total == subtotal
    # The commission and each seller's credit add up to what was paid, per item and in all.
    shares = [split_sale(line.price, percent) for line in priced]
    assert all(fee + share == line.price for (fee, share), line in zip(shares, priced))
    by_seller = {}
    for line, (fee, share) in zip(priced, shares):
        by_seller[line.seller_id] = by_seller.get(line.seller_id, 0) + share
    assert sum(by_seller.values()) + sum(fee for fee, _ in shares) == total


@SOME
@given(eligible=st.integers(0, 10_000_000), percent=st.integers(1, 100))
def test_a_percentage_is_the_exact_share_rounded_half_up(eligible, percent):
    taken = pricing.code_discount("percent", percent, eligible)
    assert abs(taken * 100 - eligible * percent) <= 50


_counter = itertools.count()


@FEW
@given(items=st.lists(st.tuples(st.integers(50, 200_000), st.integers(0, 2), st.none() | st.integers(0, 50_000)),
                      min_size=1, max_size=4),
       code=codes, commission=st.sampled_from([0, 7.5, 10, 33.33, 50]))
def test_any_cart_is_charged_what_it_showed_and_shared_without_a_lost_cent(
        app_env, make_user, items, code, commission):
    app_env.reload(COMMISSION_PERCENT=commission)
    sellers = [make_user("seller") for _ in range(3)]
    customer = make_user("customer")
    products = []
    for price, seller, named in items:
        product = make_product(sellers[seller], f"Item {next(_counter)}", price)
        if named is not None:  # pay what you want, from zero: the customer's price, which no code lowers
            product.min_price = 0
            product.save()
        cart.add(customer, product.id, named)
        products.append(product)
    if all(named is not None for _, _, named in items):
        items[0] = items[0][:2] + (None,)  # at least one item the code can cover
        Product.update(min_price=None).where(Product.id == products[0].id).execute()
    kind, amount = code
    coupon = DiscountCode.create(code=f"PROP{next(_counter)}", kind=kind, amount=amount,
                                 currency="USD" if kind == "fixed" else None)
    shown = discounts.quote_cart(customer, cart.items(customer), "USD", coupon.code, strict=True)

    order = orders.create_from_cart(customer, "test", code=coupon.code)
    assert order.total == shown.total
    assert [(item.product_id, item.list_price, item.discount, item.price)
            for item in OrderItem.select().where(OrderItem.order == order).order_by(OrderItem.id)] == [
        (line.product_id, line.list_price, line.discount, line.price) for line in shown.lines]
    if order.total:
        orders.mark_paid(order.id, "pi_property")
    else:
        assert order.gateway == "free"
        orders.complete_free(order)
    credits = list(LedgerEntry.select().where(LedgerEntry.order == order))
    assert len(credits) == len(products)
    assert sum(entry.amount + entry.fee for entry in credits) == order.total
    assert all(entry.gross == entry.amount + entry.fee for entry in credits)
    assert sum(t.amount for t in TransactionItem.select().where(TransactionItem.order == order)) == order.total
    assert config.COMMISSION_PERCENT == commission
    Product.update(status="rejected").where(Product.id.in_([p.id for p in products])).execute()
