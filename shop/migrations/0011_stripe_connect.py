"""Stripe Connect payouts: connected accounts, a payout's Stripe state, and a failed payout's credit.

- connect_account: a seller's Stripe Express account, one per seller, and the
  flags its account.updated events last reported.
- payout.status: where a payout stands ("sending", "transferred", "paid",
  "returned"); every payout recorded before was made outside the shop and is
  "paid" (the column's database default says so for old consumers too).
- payout.transfer_id, stripe_payout_id, account_id: Stripe's ids, unique.
- ledger_entry: unique per payout and kind instead of per payout, so that a
  failed Stripe payout can be credited back once beside its debit.
"""

import datetime

from peewee import BooleanField, CharField, DateTimeField, ForeignKeyField, Model


class User(Model):
    class Meta:
        table_name = "user"
        legacy_table_names = False


class ConnectAccount(Model):
    seller = ForeignKeyField(User, unique=True, backref="connect_accounts", on_delete="RESTRICT")
    account_id = CharField(unique=True)
    details_submitted = BooleanField(default=False)
    charges_enabled = BooleanField(default=False)
    payouts_enabled = BooleanField(default=False)
    created_at = DateTimeField(default=datetime.datetime.utcnow)
    updated_at = DateTimeField(default=datetime.datetime.utcnow)

    class Meta:
        table_name = "connect_account"
        legacy_table_names = False


def upgrade(migrator, db):
    with db.bind_ctx([User, ConnectAccount]):
        db.create_tables([ConnectAccount])
    migrator.migrate(
        migrator.add_column("payout", "status", CharField(default="paid")),
        migrator.add_column("payout", "transfer_id", CharField(null=True)),
        migrator.add_column("payout", "stripe_payout_id", CharField(null=True)),
        migrator.add_column("payout", "account_id", CharField(null=True)),
        migrator.add_index("payout", ("transfer_id",), True),
        migrator.add_index("payout", ("stripe_payout_id",), True),
        migrator.drop_index("ledger_entry", "ledger_entry_payout_id"),
        migrator.add_index("ledger_entry", ("payout_id", "kind"), True),
    )
