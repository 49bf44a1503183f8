"""Stamped PDFs: product.stamp_pdfs (nullable, so the previous release keeps inserting
products; None means no) and the stamped_file table of the buyers' stamped copies.
"""

import datetime

from peewee import BooleanField, CharField, DateTimeField, ForeignKeyField, Model


class _Table(Model):
    class Meta:
        legacy_table_names = False


class OrderItem(_Table):
    class Meta:
        table_name = "order_item"


class ProductFile(_Table):
    class Meta:
        table_name = "product_file"


class StampedFile(_Table):
    order_item = ForeignKeyField(OrderItem, backref="stamped_files", on_delete="CASCADE")
    product_file = ForeignKeyField(ProductFile, backref="stamped_files", on_delete="CASCADE")
    path = CharField()
    created_at = DateTimeField(default=datetime.datetime.utcnow)

    class Meta:
        table_name = "stamped_file"
        indexes = ((("order_item", "product_file"), True),)


def upgrade(migrator, db):
    with db.bind_ctx([OrderItem, ProductFile, StampedFile]):
        db.create_tables([StampedFile])
    migrator.migrate(migrator.add_column("product", "stamp_pdfs", BooleanField(null=True, default=False)))
