"""Selling tools: discount codes, pay what you want and license keys.

New tables (discount_code, discount_code_product, discount_redemption, license_key,
license_activation) and nullable columns only, so consumers of the previous release
keep inserting products, cart items, orders and order items while it runs: a
product with no min_price sells at its price, one with no license_activations
issues no keys, an order item with no list_price had no discount.
"""

import datetime

from peewee import BigIntegerField, CharField, DateTimeField, ForeignKeyField, IntegerField, Model


class User(Model):
    class Meta:
        table_name = "user"
        legacy_table_names = False


class Product(Model):
    class Meta:
        table_name = "product"
        legacy_table_names = False


class Order(Model):
    class Meta:
        table_name = "order"
        legacy_table_names = False


class OrderItem(Model):
    class Meta:
        table_name = "order_item"
        legacy_table_names = False


class DiscountCode(Model):
    code = CharField(unique=True)
    seller = ForeignKeyField(User, null=True, on_delete="CASCADE")
    created_by = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    kind = CharField()
    amount = BigIntegerField()
    currency = CharField(max_length=3, null=True)
    all_products = IntegerField(default=1)
    starts_at = DateTimeField(null=True)
    ends_at = DateTimeField(null=True)
    max_uses = IntegerField(null=True)
    max_uses_per_customer = IntegerField(null=True)
    min_order = BigIntegerField(null=True)
    used_count = IntegerField(default=0)
    disabled_at = DateTimeField(null=True)
    created_at = DateTimeField(default=datetime.datetime.utcnow)

    class Meta:
        table_name = "discount_code"
        legacy_table_names = False


class DiscountCodeProduct(Model):
    discount_code = ForeignKeyField(DiscountCode, on_delete="CASCADE")
    product = ForeignKeyField(Product, on_delete="CASCADE")

    class Meta:
        table_name = "discount_code_product"
        legacy_table_names = False
        indexes = ((("discount_code", "product"), True),)


class DiscountRedemption(Model):
    discount_code = ForeignKeyField(DiscountCode, on_delete="RESTRICT")
    order = ForeignKeyField(Order, unique=True, on_delete="CASCADE")
    buyer = ForeignKeyField(User, on_delete="CASCADE")
    amount = BigIntegerField()
    currency = CharField(max_length=3)
    created_at = DateTimeField(default=datetime.datetime.utcnow)
    released_at = DateTimeField(null=True)

    class Meta:
        table_name = "discount_redemption"
        legacy_table_names = False
        indexes = ((("discount_code", "buyer"), False),)


class LicenseKey(Model):
    key = CharField(unique=True)
    issue_key = CharField(unique=True)
    order_item = ForeignKeyField(OrderItem, on_delete="CASCADE")
    product = ForeignKeyField(Product, on_delete="RESTRICT")
    seller = ForeignKeyField(User, on_delete="RESTRICT", backref="+")
    buyer = ForeignKeyField(User, on_delete="CASCADE", backref="+")
    activation_limit = IntegerField()
    activation_count = IntegerField(default=0)
    expires_at = DateTimeField(null=True)
    disabled_at = DateTimeField(null=True)
    disabled_reason = CharField(null=True)
    created_at = DateTimeField(default=datetime.datetime.utcnow)

    class Meta:
        table_name = "license_key"
        legacy_table_names = False


class LicenseActivation(Model):
    license = ForeignKeyField(LicenseKey, on_delete="CASCADE")
    instance_id = CharField(unique=True)
    name = CharField()
    created_at = DateTimeField(default=datetime.datetime.utcnow)
    last_validated_at = DateTimeField(null=True)

    class Meta:
        table_name = "license_activation"
        legacy_table_names = False


NEW_TABLES = [DiscountCode, DiscountCodeProduct, DiscountRedemption, LicenseKey, LicenseActivation]


def upgrade(migrator, db):
    migrator.migrate(
        migrator.add_column("product", "min_price", BigIntegerField(null=True)),
        migrator.add_column("product", "license_activations", IntegerField(null=True)),
        migrator.add_column("product", "license_days", IntegerField(null=True)),
        migrator.add_column("cart_item", "chosen_price", BigIntegerField(null=True)),
        migrator.add_column("order", "discount", BigIntegerField(null=True)),
        migrator.add_column("order_item", "list_price", BigIntegerField(null=True)),
        migrator.add_column("order_item", "discount", BigIntegerField(null=True)),
    )
    with db.bind_ctx([User, Product, Order, OrderItem] + NEW_TABLES):
        db.create_tables(NEW_TABLES)
