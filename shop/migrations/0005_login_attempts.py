"""Login attempts counted per address and per account, in one row each (login_attempt).

The login throttle counted failures as rows of login_failure, one per failed
password, and read their number before checking the next password: attempts
sent at once all passed the check before any was counted. Its replacement keeps
one counter per address and per account, raised by one INSERT ... ON CONFLICT
before the password is checked.

login_failure is no longer used; it stays for a web process of the previous
release still running during the upgrade, and a later release drops it.
"""

from peewee import CharField, DateTimeField, IntegerField, Model


class LoginAttempt(Model):
    key = CharField(unique=True)
    attempts = IntegerField()
    window_started_at = DateTimeField(index=True)

    class Meta:
        table_name = "login_attempt"
        legacy_table_names = False


def upgrade(migrator, db):
    with db.bind_ctx([LoginAttempt]):
        db.create_tables([LoginAttempt])
