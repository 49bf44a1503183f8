"""The runtime's set-up for its own tests, shared by the test process and the
consumers it starts (app.py): a database, RuntimeSettings, a cipher and a
notifier, as an application would hand them to `job_runtime.setup()`.

A consumer learns its test's set-up from two environment variables, written
by `environ()`: RUNTIME_TEST_DATABASE (a database URL) and RUNTIME_TEST_SETUP
(JSON: the RuntimeSettings fields and the cipher's key).
"""

import base64
import dataclasses
import hashlib
import json

from cryptography.fernet import Fernet, InvalidToken
from playhouse.db_url import connect as connect_url
from playhouse.pool import PooledSqliteDatabase

import job_runtime

DATABASE_VARIABLE = "RUNTIME_TEST_DATABASE"
SETUP_VARIABLE = "RUNTIME_TEST_SETUP"

SQLITE_PRAGMAS = {"journal_mode": "wal", "foreign_keys": 1, "synchronous": "normal", "busy_timeout": 15000}
# Pooled: a consumer's worker threads take any free connection, and a forked
# worker process starts with none of its parent's (the runtime empties pools after a fork).
POOL_SETTINGS = {"max_connections": 32, "stale_timeout": 600, "timeout": 30}


class SqliteDatabase(PooledSqliteDatabase):
    """SQLite whose transactions take the write lock when they begin.

    With a plain BEGIN, a transaction that reads and then writes while another
    process wrote in between fails at once with "database is locked"; BEGIN
    IMMEDIATE waits for its turn (busy_timeout) instead.
    """

    def begin(self, lock_type="IMMEDIATE"):
        return super().begin(lock_type)


def open_database(url, asynchronous_commit=False):
    """A peewee database for `url`: sqlite:///path or postgresql://..."""
    if url.startswith("sqlite:///"):
        return SqliteDatabase(url.removeprefix("sqlite:///"), pragmas=SQLITE_PRAGMAS, check_same_thread=False,
                              **POOL_SETTINGS)
    options = {"options": "-c synchronous_commit=off"} if asynchronous_commit else {}
    return connect_url("postgresql+pool://" + url.partition("://")[2], **POOL_SETTINGS, **options)


def close_all(database):
    if not database.is_closed():
        database.close()
    database.close_all()


class TestCipher:
    """Fernet with a key derived from a test secret: another secret cannot read the payloads."""

    def __init__(self, secret):
        self.secret = secret
        self._fernet = Fernet(base64.urlsafe_b64encode(hashlib.sha256(secret.encode()).digest()))

    def encrypt(self, data):
        return self._fernet.encrypt(data)

    def decrypt(self, token):
        try:
            return self._fernet.decrypt(token)
        except InvalidToken:
            raise ValueError("payload cannot be decrypted with this secret") from None


class RecordingNotifier:
    """Keeps every notice it is given; like a real notifier, it tells someone once per key.

    `fail_on` (a set of call numbers, from 1) makes those calls raise, as a mail
    server that is down would.
    """

    def __init__(self, people=1):
        self.people = people
        self.calls = []
        self.sent = {}
        self.fail_on = set()

    def __call__(self, key, subject, text):
        self.calls.append((key, subject, text))
        if len(self.calls) in self.fail_on:
            raise ConnectionError("the notice could not be sent")
        if key not in self.sent:
            self.sent[key] = (subject, text)
        return self.people

    @property
    def notices(self):
        """(subject, text) of each notice sent, oldest first."""
        return list(self.sent.values())


def settings_fields(settings):
    return dataclasses.asdict(settings)


def environ(database_url, settings, secret):
    """The environment variables that tell a consumer this set-up."""
    return {DATABASE_VARIABLE: database_url,
            SETUP_VARIABLE: json.dumps({"settings": settings_fields(settings), "secret": secret})}


def set_up_from(variables, notifier=None):
    """Set the runtime up as `variables` (see environ()) say; returns the database."""
    url = variables[DATABASE_VARIABLE]
    described = json.loads(variables[SETUP_VARIABLE])
    database = open_database(url)
    job_runtime.setup(database, job_runtime.RuntimeSettings(**described["settings"]),
                      cipher=TestCipher(described["secret"]), notifier=notifier or RecordingNotifier(),
                      open_database=lambda asynchronous_commit=False: _reopen(url, asynchronous_commit))
    return database


def _reopen(url, asynchronous_commit):
    from job_runtime import context

    old = context.database()
    database = open_database(url, asynchronous_commit=asynchronous_commit)
    context.db.initialize(database)
    close_all(old)
    return database
