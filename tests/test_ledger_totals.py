"""The ledger's closed totals (shop/orders/ledger_totals.py): whatever has been closed and
whenever, every figure is the one summing every entry gives; two closers at once add
nothing twice; and on PostgreSQL an entry still uncommitted is never passed by the mark."""

import random
import threading
from types import SimpleNamespace

import pytest
from peewee import DatabaseError, fn

from shop.money import format_money, split_sale
from shop.orders import ledger, ledger_totals, orders
from shop.payouts import balances
from models import LedgerClose, LedgerEntry, LedgerTotal, Order, OrderItem, db
from tests.conftest import TEST_DATABASE, _postgres_url
from tests.shop_fixtures import make_product


def every_entry_summed(seller_id=None):
    """The figures as the ledger gives them without totals: a sum of every entry."""
    query = LedgerEntry.select(LedgerEntry.seller, LedgerEntry.currency, LedgerEntry.kind,
                               fn.COUNT(LedgerEntry.id), fn.SUM(LedgerEntry.gross),
                               fn.SUM(LedgerEntry.fee), fn.SUM(LedgerEntry.amount))
    if seller_id is not None:
        query = query.where(LedgerEntry.seller == seller_id)
    rows = query.group_by(LedgerEntry.seller, LedgerEntry.currency, LedgerEntry.kind).tuples()
    return sorted((s, c, k, *(int(v) for v in figures)) for s, c, k, *figures in rows)


def sell(product, customer, price, currency="USD"):
    order = Order.create(reference=orders.new_reference(), buyer=customer, gateway="test", total=price,
                         currency=currency, status="paid")
    item = OrderItem.create(order=order, product=product, seller=product.seller_id, title=product.title,
                            price=price, currency=currency)
    fee, share = split_sale(price, 10.0)
    ledger.credit_sale(SimpleNamespace(seller_id=product.seller_id, order_id=order.id, order_item_id=item.id,
                                       amount=price, platform_fee=fee, seller_amount=share, currency=currency))
    return order


@pytest.fixture
def shop(make_user):
    sellers = [make_user("seller") for _ in range(3)]
    return [make_product(seller, f"Product of {seller.name}", 1000) for seller in sellers], make_user("customer")


def test_the_figures_are_every_entrys_sum_however_much_is_closed(shop):
    products, customer = shop
    chance = random.Random(23)
    sold = []
    for step in range(120):
        action = chance.random()
        if action < 0.7:
            sold.append(sell(chance.choice(products), customer, chance.randint(1, 90_000),
                             chance.choice(["USD", "USD", "EUR"])))
        elif action < 0.85 and sold:
            ledger.reverse_order(chance.choice(sold))  # a refund, perhaps of a sale already closed
        else:
            ledger_totals.close(chunk=chance.randint(1, 12))
        if step % 10 == 0:
            assert [row for row in ledger_totals.sums()] == every_entry_summed()
            for product in products:
                assert ledger_totals.sums(product.seller_id) == every_entry_summed(product.seller_id)
    assert ledger_totals.sums() == every_entry_summed()
    # Closing everything leaves nothing open, and again closes nothing.
    assert ledger_totals.close() > 0
    assert LedgerClose.get().through_id == LedgerEntry.select(fn.MAX(LedgerEntry.id)).scalar()
    assert ledger_totals.close() == 0
    assert ledger_totals.sums() == every_entry_summed()
    assert sum(t.entries for t in LedgerTotal.select()) == LedgerEntry.select().count()
    # The balances and the commission read the same figures.
    fees = {}
    for _, currency, _, _, _, fee, _ in every_entry_summed():
        fees[currency] = fees.get(currency, 0) + fee
    assert balances.commission_earned() == dict(sorted(fees.items()))
    for product in products:
        owed = {c: 0 for _, c, *_ in every_entry_summed(product.seller_id)}
        for _, currency, _, _, _, _, amount in every_entry_summed(product.seller_id):
            owed[currency] += amount
        assert {c: b.total for c, b in balances.balances(product.seller_id, hold_days=0).items()} == owed
        assert ledger.balances(product.seller_id) == owed


def test_a_shop_with_nothing_closed_yet_reads_every_entry(shop):
    products, customer = shop
    sell(products[0], customer, 5000)
    assert LedgerClose.select().count() == 0  # as an upgraded shop is until the first close
    assert ledger_totals.sums() == every_entry_summed()
    assert ledger_totals.close() == 1 and LedgerTotal.select().count() == 1


def test_two_closers_at_once_add_nothing_twice(shop):
    products, customer = shop
    for number in range(60):
        sell(products[number % 3], customer, 100 + number)
    start, errors = threading.Barrier(4), []

    def closer():
        try:
            start.wait()
            with db.connection_context():
                for _ in range(10):
                    ledger_totals.close(chunk=3)
        except Exception as error:  # noqa: BLE001  (the test reports it)
            errors.append(error)

    def seller():
        try:
            start.wait()
            with db.connection_context():
                for number in range(20):
                    sell(products[number % 3], customer, 500 + number)
        except Exception as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=closer) for _ in range(3)] + [threading.Thread(target=seller)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    ledger_totals.close()
    assert ledger_totals.sums() == every_entry_summed()
    assert sum(t.entries for t in LedgerTotal.select()) == LedgerEntry.select().count() == 80


@pytest.mark.skipif(TEST_DATABASE != "postgres", reason="SQLite has one writer at a time")
def test_an_entry_not_yet_committed_is_never_passed_by_the_mark(shop):
    """PostgreSQL hands out ids before it commits them: an entry whose transaction is still open
    when a later one has committed must be closed after it commits, not skipped."""
    import psycopg

    products, customer = shop
    early = sell(products[0], customer, 700)
    item = OrderItem.get(OrderItem.order == early)
    other = psycopg.connect(_postgres_url())
    try:
        # A writer that took an id and has not committed (a purchase's transaction in flight).
        other.execute('INSERT INTO "ledger_entry" ("seller_id", "order_id", "order_item_id", "kind", "gross", '
                      '"fee", "amount", "currency", "created_at") VALUES (%s, %s, %s, %s, 700, 70, 630, %s, now())',
                      (products[0].seller_id, early.id, item.id, "refund", "USD"))
        later = sell(products[1], customer, 900)  # a later id, committed first
        assert ledger_totals.settled_last_id(wait=0.2) is None
        assert ledger_totals.close(wait=0.2) == 0  # waited for the writer in flight, closed nothing
        assert LedgerClose.get_or_none() is None or LedgerClose.get().through_id == 0
        # A writer that began after the last id was read does not hold the mark back.
        committer = threading.Timer(0.3, other.commit)
        committer.start()
        assert ledger_totals.settled_last_id(wait=5) == LedgerEntry.select(fn.MAX(LedgerEntry.id)).scalar()
        committer.join()
    finally:
        other.close()
    assert ledger_totals.close() == 3
    assert ledger_totals.sums() == every_entry_summed()
    assert LedgerClose.get().through_id == LedgerEntry.select(fn.MAX(LedgerEntry.id)).scalar()
    assert later.id > early.id


def test_a_reader_sees_the_same_figures_while_closes_commit(shop):
    """The totals and the entries after the mark are read in one statement: a close that
    commits in between can neither drop a range nor count it twice."""
    products, customer = shop
    for number in range(40):
        sell(products[number % 3], customer, 300 + number)
    expected, seen, errors = every_entry_summed(), [], []
    done = threading.Event()

    def closer():
        try:
            with db.connection_context():
                while ledger_totals.close(chunk=1):
                    pass
        except Exception as error:  # noqa: BLE001  (the test reports it)
            errors.append(error)
        finally:
            done.set()

    thread = threading.Thread(target=closer)
    thread.start()
    while not done.is_set():
        seen.append(ledger_totals.sums())
    thread.join(60)
    assert errors == [] and LedgerClose.get().through_id == LedgerEntry.select(fn.MAX(LedgerEntry.id)).scalar()
    assert len(seen) > 1 and all(figures == expected for figures in seen)


def test_the_periodic_job_closes_the_ledger(shop):
    import tasks

    products, customer = shop
    sell(products[0], customer, 1500)
    tasks.close_ledger_totals.run_now()
    assert LedgerClose.get().through_id == LedgerEntry.select(fn.MAX(LedgerEntry.id)).scalar()
    assert ledger_totals.sums() == every_entry_summed()


def test_the_database_refuses_to_change_or_delete_an_entry(shop):
    products, customer = shop
    order = sell(products[0], customer, 2500)
    entry = LedgerEntry.get(LedgerEntry.order == order)
    for change in (lambda: LedgerEntry.update(amount=LedgerEntry.amount + 1).where(LedgerEntry.id == entry.id),
                   lambda: LedgerEntry.update(seller=products[1].seller_id).where(LedgerEntry.id == entry.id),
                   lambda: LedgerEntry.delete().where(LedgerEntry.id == entry.id)):
        with pytest.raises(DatabaseError, match="never changed or deleted"):
            with db.atomic():
                change().execute()
    assert LedgerEntry.get_by_id(entry.id).amount == entry.amount
    # When a sale was booked may still be corrected: it only moves it across the hold.
    LedgerEntry.update(created_at=entry.created_at).where(LedgerEntry.id == entry.id).execute()


def test_the_payouts_page_shows_closed_and_open_entries_alike(shop, login_as, client):
    products, customer = shop
    sell(products[0], customer, 10_000)
    ledger_totals.close()
    sell(products[0], customer, 20_000)  # after the mark
    login_as("admin")
    page = client.get("/admin/payouts")
    seller = products[0].seller
    share = split_sale(10_000, 10.0)[1] + split_sale(20_000, 10.0)[1]
    assert balances.balance_of(seller).pending == share  # both sales are inside the hold
    row = page.text[page.text.index(seller.name):]
    assert format_money(share, "USD") in row[:row.index("</tr>")]
    commission = split_sale(10_000, 10.0)[0] + split_sale(20_000, 10.0)[0]
    assert format_money(commission, "USD") in page.text


@pytest.mark.parametrize("seller", [None, 1])
def test_the_entries_after_the_mark_are_read_by_their_ids(shop, seller):
    """Not through the seller's index, which would read every entry they ever had."""
    sql, params = ledger_totals.statement(seller)
    with db.atomic():
        if TEST_DATABASE == "sqlite":
            plan = db.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall()
        else:
            db.execute_sql("SET LOCAL enable_seqscan = off")  # as in a ledger too big to scan
            plan = db.execute_sql("EXPLAIN " + sql, params).fetchall()
    plan = " ".join(str(row[-1]) for row in plan)
    if TEST_DATABASE == "sqlite":
        assert "SEARCH ledger_entry USING INTEGER PRIMARY KEY (rowid>?)" in plan, plan
    else:
        assert "ledger_entry_pkey" in plan and "ledger_entry_seller_id" not in plan, plan
