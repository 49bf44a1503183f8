"""Verified email addresses: user.email_verified_at.

Nullable, so a web process of the previous release can still create accounts
while the shop upgrades. Accounts that exist already are taken as verified at
the time they were made: they were made before the shop asked anyone to verify,
and a seller among them must not lose the right to submit products.
"""

from peewee import DateTimeField


def upgrade(migrator, db):
    migrator.migrate(migrator.add_column("user", "email_verified_at", DateTimeField(null=True)))
    db.execute_sql('UPDATE "user" SET "email_verified_at" = "created_at" WHERE "email_verified_at" IS NULL')
