"""Seller storefronts: the seller_profile table (a seller's bio and avatar). New, empty
table; the storefront's address is made from the seller's name and id, so no existing
row changes.
"""

import datetime
import json

from peewee import CharField, DateTimeField, ForeignKeyField, Model, TextField


class JSONField(TextField):
    def db_value(self, value):
        return None if value is None else json.dumps(value, separators=(",", ":"), sort_keys=True)

    def python_value(self, value):
        return None if value is None else json.loads(value)


class User(Model):
    class Meta:
        table_name = "user"
        legacy_table_names = False


class SellerProfile(Model):
    seller = ForeignKeyField(User, unique=True, backref="seller_profiles", on_delete="CASCADE")
    bio = TextField(default="")
    avatar_original = CharField(null=True)
    avatars = JSONField(default=dict)
    avatar_state = CharField(default="none")
    avatar_error = TextField(null=True)
    updated_at = DateTimeField(default=datetime.datetime.utcnow)

    class Meta:
        table_name = "seller_profile"
        legacy_table_names = False


def upgrade(migrator, db):
    with db.bind_ctx([User, SellerProfile]):
        db.create_tables([SellerProfile])
