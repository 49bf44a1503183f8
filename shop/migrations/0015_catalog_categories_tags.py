"""Catalog shelves and tags: the category, tag and product_tag tables, product.category, and
the indexes of the catalog's orders (price, best-selling, a shelf's newest).

product.category is a nullable column, so consumers of the previous release keep inserting
products while it runs; every existing product starts on no shelf.
"""

import datetime

from peewee import CharField, DateTimeField, ForeignKeyField, Model


class _Table(Model):
    class Meta:
        legacy_table_names = False


class Product(_Table):
    class Meta:
        table_name = "product"


class Category(_Table):
    name = CharField(unique=True)
    slug = CharField(unique=True)
    created_at = DateTimeField(default=datetime.datetime.utcnow)

    class Meta:
        table_name = "category"


class Tag(_Table):
    name = CharField()
    slug = CharField(unique=True)

    class Meta:
        table_name = "tag"


class ProductTag(_Table):
    product = ForeignKeyField(Product, backref="product_tags", on_delete="CASCADE")
    tag = ForeignKeyField(Tag, backref="product_tags", on_delete="CASCADE")

    class Meta:
        table_name = "product_tag"
        indexes = ((("product", "tag"), True), (("tag", "product"), False))


TABLES = [Category, Tag, ProductTag]


def upgrade(migrator, db):
    with db.bind_ctx([Product, *TABLES]):
        db.create_tables(TABLES)
    category = ForeignKeyField(Category, field=Category.id, null=True, on_delete="SET NULL")
    migrator.migrate(
        migrator.add_column("product", "category_id", category),
        migrator.add_index("product", ("status", "price", "id")),
        migrator.add_index("product", ("status", "download_count", "id")),
        migrator.add_index("product", ("category_id", "status", "approved_at", "id")),
    )
