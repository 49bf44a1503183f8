"""One row by one column's value (shop/prepared.py): the statement built once gives the
same instance peewee's own query gives, on every model and kind of column, and every
other shape of Model.get still goes through peewee."""

import datetime

import pytest
from peewee import SQL, DoesNotExist, SqliteDatabase

import models
from shop import prepared
from shop.orders import orders
from models import Order, OrderItem, User, db
from tests.shop_fixtures import make_product


def peewees_own(model, *query):
    """The row as peewee's Model.get builds it, without the lookup's statement."""
    return model.select().where(*query).get()


def same(a, b):
    assert type(a) is type(b)
    assert a.__data__ == b.__data__
    assert {k: type(v) for k, v in a.__data__.items()} == {k: type(v) for k, v in b.__data__.items()}


def test_lookups_give_what_peewee_gives(make_user):
    seller = make_user("seller", email="Seller@Example.com")
    buyer = make_user("customer", email="buyer@example.com")
    product = make_product(seller, title="Zoë's presets — ₹")
    order = Order.create(reference=orders.new_reference(), buyer=buyer, gateway="test", total=1500, currency="USD",
                         status="paid", paid_at=models.utcnow())
    item = OrderItem.create(order=order, product=product, seller=seller.id, title=product.title, price=1500,
                            currency="USD")

    for model, field, value in [(User, User.id, buyer.id), (User, User.email, seller.email),
                                (Order, Order.reference, order.reference), (Order, Order.buyer, buyer),
                                (Order, Order.buyer, buyer.id), (OrderItem, OrderItem.order, order),
                                (Order, Order.paid_at, order.paid_at), (OrderItem, OrderItem.id, str(item.id))]:
        assert prepared.single_equality(model, (field == value,)) == (field, value)
        same(model.get(field == value), peewees_own(model, field == value))
        same(model.get_or_none(field == value), peewees_own(model, field == value))
    same(Order.get_by_id(order.id), peewees_own(Order, Order.id == order.id))
    same(Order.get(order.id), peewees_own(Order, Order.id == order.id))
    fetched = Order.get_by_id(order.id)
    assert isinstance(fetched.paid_at, datetime.datetime) and fetched.buyer.email == "buyer@example.com"
    assert fetched.buyer_id == buyer.id and not fetched.is_dirty()
    fetched.status = "refunded"
    fetched.save()
    assert Order.get_by_id(order.id).status == "refunded"

    assert Order.get_or_none(Order.id == order.id + 1000) is None
    with pytest.raises(Order.DoesNotExist):
        Order.get_by_id(order.id + 1000)
    with pytest.raises(DoesNotExist):
        User.get(User.email == "nobody@example.com")


def test_other_shapes_go_through_peewee(make_user):
    buyer = make_user("customer", email="buyer@example.com")
    other = make_user("customer", email="other@example.com")
    Alias = User.alias()
    for query in [(User.email == "buyer@example.com", User.role == "customer"),
                  ((User.email == "buyer@example.com") & (User.role == "customer"),),
                  (User.email != "other@example.com",), (User.email.in_(["buyer@example.com"]),),
                  (Alias.email == "buyer@example.com",), (User.id == User.id,), (User.email == None,)]:  # noqa: E711
        assert prepared.single_equality(User, query) is None
    assert User.get(User.email == "buyer@example.com", User.role == "customer").id == buyer.id
    assert User.get(email="other@example.com").id == other.id
    assert User.get_or_none(User.email.in_(["nobody@example.com"])) is None


def test_a_bound_database_gets_its_own_statement(make_user, tmp_path):
    # The same model bound to another database (as the copy between databases does) is
    # read from that database, with that database's statement.
    make_user("customer", email="here@example.com")
    other = SqliteDatabase(str(tmp_path / "other.db"))
    with other.bind_ctx([User]):
        other.create_tables([User])
        User.create(email="there@example.com", name="There", role="customer", password_hash="x")
        assert User.get_or_none(User.email == "here@example.com") is None
        assert User.get(User.email == "there@example.com").name == "There"
    other.close()
    assert User.get(User.email == "here@example.com") and db.is_closed() is False


def test_a_new_row_is_stored_as_peewee_stores_it(make_user):
    buyer = make_user("customer", email="buyer@example.com")
    first = Order.create(reference=orders.new_reference(), buyer=buyer, gateway="test", total=1500, currency="USD")
    assert first.id and not first.is_dirty() and first.buyer_id == buyer.id
    second = Order(reference=orders.new_reference(), buyer=buyer.id, gateway="test", total=900, currency="EUR",
                   status="paid", paid_at=models.utcnow())
    assert second.save() == 1 and second.id == first.id + 1 and not second.is_dirty()
    for row in (first, second):
        stored = Order.select().where(Order.id == row.id).get()
        assert {name: stored.__data__[name] for name in row.__data__} == row.__data__
        assert all(stored.__data__[name] is None for name in set(stored.__data__) - set(row.__data__))
    # A default is the row's own, never one kept with the statement.
    assert first.created_at != second.created_at or first.reference != second.reference
    later = Order.create(reference=orders.new_reference(), buyer=buyer, gateway="test", total=1, currency="USD")
    assert later.created_at >= second.created_at
    # A row given its key is stored under it; saving a stored row updates it.
    chosen = Order.create(id=first.id + 100, reference=orders.new_reference(), buyer=buyer, gateway="test",
                          total=1, currency="USD")
    assert chosen.id == first.id + 100 and Order.get_by_id(first.id + 100).total == 1
    chosen.total = 2
    assert chosen.save() == 1 and Order.get_by_id(chosen.id).total == 2
    assert Order.select().count() == 4
    # A value written as SQL is left to peewee, which writes it into the statement.
    when = Order.create(reference=orders.new_reference(), buyer=buyer, gateway="test", total=1, currency="USD",
                        paid_at=SQL("CURRENT_TIMESTAMP"))
    assert Order.get_by_id(when.id).paid_at is not None


def test_a_row_whose_insert_peewee_completes_is_left_to_peewee(make_user):
    # Without its default column, peewee adds the default's value to the statement: that
    # statement is not one to keep.
    names = tuple(sorted(n for n in User._meta.fields if n not in ("id", "created_at")))
    assert prepared._insert_statement(User, names) is None
    assert prepared._insert_statement(User, tuple(sorted(n for n in User._meta.fields if n != "id")))
