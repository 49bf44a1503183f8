"""Tax and credit notes: the buyer's country, tax and evidence on orders, net and tax on items and ledger entries, invoices numbered per year, credit notes.

Every new column is nullable, so consumers of the previous release keep inserting
orders, items and entries while it runs; a row without them is an order made before
tax was charged (its price is its net, its tax none).

Invoices: the old single series (INV-000001, INV-000002, ...) stays as it was, an
issued invoice never changes. Its rows get no year, and the unique number becomes
unique per year, so the new yearly series (INV-2026-000001) starts at 1 beside them.
"""

import datetime

from peewee import BigIntegerField, CharField, DateTimeField, ForeignKeyField, IntegerField, Model, TextField


class _Table(Model):
    class Meta:
        legacy_table_names = False


class Order(_Table):
    class Meta:
        table_name = "order"


class Invoice(_Table):
    class Meta:
        table_name = "invoice"


class CreditNote(_Table):
    order = ForeignKeyField(Order, backref="credit_notes", on_delete="RESTRICT")
    invoice = ForeignKeyField(Invoice, backref="credit_notes", on_delete="RESTRICT")
    key = CharField(unique=True)
    year = IntegerField()
    number = IntegerField()
    issued_at = DateTimeField(default=datetime.datetime.utcnow)
    reason = TextField(null=True)
    lines = TextField()
    net = BigIntegerField()
    tax = BigIntegerField()
    gross = BigIntegerField()
    currency = CharField(max_length=3)
    pdf_path = CharField(null=True)
    pdf_size = IntegerField(default=0)
    generated_at = DateTimeField(null=True)

    class Meta:
        table_name = "credit_note"
        indexes = ((("year", "number"), True),)


def upgrade(migrator, db):
    migrator.migrate(
        migrator.add_column("user", "legal_name", CharField(null=True)),
        migrator.add_column("user", "legal_address", TextField(null=True)),
        migrator.add_column("user", "tax_number", CharField(null=True)),
        migrator.add_column("order", "tax_country", CharField(null=True)),
        migrator.add_column("order", "buyer_business_name", CharField(null=True)),
        migrator.add_column("order", "buyer_address", TextField(null=True)),
        migrator.add_column("order", "buyer_tax_number", CharField(null=True)),
        migrator.add_column("order", "tax_evidence", TextField(null=True)),
        migrator.add_column("order", "tax_treatment", CharField(null=True)),
        migrator.add_column("order", "tax_rate", CharField(null=True)),
        migrator.add_column("order", "net_total", BigIntegerField(null=True)),
        migrator.add_column("order", "tax_total", BigIntegerField(null=True)),
        migrator.add_column("order_item", "net", BigIntegerField(null=True)),
        migrator.add_column("order_item", "tax", BigIntegerField(null=True)),
        migrator.add_column("ledger_entry", "tax", BigIntegerField(null=True)),
        migrator.add_column("invoice", "year", IntegerField(null=True)),
        migrator.add_column("invoice", "issuer", TextField(null=True)),
        migrator.drop_index("invoice", "invoice_number"),
        migrator.add_index("invoice", ("year", "number"), True),
    )
    with db.bind_ctx([Order, Invoice, CreditNote]):
        db.create_tables([CreditNote])
