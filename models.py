"""Peewee models of the shop, the database proxy, init_db and create_tables.

SQLite is opened in WAL mode with foreign keys on and a busy timeout, because the
web process and the consumer write the same file. PostgreSQL works through any
URL that playhouse.db_url accepts. All times are naive UTC.
"""

import datetime
import json
import re
import unicodedata

from peewee import (
    BigIntegerField,
    BooleanField,
    CharField,
    DatabaseProxy,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)
from playhouse.db_url import connect as connect_url

import config

db = DatabaseProxy()

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    # WAL with synchronous=NORMAL survives any process crash; only a power cut
    # can lose the last commits, and the queue's messages are rebuilt from rows.
    "synchronous": "normal",
    "busy_timeout": 15000,
    "cache_size": -16000,
}


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


def init_db(url=None):
    """Point the proxy at the database named by `url` (default DATABASE_URL)."""
    url = url or config.DATABASE_URL
    if url.startswith("sqlite"):
        database = connect_url(url, pragmas=SQLITE_PRAGMAS, timeout=15)
    else:
        database = connect_url(url)
    if db.obj is not None and not db.obj.is_closed():
        db.obj.close()
    db.initialize(database)
    return database


def is_sqlite():
    return type(db.obj).__name__.lower().startswith("sqlite")


class JSONField(TextField):
    """JSON text that reads back as Python values on SQLite and PostgreSQL alike."""

    def db_value(self, value):
        return None if value is None else json.dumps(value, separators=(",", ":"), sort_keys=True)

    def python_value(self, value):
        return None if value is None else json.loads(value)


class BaseModel(Model):
    class Meta:
        database = db
        legacy_table_names = False


# ---------------------------------------------------------------------------
# Accounts
# ---------------------------------------------------------------------------

ROLES = ("admin", "seller", "customer")


class User(BaseModel):
    email = CharField(unique=True)
    name = CharField()
    role = CharField(index=True)
    password_hash = CharField()
    created_at = DateTimeField(default=utcnow)

    @property
    def is_admin(self):
        return self.role == "admin"

    @property
    def is_seller(self):
        return self.role == "seller"

    @property
    def is_customer(self):
        return self.role == "customer"


class Session(BaseModel):
    """A login. The cookie carries a random token; only its SHA-256 is stored."""

    token_hash = CharField(unique=True)
    user = ForeignKeyField(User, backref="sessions", on_delete="CASCADE")
    created_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField(index=True)
    last_seen_at = DateTimeField(default=utcnow)


class LoginFailure(BaseModel):
    """One failed login, kept for a while to slow down guessing from one address."""

    ip = CharField(index=True)
    email = CharField()
    created_at = DateTimeField(default=utcnow, index=True)


# ---------------------------------------------------------------------------
# Catalog
# ---------------------------------------------------------------------------

PRODUCT_STATUSES = ("pending", "approved", "rejected")
THUMBNAIL_STATES = ("none", "processing", "ready", "failed")


def slugify(text):
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:80].strip("-") or "product"


class Product(BaseModel):
    seller = ForeignKeyField(User, backref="products", on_delete="RESTRICT")
    title = CharField()
    slug = CharField(unique=True)
    description = TextField(default="")
    price = BigIntegerField()  # integer minor units of `currency`
    currency = CharField(max_length=3)
    status = CharField(default="pending", index=True)
    rejection_reason = TextField(null=True)
    # The private product file, relative to config.UPLOADS_DIR; never served as static.
    file_path = CharField(null=True)
    file_name = CharField(null=True)
    file_size = BigIntegerField(default=0)
    file_sha256 = CharField(null=True)
    # The thumbnail original (relative to UPLOADS_DIR) and its generated widths
    # ({"160": "media/abc-160.webp", ...}, relative to MEDIA_DIR).
    thumbnail_original = CharField(null=True)
    thumbnails = JSONField(default=dict)
    thumbnail_state = CharField(default="none")
    thumbnail_error = TextField(null=True)
    download_count = IntegerField(default=0)
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)
    approved_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("status", "created_at"), False),)

    @property
    def is_approved(self):
        return self.status == "approved"

    def thumbnail_url(self, width=480):
        """The URL of the generated width nearest above `width`, or None."""
        if self.thumbnail_state != "ready" or not self.thumbnails:
            return None
        widths = sorted(int(w) for w in self.thumbnails)
        chosen = next((w for w in widths if w >= width), widths[-1])
        return "/media/" + self.thumbnails[str(chosen)]


class ProductReview(BaseModel):
    """One moderation decision; notifications are keyed by it, so each is sent once."""

    product = ForeignKeyField(Product, backref="reviews", on_delete="CASCADE")
    admin = ForeignKeyField(User, null=True, on_delete="SET NULL")
    decision = CharField()  # approved | rejected
    reason = TextField(null=True)
    created_at = DateTimeField(default=utcnow)


# ---------------------------------------------------------------------------
# Notifications and mail
# ---------------------------------------------------------------------------


class Notification(BaseModel):
    """The database channel of a notification. `key` makes delivery idempotent."""

    user = ForeignKeyField(User, backref="notifications", on_delete="CASCADE")
    type = CharField()
    key = CharField(unique=True)
    data = JSONField(default=dict)
    read_at = DateTimeField(null=True)
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("user", "read_at"), False),)


class OutboundMail(BaseModel):
    """Every email, keyed so that a job that runs twice sends it once."""

    key = CharField(unique=True)
    to = CharField()
    subject = CharField()
    message_id = CharField()
    sent_at = DateTimeField(null=True)
    attempts = IntegerField(default=0)
    last_error = TextField(null=True)
    created_at = DateTimeField(default=utcnow)


MODELS = [User, Session, LoginFailure, Product, ProductReview, Notification, OutboundMail]


def all_models():
    """Every model defined on BaseModel so far, in this module or the services'."""
    found, todo = [], list(BaseModel.__subclasses__())
    while todo:
        model = todo.pop(0)
        found.append(model)
        todo.extend(model.__subclasses__())
    return found


def create_tables():
    """Create every table that does not exist yet; safe to run again.

    Import the modules whose models should exist first (importing tasks loads all).
    """
    with db.connection_context():
        db.create_tables(all_models(), safe=True)
