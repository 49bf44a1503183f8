"""Product previews: the product_preview table (images a seller shows before the sale, and
the first page of a product's PDF). New, empty table.
"""

import datetime
import json

from peewee import CharField, DateTimeField, ForeignKeyField, Model, TextField


class JSONField(TextField):
    def db_value(self, value):
        return None if value is None else json.dumps(value, separators=(",", ":"), sort_keys=True)

    def python_value(self, value):
        return None if value is None else json.loads(value)


class Product(Model):
    class Meta:
        table_name = "product"
        legacy_table_names = False


class ProductPreview(Model):
    product = ForeignKeyField(Product, backref="previews", on_delete="CASCADE")
    kind = CharField()
    source = CharField()
    images = JSONField(default=dict)
    state = CharField(default="processing")
    error = TextField(null=True)
    created_at = DateTimeField(default=datetime.datetime.utcnow)

    class Meta:
        table_name = "product_preview"
        legacy_table_names = False
        indexes = ((("product", "kind"), False),)


def upgrade(migrator, db):
    with db.bind_ctx([Product, ProductPreview]):
        db.create_tables([ProductPreview])
