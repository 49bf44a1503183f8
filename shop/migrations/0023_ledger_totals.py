"""The ledger's sums closed through an entry id (shop/orders/ledger_totals.py): the
ledger_total and ledger_close tables. New, empty tables; no existing table changes.
The periodic job close_ledger_totals sums the existing entries into them in chunks
within ten minutes of the upgrade; until then every balance is the sum of all entries,
as before.
"""

from peewee import BigIntegerField, CharField, ForeignKeyField, IntegerField, Model


class _Table(Model):
    class Meta:
        legacy_table_names = False


class User(_Table):
    class Meta:
        table_name = "user"


class LedgerTotal(_Table):
    seller = ForeignKeyField(User, index=False, on_delete="RESTRICT")
    currency = CharField(max_length=3)
    kind = CharField()
    entries = IntegerField(default=0)
    gross = BigIntegerField(default=0)
    fee = BigIntegerField(default=0)
    amount = BigIntegerField(default=0)

    class Meta:
        table_name = "ledger_total"
        indexes = ((("seller", "currency", "kind"), True),)


class LedgerClose(_Table):
    through_id = BigIntegerField(default=0)

    class Meta:
        table_name = "ledger_close"


TABLES = [LedgerTotal, LedgerClose]


def upgrade(migrator, db):
    with db.bind_ctx([User, *TABLES]):
        db.create_tables(TABLES)
