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
    BooleanField,
    BigIntegerField,
    CharField,
    DatabaseProxy,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)
from playhouse.db_url import connect as connect_url
from playhouse.pool import PooledSqliteDatabase

import job_runtime
from shop import config
from shop import prepared

db = DatabaseProxy()

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    # WAL with synchronous=NORMAL survives any process crash; only a power cut
    # can lose the last commits, and the queue's messages are rebuilt from rows.
    "synchronous": "normal",
    "busy_timeout": 15000,
    # Page cache per connection, in KiB. Every pooled connection (a web or worker
    # thread each) fills its own, so this times the threads is what a process may
    # hold; the OS page cache keeps the rest of the file close at hand.
    "cache_size": -4000,
}


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


class SqliteDatabase(PooledSqliteDatabase):
    """SQLite, pooled, whose transactions take the write lock when they begin.

    A plain BEGIN takes the write lock at the first write; if another process
    wrote in between, SQLite cannot wait for its turn and fails at once with
    "database is locked". BEGIN IMMEDIATE makes a busy writer wait
    (busy_timeout) like any other.
    """

    def begin(self, lock_type="IMMEDIATE"):
        return super().begin(lock_type)


# Connections are pooled: the web app "closes" its connection after every
# request, and opening a SQLite connection again (pragmas, schema, and a WAL
# checkpoint when the last one closes) cost more than most pages; a PostgreSQL
# connection costs a round trip or three and a server process.
POOL_SETTINGS = {"max_connections": 64, "stale_timeout": 600, "timeout": 30}


def init_db(url=None, asynchronous_commit=False):
    """Point the proxy at the database named by `url` (default DATABASE_URL).

    `asynchronous_commit` (PostgreSQL only; consumers use it, see workers.py)
    lets a commit return before its WAL record reaches the disk.
    """
    url = url or config.DATABASE_URL
    if url.startswith("sqlite"):
        # A pooled connection serves one thread at a time, but not always the same one.
        database = SqliteDatabase(url.split(":///", 1)[1], pragmas=SQLITE_PRAGMAS, check_same_thread=False,
                                  **POOL_SETTINGS)
    else:
        scheme, _, rest = url.partition("://")
        options = {"options": "-c synchronous_commit=off"} if asynchronous_commit else {}
        database = connect_url(f"{scheme.split('+')[0]}+pool://{rest}", **POOL_SETTINGS, **options)
    if db.obj is not None:
        close_all(db.obj)
    db.initialize(database)
    return database


def close_all(database):
    """Close every connection of `database`, pooled ones included."""
    if not database.is_closed():
        database.close()
    database.close_all()


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

    @classmethod
    def get(cls, *query, **filters):
        # One row by one column (get_by_id and get_or_none come here too): its SQL built once.
        lookup = None if filters else prepared.single_equality(cls, query)
        if lookup is not None:
            return prepared.get(cls, *lookup)
        return super().get(*query, **filters)

    def save(self, force_insert=False, only=None):
        # A new row of the usual shape (Model.create comes here too): its INSERT built once.
        if only is None and (force_insert or self._pk is None):
            inserted = prepared.insert(self)
            if inserted is not None:
                return inserted
        return super().save(force_insert=force_insert, only=only)


# ---------------------------------------------------------------------------
# Accounts
# ---------------------------------------------------------------------------

ROLES = ("admin", "seller", "customer")
# A visitor who puts something in the cart without an account gets a guest user: the
# cart, the order and its links hang on it as on any buyer. It has no password and no
# address of its own (its email column holds a unique placeholder that is never
# mailed); the address the guest gives at checkout is the order's guest_email.
GUEST_ROLE = "guest"


class User(BaseModel):
    email = CharField(unique=True)
    name = CharField()
    role = CharField(index=True)
    password_hash = CharField()
    created_at = DateTimeField(default=utcnow)
    # When the owner proved the address is theirs (the link of shop/accounts/verification.py);
    # None until then. An unverified seller cannot submit products for review.
    email_verified_at = DateTimeField(null=True)
    # A seller's own legal details, printed on invoices the shop issues on their behalf
    # (INVOICE_ISSUER=seller); empty where the shop sells in its own name.
    legal_name = CharField(null=True)
    legal_address = TextField(null=True)
    tax_number = CharField(null=True)

    @property
    def is_admin(self):
        return self.role == "admin"

    @property
    def email_verified(self):
        return self.email_verified_at is not None

    @property
    def is_seller(self):
        return self.role == "seller"

    @property
    def is_customer(self):
        return self.role == "customer"

    @property
    def is_guest(self):
        return self.role == GUEST_ROLE

    @property
    def storefront_path(self):
        """The seller's public page. The id makes it unique and lasting: after a change of name the
        old address still finds the seller (and is redirected to the new one)."""
        return f"/sellers/{slugify(self.name)}-{self.id}"


class Session(BaseModel):
    """A login. The cookie carries a random token; only its SHA-256 is stored."""

    token_hash = CharField(unique=True)
    user = ForeignKeyField(User, backref="sessions", on_delete="CASCADE")
    created_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField(index=True)
    last_seen_at = DateTimeField(default=utcnow)


class PasswordReset(BaseModel):
    """A password reset link sent by email: single-use, expiring, only the token's SHA-256 stored.

    `used_at` is set by one conditional UPDATE when the link is used, so two uses
    at once cannot both change the password (shop/accounts/password_reset.py).
    """

    token_hash = CharField(unique=True)
    user = ForeignKeyField(User, backref="password_resets", on_delete="CASCADE")
    created_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField(index=True)
    used_at = DateTimeField(null=True)


class LoginAttempt(BaseModel):
    """The login attempts of one address, or of one account, in the current window.

    Counted before the password is checked, by one INSERT ... ON CONFLICT, so that
    attempts sent at once cannot all pass the check before any is counted
    (shop/accounts/users.py). `key` is "address:<ip>" or "account:<digest of the email>".
    """

    key = CharField(unique=True)
    attempts = IntegerField()
    window_started_at = DateTimeField(index=True)


# ---------------------------------------------------------------------------
# Catalog
# ---------------------------------------------------------------------------

PRODUCT_STATUSES = ("pending", "approved", "rejected")
THUMBNAIL_STATES = ("none", "processing", "ready", "failed")


def slugify(text):
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:80].strip("-") or "product"


class Category(BaseModel):
    """A shelf of the catalog, set up by the owner; a product is on one shelf or none."""

    name = CharField(unique=True)
    slug = CharField(unique=True)
    created_at = DateTimeField(default=utcnow)


class Tag(BaseModel):
    """A word a seller puts on their products; shared by every product that carries it."""

    name = CharField()
    slug = CharField(unique=True)


class Product(BaseModel):
    seller = ForeignKeyField(User, backref="products", on_delete="RESTRICT")
    # Removing a shelf leaves its products on sale, on no shelf.
    category = ForeignKeyField(Category, null=True, backref="products", on_delete="SET NULL")
    title = CharField()
    slug = CharField(unique=True)
    description = TextField(default="")
    price = BigIntegerField()  # integer minor units of `currency`
    currency = CharField(max_length=3)
    status = CharField(default="pending", index=True)
    rejection_reason = TextField(null=True)
    # The private product file, relative to the storage's products/ area (config.UPLOADS_DIR
    # on the local disk); never served as static.
    file_path = CharField(null=True)
    file_name = CharField(null=True)
    file_size = BigIntegerField(default=0)
    file_sha256 = CharField(null=True)
    # The thumbnail original (relative to products/) and its generated widths
    # ({"160": "ab/abc-160.webp", ...}, relative to media/, MEDIA_DIR on the local disk).
    thumbnail_original = CharField(null=True)
    thumbnails = JSONField(default=dict)
    thumbnail_state = CharField(default="none")
    thumbnail_error = TextField(null=True)
    download_count = IntegerField(default=0)
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)
    approved_at = DateTimeField(null=True)
    # Pay what you want: None sells at `price`; a number (zero allowed) is the least the
    # customer may name, and `price` is then the suggested price (shop/selling/pricing.py).
    min_price = BigIntegerField(null=True)
    # License keys: None issues none; a number issues a key per item sold, activated on at
    # most this many instances, valid for license_days after the sale (None: for ever).
    license_activations = IntegerField(null=True)
    license_days = IntegerField(null=True)
    # The seller asks for each buyer's copy of its PDFs to carry the buyer's name and email
    # on every page (shop/orders/stamping.py). Nullable: None is no, as False.
    stamp_pdfs = BooleanField(null=True, default=False)

    class Meta:
        # The catalog's orders (newest, price, best-selling: download_count counts the sales),
        # and a shelf's newest: a first page reads 12 index entries instead of sorting every
        # approved product on each request.
        indexes = ((("status", "approved_at", "id"), False), (("status", "price", "id"), False),
                   (("status", "download_count", "id"), False),
                   (("category", "status", "approved_at", "id"), False))

    @property
    def is_approved(self):
        return self.status == "approved"

    @property
    def pay_what_you_want(self):
        return self.min_price is not None

    @property
    def issues_licenses(self):
        return self.license_activations is not None

    def thumbnail_url(self, width=480):
        """The URL of the generated width nearest above `width`, or None."""
        if self.thumbnail_state != "ready" or not self.thumbnails:
            return None
        widths = sorted(int(w) for w in self.thumbnails)
        chosen = next((w for w in widths if w >= width), widths[-1])
        # /media on this site, or the bucket's public URL or CDN (MEDIA_URL).
        return f"{config.MEDIA_URL}/{self.thumbnails[str(chosen)]}"


class ProductFile(BaseModel):
    """One of the files a product sells, in the seller's order; a buyer downloads each, or all
    as one ZIP. The file at position 0 is also in Product.file_path/file_name/file_size/
    file_sha256 (kept in step by shop/catalog/products.py), which every download link made
    before products had several files serves, and which are dropped one release later.
    """

    product = ForeignKeyField(Product, backref="files", on_delete="CASCADE")
    position = IntegerField()
    name = CharField()
    path = CharField()  # relative to config.UPLOADS_DIR; never served as static
    size = BigIntegerField(default=0)
    sha256 = CharField(null=True)
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("product", "position"), True),)


class ProductPreview(BaseModel):
    """What a customer may see of a product before buying: an image the seller uploads, or
    the first page of the product's PDF (kind "pdf_page"), both made into WebP sizes by the
    preview job as thumbnails are (shop/catalog/previews.py)."""

    product = ForeignKeyField(Product, backref="previews", on_delete="CASCADE")
    kind = CharField()  # image | pdf_page
    source = CharField()  # private, in the storage's products/ area
    images = JSONField(default=dict)
    state = CharField(default="processing")
    error = TextField(null=True)
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("product", "kind"), False),)

    def url(self, width=480):
        if self.state != "ready" or not self.images:
            return None
        widths = sorted(int(w) for w in self.images)
        chosen = next((w for w in widths if w >= width), widths[-1])
        return "/media/" + self.images[str(chosen)]


class SellerProfile(BaseModel):
    """What a seller's storefront shows besides their name and products: a bio and an avatar.

    The avatar original is private (under UPLOADS_DIR) until the avatar job has made its
    clean WebP sizes under MEDIA_DIR, as product thumbnails are (shop/catalog/storefronts.py).
    """

    seller = ForeignKeyField(User, unique=True, backref="seller_profiles", on_delete="CASCADE")
    bio = TextField(default="")
    avatar_original = CharField(null=True)
    avatars = JSONField(default=dict)
    avatar_state = CharField(default="none")
    avatar_error = TextField(null=True)
    updated_at = DateTimeField(default=utcnow)

    def avatar_url(self, width=160):
        if self.avatar_state != "ready" or not self.avatars:
            return None
        widths = sorted(int(w) for w in self.avatars)
        chosen = next((w for w in widths if w >= width), widths[-1])
        return "/media/" + self.avatars[str(chosen)]


class ProductTag(BaseModel):
    product = ForeignKeyField(Product, backref="product_tags", on_delete="CASCADE")
    tag = ForeignKeyField(Tag, backref="product_tags", on_delete="CASCADE")

    class Meta:
        # (tag, product): a tag's page finds its products from the index alone.
        indexes = ((("product", "tag"), True), (("tag", "product"), False))


class ProductSearch(BaseModel):
    """A product on sale as full-text search reads it (shop/catalog/search.py), one row per
    approved product and none for any other.

    The columns hold words already folded (no accents, lower case, punctuation as spaces),
    so SQLite and PostgreSQL split them into the same words and answer a search alike.
    The databases' own indexes follow this table, made by the catalog_search migration:
    on SQLite the FTS5 table product_search_fts (kept in step by triggers on this table),
    on PostgreSQL the generated tsvector column `document` with its GIN index.
    """

    product = ForeignKeyField(Product, primary_key=True, backref="search_rows", on_delete="CASCADE")
    title = TextField(default="")
    tags = TextField(default="")
    seller = TextField(default="")
    body = TextField(default="")


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


# ---------------------------------------------------------------------------
# Orders and payments
# ---------------------------------------------------------------------------

ORDER_STATUSES = ("pending", "paid", "failed", "expired", "refunded")
GATEWAYS = ("stripe", "paytm", "test")


class CartItem(BaseModel):
    """A product in a customer's cart. Kept in the database, so it survives logging out."""

    user = ForeignKeyField(User, backref="cart_items", on_delete="CASCADE")
    product = ForeignKeyField(Product, on_delete="CASCADE")
    added_at = DateTimeField(default=utcnow)
    # The price the customer named for a pay-what-you-want product (None: the product's price).
    chosen_price = BigIntegerField(null=True)

    class Meta:
        indexes = ((("user", "product"), True),)


class Order(BaseModel):
    """One checkout: what the buyer agreed to pay, and where the payment stands."""

    # Shown to people and sent to the gateways as their order id ("MP-7F3A9C21D4").
    reference = CharField(unique=True)
    buyer = ForeignKeyField(User, backref="orders", on_delete="RESTRICT")
    status = CharField(default="pending", index=True)
    gateway = CharField()
    # Stripe: the Checkout Session id. Paytm: the transaction token. Test: the simulated payment id.
    gateway_ref = CharField(null=True, index=True)
    # The payment itself once known: Stripe's PaymentIntent id, Paytm's TXNID.
    payment_ref = CharField(null=True, index=True)
    # Stripe's hosted page, so a second click on "Pay" goes to the same session.
    checkout_url = TextField(null=True)
    total = BigIntegerField()  # integer minor units of `currency`
    currency = CharField(max_length=3)
    # Set while the order is pending, so that a double click finds this order
    # instead of creating a second one; cleared when the order leaves pending.
    checkout_key = CharField(null=True, unique=True)
    status_reason = TextField(null=True)
    created_at = DateTimeField(default=utcnow, index=True)
    updated_at = DateTimeField(default=utcnow)
    paid_at = DateTimeField(null=True)
    refunded_at = DateTimeField(null=True)
    # A guest's order: the address its receipt, links and invoice go to, and by which
    # it joins the account that later verifies this address (shop/accounts/guests.py).
    guest_email = CharField(null=True, index=True)
    # What a discount code took off the list prices (None: no code); `total` is after it.
    discount = BigIntegerField(null=True)
    # Who was billed and how they were taxed (shop/tax/checkout.py). An order made before
    # tax was charged has none of these: its total is its net and gross, with no tax.
    tax_country = CharField(null=True)         # the country the buyer gave, whose rate applies
    buyer_business_name = CharField(null=True)
    buyer_address = TextField(null=True)
    buyer_tax_number = CharField(null=True)    # a VAT/GST number, as given (normalised)
    # The evidence of the buyer's country tax rules ask for, as JSON: the country given,
    # the billing address's and the VAT number's, and the card's as the gateway reports it.
    tax_evidence = TextField(null=True)
    tax_treatment = CharField(null=True)       # standard | reverse_charge | not_taxed | stripe
    tax_rate = CharField(null=True)            # the percent charged, as a decimal string ("19")
    net_total = BigIntegerField(null=True)
    tax_total = BigIntegerField(null=True)

    @property
    def is_settled(self):
        """Paid once, whatever happened since (an invoice exists for it)."""
        return self.paid_at is not None


class OrderItem(BaseModel):
    """A product of an order, with its price and seller as they were at checkout."""

    order = ForeignKeyField(Order, backref="items", on_delete="CASCADE")
    product = ForeignKeyField(Product, on_delete="RESTRICT")
    seller = ForeignKeyField(User, on_delete="RESTRICT")
    title = CharField()
    # What the customer paid for the item, tax included: the sellers' shares, the commission, the
    # gateway's line and the invoice all follow it. list_price - discount == price when they are set
    # and the price includes the tax (PRICES_INCLUDE_TAX); otherwise the tax is added on top of it.
    price = BigIntegerField()
    currency = CharField(max_length=3)
    # The price before a discount code (the named price of a pay-what-you-want product),
    # and the code's share of it; None on orders made before discount codes existed.
    list_price = BigIntegerField(null=True)
    discount = BigIntegerField(null=True)
    # price = net + tax (shop/tax/calculation.py); None on an order made before tax was charged.
    net = BigIntegerField(null=True)
    tax = BigIntegerField(null=True)

    class Meta:
        indexes = ((("order", "product"), True),)

    @property
    def price_before_discount(self):
        return self.price if self.list_price is None else self.list_price

    @property
    def net_amount(self):
        return self.price if self.net is None else self.net

    @property
    def tax_amount(self):
        return self.tax or 0


class StampedFile(BaseModel):
    """A buyer's own copy of a PDF of their purchase, stamped with their name and email; made
    once by the job stamp_purchased_pdf and served by the same download links."""

    order_item = ForeignKeyField(OrderItem, backref="stamped_files", on_delete="CASCADE")
    product_file = ForeignKeyField(ProductFile, backref="stamped_files", on_delete="CASCADE")
    path = CharField()  # in the products/ area of the storage, like the product files
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("order_item", "product_file"), True),)


class ProductUpdate(BaseModel):
    """A seller's news of a product (a new version, a fix) for everyone who bought it.

    Mailed by a batch of jobs (shop/catalog/updates.py) once the product is on sale: at once
    if it is, else when moderation approves it. `batch_id` is set once, by the job that
    starts the batch, so a retried start makes no second batch."""

    product = ForeignKeyField(Product, backref="updates", on_delete="CASCADE")
    message = TextField()
    created_at = DateTimeField(default=utcnow)
    batch_id = CharField(null=True, unique=True)
    recipients = IntegerField(default=0)


class UpdateDelivery(BaseModel):
    """One buyer's copy of an update, unique per update and buyer: each buyer hears once."""

    product_update = ForeignKeyField(ProductUpdate, backref="deliveries", on_delete="CASCADE")
    buyer = ForeignKeyField(User, on_delete="CASCADE")
    delivered_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("product_update", "buyer"), True),)


class WebhookEvent(BaseModel):
    """A verified gateway notification, stored once: a redelivery finds it and starts nothing."""

    gateway = CharField()
    event_id = CharField()
    event_type = CharField()
    payload = TextField()  # the raw body whose signature was verified
    order = ForeignKeyField(Order, null=True, backref="events", on_delete="SET NULL")
    received_at = DateTimeField(default=utcnow, index=True)
    processed_at = DateTimeField(null=True)
    outcome = TextField(null=True)

    class Meta:
        indexes = ((("gateway", "event_id"), True),)


class TransactionItem(BaseModel):
    """A sale made: one per paid order item, with the platform's and the seller's shares."""

    order = ForeignKeyField(Order, backref="transaction_items", on_delete="RESTRICT")
    order_item = ForeignKeyField(OrderItem, unique=True, on_delete="RESTRICT")
    product = ForeignKeyField(Product, on_delete="RESTRICT")
    seller = ForeignKeyField(User, on_delete="RESTRICT")
    buyer = ForeignKeyField(User, on_delete="RESTRICT")
    amount = BigIntegerField()
    platform_fee = BigIntegerField()
    seller_amount = BigIntegerField()
    currency = CharField(max_length=3)
    created_at = DateTimeField(default=utcnow)


# payout_returned credits back a Stripe payout that failed or whose transfer was reversed.
LEDGER_KINDS = ("sale", "refund", "payout", "payout_returned")

# A payout's way through Stripe: written with its debit before any call ("sending"), its
# transfer recorded ("transferred"), in the seller's bank ("paid"), or its money back in the
# seller's balance ("returned"). A manual payout is paid when it is recorded.
PAYOUT_STATUSES = ("sending", "transferred", "paid", "returned")


class Payout(BaseModel):
    """Money paid to a seller, booked as one ledger debit (LedgerEntry.payout).

    A manual payout was made outside the shop (a bank transfer, PayPal) and is
    recorded with its reference. request_key is the key of the form that
    recorded it, unique, so the admin's double-click records one payout.

    A Stripe payout (method "stripe") is written by the payout schedule with a
    key of its own; its transfer to the seller's connected account and the
    bank payout on that account carry idempotency keys derived from its id.
    """

    seller = ForeignKeyField(User, backref="payouts", on_delete="RESTRICT")
    amount = BigIntegerField()  # positive: what the seller received
    currency = CharField(max_length=3)
    method = CharField()        # "bank", "paypal", "other" or "stripe"
    reference = CharField()
    request_key = CharField(unique=True)
    recorded_by = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="payouts_recorded")
    created_at = DateTimeField(default=utcnow, index=True)
    status = CharField(default="paid")  # PAYOUT_STATUSES
    transfer_id = CharField(null=True, unique=True)      # Stripe's transfer to the connected account
    stripe_payout_id = CharField(null=True, unique=True)  # the bank payout on the connected account
    account_id = CharField(null=True)  # the connected account it was sent to


class ConnectAccount(BaseModel):
    """A seller's Stripe Express account, created once, and what Stripe last told us of it."""

    seller = ForeignKeyField(User, unique=True, backref="connect_accounts", on_delete="RESTRICT")
    account_id = CharField(unique=True)
    details_submitted = BooleanField(default=False)
    charges_enabled = BooleanField(default=False)
    payouts_enabled = BooleanField(default=False)
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)


class LedgerEntry(BaseModel):
    """One movement of a seller's money. A balance is their sum; no entry is ever changed.

    A sale credits the seller's share; a refund adds a reversing entry with the
    opposite signs. Unique per order item and kind, so no job can book twice.
    A payout debits what was paid and has no order; a Stripe payout that failed
    credits it back once (kind payout_returned). Unique per payout and kind.
    """

    seller = ForeignKeyField(User, backref="ledger_entries", on_delete="RESTRICT")
    order = ForeignKeyField(Order, null=True, on_delete="RESTRICT")
    order_item = ForeignKeyField(OrderItem, null=True, on_delete="RESTRICT")
    # Found through the unique (payout, kind) index, which starts with it.
    payout = ForeignKeyField(Payout, null=True, index=False, on_delete="RESTRICT")
    kind = CharField()
    gross = BigIntegerField()   # what the customer paid for the item (negative on a refund)
    fee = BigIntegerField()     # the platform's commission on the net (negative on a refund)
    amount = BigIntegerField()  # the seller's money: gross - tax - fee
    # The tax in gross, which the shop owes the tax authority; None (none) before tax was charged.
    tax = BigIntegerField(null=True)
    currency = CharField(max_length=3)
    created_at = DateTimeField(default=utcnow, index=True)

    class Meta:
        indexes = ((("order_item", "kind"), True), (("payout", "kind"), True), (("seller", "created_at"), False))


class LedgerTotal(BaseModel):
    """The sums of a seller's ledger entries of one currency and kind, every entry up to
    LedgerClose.through_id (shop/orders/ledger_totals.py). Entries never change, so these
    sums never go stale: a balance is them plus the entries after the mark."""

    seller = ForeignKeyField(User, index=False, on_delete="RESTRICT")  # first in the unique index
    currency = CharField(max_length=3)
    kind = CharField()
    entries = IntegerField(default=0)
    gross = BigIntegerField(default=0)
    fee = BigIntegerField(default=0)
    amount = BigIntegerField(default=0)

    class Meta:
        indexes = ((("seller", "currency", "kind"), True),)


class LedgerClose(BaseModel):
    """One row: the id of the last ledger entry summed into LedgerTotal."""

    through_id = BigIntegerField(default=0)


class DownloadLink(BaseModel):
    """The right to download one purchased item a limited number of times before it expires.

    The token in the URL is an HMAC of `nonce` under a key derived from APP_SECRET;
    only its SHA-256 is looked up, so the database alone cannot produce a link.
    """

    order_item = ForeignKeyField(OrderItem, unique=True, on_delete="CASCADE")
    buyer = ForeignKeyField(User, on_delete="CASCADE")
    product = ForeignKeyField(Product, on_delete="RESTRICT")
    nonce = CharField()
    token_hash = CharField(unique=True)
    expires_at = DateTimeField()
    max_downloads = IntegerField()
    download_count = IntegerField(default=0)
    revoked_at = DateTimeField(null=True)
    last_downloaded_at = DateTimeField(null=True)
    created_at = DateTimeField(default=utcnow)


class DownloadRenewal(BaseModel):
    """One renewal of a download link from the customer's library: the link got a fresh
    token, expiry and count. The rows are the log, and counting a customer's rows of the
    last day is the daily cap (shop/orders/renewals.py)."""

    link = ForeignKeyField(DownloadLink, backref="renewals", on_delete="CASCADE")
    buyer = ForeignKeyField(User, on_delete="CASCADE")
    previous_expires_at = DateTimeField()
    previous_download_count = IntegerField()
    created_at = DateTimeField(default=utcnow, index=True)


class Invoice(BaseModel):
    """An order's invoice, given once; the PDF lives under INVOICES_DIR and is never redrawn.

    Numbered without gaps within its year (INV-2026-000001). An invoice issued before the
    yearly series has no year and keeps the number of the shop's one old series (INV-000001).
    """

    order = ForeignKeyField(Order, unique=True, backref="invoices", on_delete="RESTRICT")
    number = IntegerField()
    issued_at = DateTimeField(default=utcnow)
    pdf_path = CharField(null=True)  # relative to the storage's invoices/ area (config.INVOICES_DIR on disk)
    pdf_size = IntegerField(default=0)
    generated_at = DateTimeField(null=True)
    year = IntegerField(null=True)
    # The issuer's legal details as they were when the number was given (JSON), so that a
    # later change of the settings never changes what an issued invoice says.
    issuer = TextField(null=True)
    # Everything the PDF shows, as the order, its buyer and sellers stood when the number was
    # given (JSON), so a PDF drawn later (on the first download, or again) says what was issued.
    document = TextField(null=True)

    class Meta:
        indexes = ((("year", "number"), True),)

    @property
    def label(self):
        return f"INV-{self.number:06d}" if self.year is None else f"INV-{self.year}-{self.number:06d}"


class Refund(BaseModel):
    """A refund the admin asked the gateway for; the gateway's notification completes it."""

    order = ForeignKeyField(Order, unique=True, backref="refunds", on_delete="RESTRICT")
    gateway = CharField()
    status = CharField(default="requested")  # requested | succeeded | failed
    gateway_ref = CharField(null=True)  # Stripe's refund id, Paytm's REFID
    amount = BigIntegerField()
    currency = CharField(max_length=3)
    requested_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    error = TextField(null=True)
    created_at = DateTimeField(default=utcnow)
    completed_at = DateTimeField(null=True)


class CreditNote(BaseModel):
    """A refund's document: it cancels its invoice in full or in part. Numbered without gaps
    within its year in a series of its own (CN-2026-000001); immutable like an invoice.

    `key` says what it credits (a refund, or the items of a partial refund), so asking
    twice issues one. Amounts are positive: what is credited back.
    """

    order = ForeignKeyField(Order, backref="credit_notes", on_delete="RESTRICT")
    invoice = ForeignKeyField(Invoice, backref="credit_notes", on_delete="RESTRICT")
    key = CharField(unique=True)
    year = IntegerField()
    number = IntegerField()
    issued_at = DateTimeField(default=utcnow)
    reason = TextField(null=True)
    lines = TextField()  # JSON: [{"order_item": id, "title", "net", "tax", "gross"}]
    net = BigIntegerField()
    tax = BigIntegerField()
    gross = BigIntegerField()
    currency = CharField(max_length=3)
    pdf_path = CharField(null=True)
    pdf_size = IntegerField(default=0)
    generated_at = DateTimeField(null=True)
    # Everything the PDF shows, as it stood when the number was given (JSON), like an invoice's.
    document = TextField(null=True)

    class Meta:
        indexes = ((("year", "number"), True),)

    @property
    def label(self):
        return f"CN-{self.year}-{self.number:06d}"


class SimulatedPayment(BaseModel):
    """The test-mode gateway's own record of a payment: what process_webhook verifies against."""

    order = ForeignKeyField(Order, unique=True, on_delete="CASCADE")
    status = CharField()  # succeeded | failed | refunded
    amount = BigIntegerField()
    currency = CharField(max_length=3)
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)


# ---------------------------------------------------------------------------
# The JSON API and outgoing webhooks
# ---------------------------------------------------------------------------

API_SCOPES = ("read", "write")


class PersonalAccessToken(BaseModel):
    """A seller's or an admin's key to /api/v1: shown once when made, only its SHA-256 kept.

    `prefix` is the token's first characters, so the account page can tell tokens
    apart without holding any of them. `scopes` is "read" or "read write".
    """

    user = ForeignKeyField(User, backref="api_tokens", on_delete="CASCADE")
    name = CharField()
    prefix = CharField()
    token_hash = CharField(unique=True)
    scopes = CharField()
    created_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField()
    last_used_at = DateTimeField(null=True)
    revoked_at = DateTimeField(null=True)

    @property
    def scope_list(self):
        return self.scopes.split()


class ApiRateWindow(BaseModel):
    """The requests of one token in the current minute, counted by one INSERT ... ON CONFLICT
    (shop/api/rate_limit.py), so that requests sent at once are all counted."""

    key = CharField(unique=True)
    requests = IntegerField()
    window_started_at = DateTimeField(index=True)


class WebhookEndpoint(BaseModel):
    """A URL of a seller (their events) or an admin (every event of the shop) that the shop
    POSTs signed events to. The signing secret is derived from APP_SECRET and `nonce`
    (shop/webhooks_out/signing.py), so the database alone cannot sign."""

    owner = ForeignKeyField(User, backref="webhook_endpoints", on_delete="CASCADE")
    url = TextField()
    events = JSONField(default=list)
    nonce = CharField()
    created_at = DateTimeField(default=utcnow)
    # Set at the first failed attempt after a success, cleared by the next success: an
    # endpoint failing since longer than WEBHOOK_DISABLE_AFTER_DAYS is disabled.
    failing_since = DateTimeField(null=True)
    disabled_at = DateTimeField(null=True)
    disabled_reason = TextField(null=True)


class OutgoingEvent(BaseModel):
    """Something that happened, as told to one audience (one seller, or the shop's admins
    when `audience` is None): stored once under `key`, its body fixed, so that every
    delivery and every retry sends the same event id and the same bytes."""

    event_id = CharField(unique=True)
    key = CharField(unique=True)
    type = CharField(index=True)
    audience = ForeignKeyField(User, null=True, on_delete="CASCADE")
    body = TextField()
    created_at = DateTimeField(default=utcnow, index=True)


class WebhookDelivery(BaseModel):
    """One event to one endpoint, delivered by one job with its retries. `request_key` is
    unique: the event's first delivery, or a "send again" of the endpoint page."""

    event = ForeignKeyField(OutgoingEvent, backref="deliveries", on_delete="CASCADE")
    endpoint = ForeignKeyField(WebhookEndpoint, backref="deliveries", on_delete="CASCADE")
    request_key = CharField(unique=True)
    created_at = DateTimeField(default=utcnow, index=True)
    delivered_at = DateTimeField(null=True)
    gave_up_at = DateTimeField(null=True)


class WebhookAttempt(BaseModel):
    """One POST of a delivery: what the receiver answered and how long it took."""

    delivery = ForeignKeyField(WebhookDelivery, backref="attempts", on_delete="CASCADE")
    started_at = DateTimeField(default=utcnow)
    duration_ms = IntegerField(default=0)
    status_code = IntegerField(null=True)
    error = TextField(null=True)


# ---------------------------------------------------------------------------
# Selling tools: discount codes and license keys
# ---------------------------------------------------------------------------

DISCOUNT_KINDS = ("percent", "fixed")


class DiscountCode(BaseModel):
    """A code a customer enters in the cart: a seller's for their own products, or the shop
    owner's (seller None) for every product.

    used_count is the uses reserved so far; it only moves by conditional UPDATEs, so that
    customers redeeming the last use at once get exactly one (shop/selling/discounts.py).
    """

    code = CharField(unique=True)  # stored upper-case; customers type it in any case
    seller = ForeignKeyField(User, null=True, backref="discount_codes", on_delete="CASCADE")
    created_by = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="discount_codes_created")
    kind = CharField()         # percent | fixed
    amount = BigIntegerField()  # percent: 1 to 100; fixed: minor units of `currency`
    currency = CharField(max_length=3, null=True)  # a fixed amount's and a minimum order's
    all_products = IntegerField(default=1)  # 0: only the products of discount_code_product
    starts_at = DateTimeField(null=True)
    ends_at = DateTimeField(null=True)
    max_uses = IntegerField(null=True)
    max_uses_per_customer = IntegerField(null=True)
    min_order = BigIntegerField(null=True)  # minor units of `currency`, of the order's list prices
    used_count = IntegerField(default=0)
    disabled_at = DateTimeField(null=True)
    created_at = DateTimeField(default=utcnow)


class DiscountCodeProduct(BaseModel):
    """A product a code applies to, when it applies to chosen products only."""

    discount_code = ForeignKeyField(DiscountCode, backref="product_links", on_delete="CASCADE")
    product = ForeignKeyField(Product, on_delete="CASCADE")

    class Meta:
        indexes = ((("discount_code", "product"), True),)


class DiscountRedemption(BaseModel):
    """One use of a code, reserved when the order is made (one per order). A payment that
    fails, expires or is cancelled releases it, and its use goes back to the code."""

    discount_code = ForeignKeyField(DiscountCode, backref="redemptions", on_delete="RESTRICT")
    order = ForeignKeyField(Order, unique=True, backref="redemptions", on_delete="CASCADE")
    buyer = ForeignKeyField(User, on_delete="CASCADE")
    amount = BigIntegerField()
    currency = CharField(max_length=3)
    created_at = DateTimeField(default=utcnow)
    released_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("discount_code", "buyer"), False),)


class LicenseKey(BaseModel):
    """A license key of one item sold, for the seller's software to check (shop/selling/licenses.py).

    issue_key makes issuing idempotent: "item:<order item id>" for the key of the sale,
    "replaces:<key id>" for a replacement the seller issued. activation_count moves only
    by conditional UPDATEs, so activations at once never pass activation_limit.
    """

    key = CharField(unique=True)
    issue_key = CharField(unique=True)
    order_item = ForeignKeyField(OrderItem, backref="license_keys", on_delete="CASCADE")
    product = ForeignKeyField(Product, on_delete="RESTRICT")
    seller = ForeignKeyField(User, on_delete="RESTRICT", backref="licenses_sold")
    buyer = ForeignKeyField(User, on_delete="CASCADE", backref="license_keys")
    activation_limit = IntegerField()
    activation_count = IntegerField(default=0)
    expires_at = DateTimeField(null=True)
    disabled_at = DateTimeField(null=True)
    disabled_reason = CharField(null=True)  # refunded | seller | replaced | account_deleted
    created_at = DateTimeField(default=utcnow)


class LicenseActivation(BaseModel):
    """One instance of the software that activated a key; deactivating deletes it."""

    license = ForeignKeyField(LicenseKey, backref="activations", on_delete="CASCADE")
    instance_id = CharField(unique=True)
    name = CharField()
    created_at = DateTimeField(default=utcnow)
    last_validated_at = DateTimeField(null=True)


def all_models():
    """Every table of the shop and of its job runtime (and any defined on BaseModel elsewhere)."""
    found, todo = list(job_runtime.MODELS), list(BaseModel.__subclasses__())
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
