"""The ledger's sums closed through an entry id (shop/orders/ledger_totals.py): the
ledger_total and ledger_close tables, new and empty. The periodic job
close_ledger_totals sums the existing entries into them in chunks within ten minutes
of the upgrade; until then every balance is the sum of all entries, as before.

The totals rest on entries never changing, which the code has always kept to: the
database now refuses to delete an entry or change what it sums (its seller, currency,
kind and figures). Its created_at, which only places it before or after a hold, may
still be corrected.
"""

from peewee import BigIntegerField, CharField, ForeignKeyField, IntegerField, Model

from shop.operations.schema import is_sqlite


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
SUMMED = '"id", "seller_id", "currency", "kind", "gross", "fee", "amount", "tax"'
REFUSAL = "ledger entries are never changed or deleted: book a reversing entry instead"


def upgrade(migrator, db):
    with db.bind_ctx([User, *TABLES]):
        db.create_tables(TABLES)
    if is_sqlite(db):
        for name, event in (("ledger_entry_kept", f"UPDATE OF {SUMMED}"), ("ledger_entry_never_deleted", "DELETE")):
            db.execute_sql(f'CREATE TRIGGER IF NOT EXISTS "{name}" BEFORE {event} ON "ledger_entry" '
                           f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END")
        return
    db.execute_sql('CREATE OR REPLACE FUNCTION "ledger_entry_kept"() RETURNS trigger LANGUAGE plpgsql AS $$ '
                   f"BEGIN RAISE EXCEPTION '{REFUSAL}' USING ERRCODE = 'integrity_constraint_violation'; END $$")
    db.execute_sql('DROP TRIGGER IF EXISTS "ledger_entry_kept" ON "ledger_entry"')
    db.execute_sql(f'CREATE TRIGGER "ledger_entry_kept" BEFORE UPDATE OF {SUMMED} OR DELETE ON "ledger_entry" '
                   'FOR EACH ROW EXECUTE FUNCTION "ledger_entry_kept"()')
