"""Seller payouts: the payout table, and ledger entries that debit a payout instead of booking an order.

- payout: money paid to a seller (a manual transfer recorded with its
  reference), unique per request_key so a form sent twice records one payout.
- ledger_entry.payout: the payout an entry debits, unique, so each payout is
  booked once. A payout belongs to no order, so ledger_entry.order and
  ledger_entry.order_item become nullable; every existing entry keeps both.
"""

from peewee import BigIntegerField, CharField, DateTimeField, ForeignKeyField, IntegerField, Model


class User(Model):
    class Meta:
        table_name = "user"


class Payout(Model):
    seller = ForeignKeyField(User, on_delete="RESTRICT")
    amount = BigIntegerField()
    currency = CharField(max_length=3)
    method = CharField()
    reference = CharField()
    request_key = CharField(unique=True)
    recorded_by = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="payouts_recorded")
    created_at = DateTimeField(index=True)

    class Meta:
        table_name = "payout"
        legacy_table_names = False


def upgrade(migrator, db):
    with db.bind_ctx([User, Payout]):
        db.create_tables([Payout])
    payout = ForeignKeyField(Payout, field=Payout.id, null=True, unique=True, on_delete="RESTRICT")
    migrator.migrate(
        migrator.drop_not_null("ledger_entry", "order_id"),
        migrator.drop_not_null("ledger_entry", "order_item_id"),
        migrator.add_column("ledger_entry", "payout_id", payout),
    )
