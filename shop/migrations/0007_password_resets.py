"""Password reset links (password_reset): single-use, expiring, stored as the token's digest.

A new table only; nothing that exists changes. Reset requests are counted in
login_attempt under keys of their own, so that table is unchanged too.
"""

import datetime

from peewee import CharField, DateTimeField, ForeignKeyField, Model


class User(Model):
    class Meta:
        table_name = "user"
        legacy_table_names = False


class PasswordReset(Model):
    token_hash = CharField(unique=True)
    user = ForeignKeyField(User, backref="password_resets", on_delete="CASCADE")
    created_at = DateTimeField(default=datetime.datetime.utcnow)
    expires_at = DateTimeField(index=True)
    used_at = DateTimeField(null=True)

    class Meta:
        table_name = "password_reset"
        legacy_table_names = False


def upgrade(migrator, db):
    with db.bind_ctx([User, PasswordReset]):
        db.create_tables([PasswordReset])
