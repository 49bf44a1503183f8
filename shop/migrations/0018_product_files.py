"""Several files per product: the product_file table, and every product's one file copied
into it as its first (position 0), name, size and digest included.

The product's own file columns stay, written in step with the first file, so consumers
of the previous release and every download link made before keep working; they go one
release after the code stops reading them.
"""

import datetime

from peewee import BigIntegerField, CharField, DateTimeField, ForeignKeyField, IntegerField, Model


class Product(Model):
    class Meta:
        table_name = "product"
        legacy_table_names = False


class ProductFile(Model):
    product = ForeignKeyField(Product, backref="files", on_delete="CASCADE")
    position = IntegerField()
    name = CharField()
    path = CharField()
    size = BigIntegerField(default=0)
    sha256 = CharField(null=True)
    created_at = DateTimeField(default=datetime.datetime.utcnow)

    class Meta:
        table_name = "product_file"
        legacy_table_names = False
        indexes = ((("product", "position"), True),)


def upgrade(migrator, db):
    with db.bind_ctx([Product, ProductFile]):
        db.create_tables([ProductFile])
    db.execute_sql(
        'INSERT INTO "product_file" (product_id, position, name, path, size, sha256, created_at) '
        "SELECT id, 0, COALESCE(file_name, 'download'), file_path, COALESCE(file_size, 0), file_sha256, created_at "
        'FROM "product" WHERE file_path IS NOT NULL ORDER BY id')
