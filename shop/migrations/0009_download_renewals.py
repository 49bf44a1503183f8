"""Renewed download links (download_renewal): the log of renewals from the customer's library.

A new table only; a renewal rewrites its download_link row in place (new token,
expiry and count), so that table is unchanged.
"""

import datetime

from peewee import DateTimeField, ForeignKeyField, IntegerField, Model


class User(Model):
    class Meta:
        table_name = "user"
        legacy_table_names = False


class DownloadLink(Model):
    class Meta:
        table_name = "download_link"
        legacy_table_names = False


class DownloadRenewal(Model):
    link = ForeignKeyField(DownloadLink, backref="renewals", on_delete="CASCADE")
    buyer = ForeignKeyField(User, on_delete="CASCADE")
    previous_expires_at = DateTimeField()
    previous_download_count = IntegerField()
    created_at = DateTimeField(default=datetime.datetime.utcnow, index=True)

    class Meta:
        table_name = "download_renewal"
        legacy_table_names = False


def upgrade(migrator, db):
    with db.bind_ctx([User, DownloadLink, DownloadRenewal]):
        db.create_tables([DownloadRenewal])
