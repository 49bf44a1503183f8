"""Sellers' money: the split of each sale, ledger entries, reversals, balances and the balance page."""

from hypothesis import given
from hypothesis import strategies as st

from shop import config
from shop.orders import fulfilment
from shop.orders import ledger
from shop.orders import orders
from models import LedgerEntry, Order, OrderItem, TransactionItem
from shop.money import split_sale
from tests.conftest import login
from tests.shop_fixtures import make_product


@given(amount=st.integers(min_value=0, max_value=10**12),
       percent=st.one_of(st.integers(min_value=0, max_value=100).map(float),
                         st.floats(min_value=0, max_value=100, allow_nan=False).map(lambda f: round(f, 2))))
def test_fee_and_share_always_sum_to_the_price(amount, percent):
    fee, share = split_sale(amount, percent)
    assert fee + share == amount
    assert 0 <= fee <= amount and share >= 0


def test_rounding_rule_is_half_up_on_the_fee():
    # 10% of 1005 cents is 100.5: the platform's fee rounds up to 101, the seller gets 904.
    assert split_sale(1005, 10) == (101, 904)
    assert split_sale(1004, 10) == (100, 904)
    assert split_sale(999, 12.5) == (125, 874)
    assert split_sale(1, 10) == (0, 1)


def paid_order(customer, products):
    order = Order.create(reference=orders.new_reference(), buyer=customer, gateway="test",
                         total=sum(p.price for p in products), currency="USD")
    for product in products:
        OrderItem.create(order=order, product=product, seller=product.seller_id, title=product.title,
                         price=product.price, currency=product.currency)
    orders.mark_paid(order.id, payment_ref="pi_test")
    return order


def test_a_sale_credits_each_seller_their_share(make_user, app_env):
    app_env.reload(COMMISSION_PERCENT="12.5")
    sam, priya, customer = make_user("seller"), make_user("seller"), make_user("customer")
    order = paid_order(customer, [make_product(sam, "Presets", 1999), make_product(priya, "E-book", 999),
                                  make_product(sam, "Loops", 501)])
    assert ledger.balances(sam) == {"USD": (1999 - 250) + (501 - 63)}
    assert ledger.balances(priya) == {"USD": 999 - 125}
    sales = list(TransactionItem.select())
    assert sum(s.platform_fee + s.seller_amount for s in sales) == order.total
    assert sum(e.amount + e.fee for e in LedgerEntry.select()) == order.total


def test_a_refund_adds_reversing_entries_and_changes_none(make_user):
    sam, customer = make_user("seller"), make_user("customer")
    order = paid_order(customer, [make_product(sam, "Presets", 1500)])
    sale = LedgerEntry.get()
    assert fulfilment.refund_order(order.id)
    assert ledger.balances(sam) == {"USD": 0}
    entries = list(LedgerEntry.select().order_by(LedgerEntry.id))
    assert [e.kind for e in entries] == ["sale", "refund"]
    assert entries[0].amount == sale.amount == 1350  # the sale itself is untouched
    assert (entries[1].gross, entries[1].fee, entries[1].amount) == (-1500, -150, -1350)
    # A second refund notification books nothing more.
    assert not fulfilment.refund_order(order.id)
    assert ledger.reverse_order(order) == []
    assert LedgerEntry.select().count() == 2


def test_booking_twice_is_impossible(make_user):
    sam, customer = make_user("seller"), make_user("customer")
    order = paid_order(customer, [make_product(sam, "Presets", 1500)])
    sale = TransactionItem.get()
    entry, created = ledger.credit_sale(sale)
    assert not created and entry.id == LedgerEntry.get().id
    fulfilment.process_purchase(order.id)
    assert LedgerEntry.select().count() == 1


def test_balance_page_shows_ledger_and_totals(client, make_user):
    sam, priya, customer = make_user("seller"), make_user("seller"), make_user("customer")
    paid_order(customer, [make_product(sam, "Field presets", 2000), make_product(priya, "E-book", 999)])
    refunded = paid_order(make_user("customer"), [make_product(sam, "Drum loops", 1000)])
    fulfilment.refund_order(refunded.id)
    login(client, sam)
    page = client.get("/seller/balance")
    assert page.status_int == 200
    assert "$18.00" in page.text  # available: 2000 - 10% = 1800; the refunded sale nets zero
    assert "Field presets" in page.text and "Drum loops" in page.text
    assert "E-book" not in page.text  # another seller's sale
    assert page.text.count(">refund<") == 1
    assert f"{config.COMMISSION_PERCENT:g}% commission" in page.text


def test_balance_page_is_for_sellers_only(client, login_as):
    login_as("customer")
    assert client.get("/seller/balance", expect_errors=True).status_int == 403
