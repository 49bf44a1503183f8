"""The baseline: every table of the shop and of its job runtime, as release 0.1.0 made them.

A shop created by that release (its tables made by create_tables, no version
recorded) is taken to be at this version by `marketplace migrate`, which
records it without running it; a new shop gets its tables from here.

The tables are frozen copies, not the models of models.py: those change with
every release, and this migration must make the same tables forever. Only what
reaches the schema is kept (columns, types, NULL, keys, indexes, ON DELETE);
the models' defaults are set by peewee in Python, never by the database, so
they are left out. JSON columns are TEXT, as JSONField stores them.
"""

from peewee import (
    BigIntegerField,
    BooleanField,
    CharField,
    DateTimeField,
    FloatField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)


class Table(Model):
    class Meta:
        legacy_table_names = False


# ---------------------------------------------------------------------------
# The shop
# ---------------------------------------------------------------------------

class User(Table):
    email = CharField(unique=True)
    name = CharField()
    role = CharField(index=True)
    password_hash = CharField()
    created_at = DateTimeField()

    class Meta:
        table_name = 'user'


class Session(Table):
    token_hash = CharField(unique=True)
    user = ForeignKeyField(User, on_delete='CASCADE')
    created_at = DateTimeField()
    expires_at = DateTimeField(index=True)
    last_seen_at = DateTimeField()

    class Meta:
        table_name = 'session'


class LoginFailure(Table):
    ip = CharField(index=True)
    email = CharField()
    created_at = DateTimeField(index=True)

    class Meta:
        table_name = 'login_failure'


class Product(Table):
    seller = ForeignKeyField(User, on_delete='RESTRICT')
    title = CharField()
    slug = CharField(unique=True)
    description = TextField()
    price = BigIntegerField()
    currency = CharField(max_length=3)
    status = CharField(index=True)
    rejection_reason = TextField(null=True)
    file_path = CharField(null=True)
    file_name = CharField(null=True)
    file_size = BigIntegerField()
    file_sha256 = CharField(null=True)
    thumbnail_original = CharField(null=True)
    thumbnails = TextField()
    thumbnail_state = CharField()
    thumbnail_error = TextField(null=True)
    download_count = IntegerField()
    created_at = DateTimeField()
    updated_at = DateTimeField()
    approved_at = DateTimeField(null=True)

    class Meta:
        table_name = 'product'
        indexes = ((('status', 'approved_at', 'id'), False),)


class ProductReview(Table):
    product = ForeignKeyField(Product, on_delete='CASCADE')
    admin = ForeignKeyField(User, null=True, on_delete='SET NULL')
    decision = CharField()
    reason = TextField(null=True)
    created_at = DateTimeField()

    class Meta:
        table_name = 'product_review'


class Notification(Table):
    user = ForeignKeyField(User, on_delete='CASCADE')
    type = CharField()
    key = CharField(unique=True)
    data = TextField()
    read_at = DateTimeField(null=True)
    created_at = DateTimeField()

    class Meta:
        table_name = 'notification'
        indexes = ((('user', 'read_at'), False),)


class OutboundMail(Table):
    key = CharField(unique=True)
    to = CharField()
    subject = CharField()
    message_id = CharField()
    sent_at = DateTimeField(null=True)
    attempts = IntegerField()
    last_error = TextField(null=True)
    created_at = DateTimeField()

    class Meta:
        table_name = 'outbound_mail'


class CartItem(Table):
    user = ForeignKeyField(User, on_delete='CASCADE')
    product = ForeignKeyField(Product, on_delete='CASCADE')
    added_at = DateTimeField()

    class Meta:
        table_name = 'cart_item'
        indexes = ((('user', 'product'), True),)


class Order(Table):
    reference = CharField(unique=True)
    buyer = ForeignKeyField(User, on_delete='RESTRICT')
    status = CharField(index=True)
    gateway = CharField()
    gateway_ref = CharField(index=True, null=True)
    payment_ref = CharField(index=True, null=True)
    checkout_url = TextField(null=True)
    total = BigIntegerField()
    currency = CharField(max_length=3)
    checkout_key = CharField(unique=True, null=True)
    status_reason = TextField(null=True)
    created_at = DateTimeField(index=True)
    updated_at = DateTimeField()
    paid_at = DateTimeField(null=True)
    refunded_at = DateTimeField(null=True)

    class Meta:
        table_name = 'order'


class OrderItem(Table):
    order = ForeignKeyField(Order, on_delete='CASCADE')
    product = ForeignKeyField(Product, on_delete='RESTRICT')
    seller = ForeignKeyField(User, on_delete='RESTRICT')
    title = CharField()
    price = BigIntegerField()
    currency = CharField(max_length=3)

    class Meta:
        table_name = 'order_item'
        indexes = ((('order', 'product'), True),)


class WebhookEvent(Table):
    gateway = CharField()
    event_id = CharField()
    event_type = CharField()
    payload = TextField()
    order = ForeignKeyField(Order, null=True, on_delete='SET NULL')
    received_at = DateTimeField(index=True)
    processed_at = DateTimeField(null=True)
    outcome = TextField(null=True)

    class Meta:
        table_name = 'webhook_event'
        indexes = ((('gateway', 'event_id'), True),)


class TransactionItem(Table):
    order = ForeignKeyField(Order, on_delete='RESTRICT')
    order_item = ForeignKeyField(OrderItem, unique=True, on_delete='RESTRICT')
    product = ForeignKeyField(Product, on_delete='RESTRICT')
    seller = ForeignKeyField(User, on_delete='RESTRICT')
    buyer = ForeignKeyField(User, on_delete='RESTRICT')
    amount = BigIntegerField()
    platform_fee = BigIntegerField()
    seller_amount = BigIntegerField()
    currency = CharField(max_length=3)
    created_at = DateTimeField()

    class Meta:
        table_name = 'transaction_item'


class LedgerEntry(Table):
    seller = ForeignKeyField(User, on_delete='RESTRICT')
    order = ForeignKeyField(Order, on_delete='RESTRICT')
    order_item = ForeignKeyField(OrderItem, on_delete='RESTRICT')
    kind = CharField()
    gross = BigIntegerField()
    fee = BigIntegerField()
    amount = BigIntegerField()
    currency = CharField(max_length=3)
    created_at = DateTimeField(index=True)

    class Meta:
        table_name = 'ledger_entry'
        indexes = ((('order_item', 'kind'), True), (('seller', 'created_at'), False))


class DownloadLink(Table):
    order_item = ForeignKeyField(OrderItem, unique=True, on_delete='CASCADE')
    buyer = ForeignKeyField(User, on_delete='CASCADE')
    product = ForeignKeyField(Product, on_delete='RESTRICT')
    nonce = CharField()
    token_hash = CharField(unique=True)
    expires_at = DateTimeField()
    max_downloads = IntegerField()
    download_count = IntegerField()
    revoked_at = DateTimeField(null=True)
    last_downloaded_at = DateTimeField(null=True)
    created_at = DateTimeField()

    class Meta:
        table_name = 'download_link'


class Invoice(Table):
    order = ForeignKeyField(Order, unique=True, on_delete='RESTRICT')
    number = IntegerField(unique=True)
    issued_at = DateTimeField()
    pdf_path = CharField(null=True)
    pdf_size = IntegerField()
    generated_at = DateTimeField(null=True)

    class Meta:
        table_name = 'invoice'


class Refund(Table):
    order = ForeignKeyField(Order, unique=True, on_delete='RESTRICT')
    gateway = CharField()
    status = CharField()
    gateway_ref = CharField(null=True)
    amount = BigIntegerField()
    currency = CharField(max_length=3)
    requested_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
    error = TextField(null=True)
    created_at = DateTimeField()
    completed_at = DateTimeField(null=True)

    class Meta:
        table_name = 'refund'


class SimulatedPayment(Table):
    order = ForeignKeyField(Order, unique=True, on_delete='CASCADE')
    status = CharField()
    amount = BigIntegerField()
    currency = CharField(max_length=3)
    created_at = DateTimeField()
    updated_at = DateTimeField()

    class Meta:
        table_name = 'simulated_payment'


# ---------------------------------------------------------------------------
# The job runtime
# ---------------------------------------------------------------------------

class JobRecord(Table):
    uuid = CharField(unique=True)
    name = CharField()
    queue = CharField()
    payload = TextField()
    encrypted = BooleanField()
    state = CharField()
    attempts = IntegerField()
    exceptions = IntegerField()
    lost = IntegerField()
    available_at = DateTimeField()
    enqueued_at = DateTimeField(null=True)
    reserved_at = DateTimeField(null=True)
    reserved_by = CharField(null=True)
    reservation = CharField(null=True)
    finished_at = DateTimeField(null=True)
    duration = FloatField(null=True)
    last_error = TextField(null=True)
    retry_until = DateTimeField(null=True)
    unique_key = CharField(null=True)
    chain_id = CharField(null=True)
    chain_step = IntegerField(null=True)
    chain_total = IntegerField(null=True)
    chain_rest = TextField(null=True)
    batch_id = CharField(null=True)
    created_at = DateTimeField()

    class Meta:
        table_name = 'job'
        indexes = ((('state', 'queue', 'available_at'), False), (('finished_at',), False))


JobRecord.add_index(JobRecord.index(JobRecord.chain_id, where=JobRecord.chain_id.is_null(False)))
JobRecord.add_index(JobRecord.index(JobRecord.batch_id, where=JobRecord.batch_id.is_null(False)))


class FailedJob(Table):
    uuid = CharField(unique=True)
    name = CharField(index=True)
    queue = CharField()
    payload = TextField()
    encrypted = BooleanField()
    exception_class = CharField()
    message = TextField()
    traceback = TextField()
    attempts = IntegerField()
    chain_id = CharField(null=True)
    chain_step = IntegerField(null=True)
    chain_total = IntegerField(null=True)
    batch_id = CharField(null=True)
    failed_at = DateTimeField(index=True)

    class Meta:
        table_name = 'failed_job'


class Batch(Table):
    id = CharField(primary_key=True)
    name = CharField()
    total_jobs = IntegerField()
    pending_jobs = IntegerField()
    failed_jobs = IntegerField()
    failed_job_ids = TextField()
    allow_failures = BooleanField()
    callbacks = TextField()
    cancelled_at = DateTimeField(null=True)
    finished_at = DateTimeField(null=True)
    created_at = DateTimeField(index=True)

    class Meta:
        table_name = 'job_batch'


class WorkerRecord(Table):
    id = CharField(primary_key=True)
    host = CharField()
    pid = IntegerField()
    consumer_pid = IntegerField()
    queues = CharField()
    started_at = DateTimeField()
    last_beat_at = DateTimeField(index=True)
    current_job = CharField(null=True)
    current_job_name = CharField(null=True)
    jobs_done = IntegerField()
    rss_bytes = IntegerField()
    stopped_at = DateTimeField(null=True)

    class Meta:
        table_name = 'job_worker'


class QueueFlag(Table):
    key = CharField(primary_key=True)
    value = TextField()
    updated_at = DateTimeField()

    class Meta:
        table_name = 'job_flag'


class JobLock(Table):
    key = CharField(primary_key=True)
    owner = CharField()
    expires_at = DateTimeField()

    class Meta:
        table_name = 'job_lock'


class JobCounter(Table):
    key = CharField()
    window = IntegerField()
    count = IntegerField()
    expires_at = DateTimeField(index=True)

    class Meta:
        table_name = 'job_counter'
        primary_key = False
        indexes = ((('key', 'window'), True),)


class JobMinute(Table):
    minute = IntegerField()
    name = CharField()
    queue = CharField()
    completed = IntegerField()
    failed = IntegerField()
    duration_sum = FloatField()
    duration_count = IntegerField()
    duration_max = FloatField()

    class Meta:
        table_name = 'job_minute'
        indexes = ((('minute', 'name', 'queue'), True),)


class JobTotal(Table):
    name = CharField()
    queue = CharField()
    completed = IntegerField()
    failed = IntegerField()
    duration_sum = FloatField()
    duration_count = IntegerField()
    le_counts = TextField()

    class Meta:
        table_name = 'job_total'
        indexes = ((('name', 'queue'), True),)


TABLES = [User, Session, LoginFailure, Product, ProductReview, Notification, OutboundMail, CartItem, Order,
          OrderItem, WebhookEvent, TransactionItem, LedgerEntry, DownloadLink, Invoice, Refund, SimulatedPayment,
          JobRecord, FailedJob, Batch, WorkerRecord, QueueFlag, JobLock, JobCounter, JobMinute, JobTotal]


def upgrade(migrator, db):
    with db.bind_ctx(TABLES):
        db.create_tables(TABLES)
