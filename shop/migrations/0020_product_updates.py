"""Product updates to past buyers: the product_update and update_delivery tables. New,
empty tables; no existing table changes.
"""

import datetime

from peewee import CharField, DateTimeField, ForeignKeyField, IntegerField, Model, TextField


class _Table(Model):
    class Meta:
        legacy_table_names = False


class User(_Table):
    class Meta:
        table_name = "user"


class Product(_Table):
    class Meta:
        table_name = "product"


class ProductUpdate(_Table):
    product = ForeignKeyField(Product, backref="updates", on_delete="CASCADE")
    message = TextField()
    created_at = DateTimeField(default=datetime.datetime.utcnow)
    batch_id = CharField(null=True, unique=True)
    recipients = IntegerField(default=0)

    class Meta:
        table_name = "product_update"


class UpdateDelivery(_Table):
    product_update = ForeignKeyField(ProductUpdate, backref="deliveries", on_delete="CASCADE")
    buyer = ForeignKeyField(User, on_delete="CASCADE")
    delivered_at = DateTimeField(null=True)

    class Meta:
        table_name = "update_delivery"
        indexes = ((("product_update", "buyer"), True),)


TABLES = [ProductUpdate, UpdateDelivery]


def upgrade(migrator, db):
    with db.bind_ctx([User, Product, *TABLES]):
        db.create_tables(TABLES)
