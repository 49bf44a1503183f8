"""Schema migrations: a shop made by release 0.1.0 upgrades in place and keeps every row;
the models and the migrated schema agree; a failing migration changes nothing; the web
app and the consumer refuse a database whose schema does not match the code.

The old shop is the committed dump in tests/fixtures/release_0_1_0 (made with that
release's own code by make_fixtures.py there), loaded into SQLite or PostgreSQL as
TEST_DATABASE says. Each later migration extends these tests with rows of its own.
"""

import datetime
import re
import sqlite3
import subprocess
import uuid
from pathlib import Path

import pytest
from peewee import CharField, Model, TextField

import models
import tasks
from job_runtime.models import FailedJob, JobRecord
from models import DownloadLink, Invoice, LedgerEntry, Order, OrderItem, Payout, Product, Refund, User
from shop.accounts import guests
from shop.catalog import browse, page_cache, taxonomy
from shop.catalog import updates as product_updates
from shop.errors import MigrationError, SchemaMismatch
from shop.money import format_money
from shop.operations import schema
from shop.orders import downloads
from shop.orders import credit_notes
from shop.orders import invoices
from shop.orders import ledger_totals
from shop.orders import renewals
from shop.api import tokens as api_tokens
from shop.payouts import balances as payout_balances
from shop.payouts import manual as manual_payouts
from shop.payouts import stripe_payouts
from shop.storage import storage
from tests.conftest import (
    BIN,
    POSTGRES_ADMIN_URL,
    ROOT,
    TEST_DATABASE,
    cli_process,
    free_port,
    login,
    need_postgres,
)
from tests.shop_fixtures import add_to_cart, checkout, live_app, make_product  # noqa: F401

OLD_RELEASE = Path(__file__).parent / "fixtures" / "release_0_1_0"
DEMO_PASSWORD = "demo-pass-123"
# The version this code's migrations reach; the test migrations below come after it.
HEAD = len(schema.available())


# ---------------------------------------------------------------------------
# Databases
# ---------------------------------------------------------------------------


def new_postgres_database(prefix):
    import psycopg

    need_postgres()
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return name, POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def drop_postgres_database(name):
    import psycopg

    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def old_shop(app_env):
    """The test's database replaced by release 0.1.0's, schema and rows; returns its URL."""
    name = None
    if TEST_DATABASE == "postgres":
        import psycopg

        name, url = new_postgres_database("marketplace_old")
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute((OLD_RELEASE / "postgres.sql").read_text())
    else:
        path = app_env.data_dir / "release-0.1.0.db"
        connection = sqlite3.connect(path)
        connection.executescript((OLD_RELEASE / "sqlite.sql").read_text())
        connection.close()
        url = f"sqlite:///{path}"
    own_url = app_env.environ["DATABASE_URL"]
    app_env.reload(DATABASE_URL=url)
    models.init_db(url)
    yield url
    # Back to the test's own database before this one goes: the queue may live in it.
    app_env.reload(DATABASE_URL=own_url)
    models.init_db(own_url)
    if name:
        drop_postgres_database(name)


def every_row(database=None):
    """{table: rows in a fixed order} of every table but the version table (and SQLite's
    own, such as the AUTOINCREMENT counters), read as raw SQL."""
    database = database or models.db
    found = {}
    with database.connection_context():
        for table in sorted(database.get_tables()):
            if table == "schema_version" or table.startswith("sqlite_"):
                continue
            width = len(database.get_columns(table))
            order = ", ".join(str(i) for i in range(1, width + 1))
            found[table] = database.execute_sql(f'SELECT * FROM "{table}" ORDER BY {order}').fetchall()
    return found


# The catalog_search migration indexes the products already on sale: its table (and on
# SQLite the FTS5 table and the tables FTS5 keeps for it) start with rows.
# The product_files migration copies every product's file into product_file.
# The catalog_version migration writes the catalog's first version.
FILLED_BY_MIGRATIONS = ("product_search", "product_file", "catalog_state")


def kept(after, before):
    """The rows of `after` as `before` had them: the columns later migrations added (at the
    end of each row) left off; a table they added must be empty."""
    for table, rows in after.items():
        if table not in before and not table.startswith(FILLED_BY_MIGRATIONS):
            assert rows == [], f"the migrations put rows into their new table {table}"
    return {table: [row[:len(rows[0])] for row in after[table]] if rows else after[table]
            for table, rows in before.items()}


# PostgreSQL's search document: a generated tsvector column and its GIN index, which a
# peewee model cannot declare; the catalog_search migration makes them (tested below).
DATABASE_ONLY = {("product_search", "document"), ("product_search", "product_search_document")}


def describe(database, table):
    """A table's columns, indexes and foreign keys as the database reports them."""
    columns = {(c.name, c.data_type.lower(), c.null, c.primary_key) for c in database.get_columns(table)
               if (table, c.name) not in DATABASE_ONLY}
    indexes = {(i.name, tuple(i.columns), i.unique, re.sub(r"\s+", " ", i.sql or "").strip())
               for i in database.get_indexes(table) if (table, i.name) not in DATABASE_ONLY}
    foreign_keys = {(f.column, f.dest_table, f.dest_column) for f in database.get_foreign_keys(table)}
    return columns, indexes, foreign_keys


def describe_all(database):
    """describe() of every table but the version table."""
    with database.connection_context():
        return {table: describe(database, table) for table in database.get_tables()
                if table != "schema_version"}


def schema_of_models(models_):
    """What create_tables would make for `models_` today, in a scratch database of the suite's kind."""
    name = None
    if TEST_DATABASE == "postgres":
        from playhouse.db_url import connect

        name, url = new_postgres_database("marketplace_models")
        scratch = connect(url)
    else:
        from peewee import SqliteDatabase

        scratch = SqliteDatabase(":memory:")
    try:
        with scratch.bind_ctx(models_, bind_refs=False, bind_backrefs=False):
            scratch.create_tables(models_)
        return {m._meta.table_name: describe(scratch, m._meta.table_name) for m in models_}
    finally:
        scratch.close()
        if name:
            drop_postgres_database(name)


def differences(models_):
    """Where the migrated schema (the test's database) and the models disagree, table by table."""
    expected = schema_of_models(models_)
    found = []
    with models.db.connection_context():
        tables = set(models.db.get_tables())
        for table, (columns, indexes, foreign_keys) in expected.items():
            if table not in tables:
                found.append(f"{table}: the models have it, no migration makes it")
                continue
            have_columns, have_indexes, have_keys = describe(models.db, table)
            for label, want, have in (("columns", columns, have_columns), ("indexes", indexes, have_indexes),
                                      ("foreign keys", foreign_keys, have_keys)):
                if want != have:
                    found.append(f"{table} {label}: models only {sorted(want - have)}, "
                                 f"migrations only {sorted(have - want)}")
    return found


def shop_models():
    """Every table of the shop and of its job runtime; the suite's own tables are no part of it."""
    return [m for m in models.all_models() if not m.__module__.startswith("tests.")]


# ---------------------------------------------------------------------------
# The baseline and the models
# ---------------------------------------------------------------------------


SQLITE_MASTER = "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name"


def baseline_schema(tmp_path):
    """describe_all() (and, on SQLite, the CREATE statements) of a new database given 0001 alone."""
    baseline = schema.available()[:1]
    if TEST_DATABASE == "postgres":
        from playhouse.db_url import connect

        name, url = new_postgres_database("marketplace_baseline")
        database = connect(url)
        try:
            schema.migrate(database, migrations=baseline, out=lambda line: None)
            return describe_all(database), None
        finally:
            database.close()
            drop_postgres_database(name)
    from peewee import SqliteDatabase

    database = SqliteDatabase(str(tmp_path / "baseline.db"))
    schema.migrate(database, migrations=baseline, out=lambda line: None)
    with database.connection_context():
        return describe_all(database), database.execute_sql(SQLITE_MASTER).fetchall()


def test_the_baseline_makes_exactly_release_0_1_0s_schema(app_env, tmp_path):
    """A new shop (its tables from 0001) and a shop made by release 0.1.0 have one schema."""
    new, new_sql = baseline_schema(tmp_path)
    if TEST_DATABASE == "postgres":
        import psycopg
        from playhouse.db_url import connect

        name, url = new_postgres_database("marketplace_old")
        try:
            with psycopg.connect(url, autocommit=True) as connection:
                connection.execute((OLD_RELEASE / "postgres.sql").read_text())
            old_database = connect(url)
            old = describe_all(old_database)
            old_database.close()
        finally:
            drop_postgres_database(name)
    else:
        from peewee import SqliteDatabase

        path = tmp_path / "old.db"
        connection = sqlite3.connect(path)
        connection.executescript((OLD_RELEASE / "sqlite.sql").read_text())
        connection.close()
        old_database = SqliteDatabase(str(path))
        old = describe_all(old_database)
        # SQLite keeps each CREATE statement as written: those must match to the character.
        query = "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name"
        old_sql = old_database.execute_sql(query).fetchall()
        new_sql = [row for row in new_sql if row[1] in {r[1] for r in old_sql}]
        old_database.close()
        assert new_sql == old_sql
    assert {table: new[table] for table in old} == old


def test_every_model_matches_the_migrated_schema(app_env):
    """A field, index or table added to a model without its migration fails here."""
    assert differences(shop_models()) == []


def test_a_field_added_without_a_migration_is_caught(app_env):
    # The orders table as a change that forgot its migration would leave it. A plain
    # Model, not models.BaseModel: it must not join all_models() for the tests after this one.
    class Order(Model):
        reference = CharField(unique=True)
        gift_note = TextField(null=True)

        class Meta:
            table_name = "order"

    found = differences([Order])
    assert any("gift_note" in line for line in found), found


# ---------------------------------------------------------------------------
# A shop of release 0.1.0 upgrades in place
# ---------------------------------------------------------------------------


@pytest.mark.consumer  # runs the shop's commands
def test_a_release_0_1_0_shop_upgrades_in_place_and_keeps_every_row(old_shop, app_env, client, live_app):
    before = every_row()
    # What the old shop holds: the demo shop, customers, paid and refunded orders, the
    # ledger, invoices, download links, and job records in each state.
    assert len(before["user"]) == 6 and len(before["product"]) >= 10
    assert sorted(Order.select(Order.status).tuples()) == [("paid",), ("paid",), ("pending",), ("refunded",)]
    assert {kind for (kind,) in LedgerEntry.select(LedgerEntry.kind).tuples()} == {"sale", "refund"} and len(before["ledger_entry"]) == 7
    assert Refund.get().status == "succeeded" and Invoice.select().count() == 2
    assert {state for (state,) in JobRecord.select(JobRecord.state).tuples()} == {"completed", "pending", "failed"}
    assert FailedJob.select().count() == 1 and DownloadLink.select().count() == 6
    assert schema.status().state is schema.State.UNVERSIONED
    with pytest.raises(SchemaMismatch, match="run `marketplace migrate`"):
        schema.require_current()

    result = cli_process(app_env, "migrate", stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = result.communicate(timeout=120)[0]
    assert result.returncode == 0, output
    assert "made by release 0.1.0: recording them as version 0001" in output

    assert schema.status().state is schema.State.CURRENT
    after = every_row()
    assert kept(after, before) == before
    assert differences(shop_models()) == []
    # The login throttle's counters (the login_attempts migration) start empty, and count from here on.
    assert after["login_attempt"] == []
    assert login(client, "casey@example.com", "not-her-password").status_int == 401
    assert [attempt.attempts for attempt in models.LoginAttempt.select()] == [1, 1]
    # The seller payouts migration: no payouts yet, every old entry keeps its order, and a
    # payout recorded now debits an old seller's old balance once.
    assert after["payout"] == [] and all(e.order_id and e.order_item_id for e in LedgerEntry.select())
    old_seller, before_payout = max(payout_balances.every_seller(hold_days=0), key=lambda pair: pair[1].available)
    assert before_payout.available > 0
    admin = User.get(User.role == "admin")
    payout, created = manual_payouts.record_payout(old_seller, before_payout.available, before_payout.currency,
                                                   "bank", "upgrade-1", "key-upgrade-1", admin, hold_days=0)
    assert created and payout_balances.balance_of(old_seller, hold_days=0).available == 0
    assert manual_payouts.record_payout(old_seller, before_payout.available, before_payout.currency, "bank",
                                        "upgrade-1", "key-upgrade-1", admin, hold_days=0)[1] is False
    # Stripe Connect (the stripe_connect migration): no connected account yet; a payout is
    # "paid" unless the payout schedule sent it, and one payout may now carry its debit and,
    # once, the credit of its failure (unique per payout and kind, no longer per payout).
    assert after["connect_account"] == [] and Payout.get_by_id(payout.id).status == "paid"
    assert stripe_payouts.return_to_balance(payout, payout.amount) is True
    assert stripe_payouts.return_to_balance(payout, payout.amount) is False
    assert payout_balances.balance_of(old_seller, hold_days=0).available == before_payout.available
    # Verified addresses (the email_verification migration): every account made before is
    # taken as verified when it was made, so the old sellers still submit products.
    assert all(user.email_verified_at == user.created_at for user in User.select())
    # Password reset links (the password_resets migration): none yet; an old customer asks
    # for one, and its row is stored by its digest and refers to her old account.
    assert after["password_reset"] == []
    page = client.get("/password/forgot")
    form = next(f for f in page.forms.values() if f.action == "/password/forgot")
    form["email"] = "casey@example.com"
    assert "we have emailed it a link" in form.submit().text
    reset = models.PasswordReset.get()
    assert reset.user.email == "casey@example.com" and reset.used_at is None and len(reset.token_hash) == 64
    # Renewed download links (the download_renewals migration): none yet; an old link, expired
    # long ago, is renewed by its old buyer, logged against it, and its old token stops working.
    assert after["download_renewal"] == []
    old_link = DownloadLink.select().join(OrderItem).join(Order).where(Order.status == "paid").first()
    old_url = downloads.url_for(old_link)
    DownloadLink.update(expires_at=models.utcnow() - datetime.timedelta(days=1)).where(
        DownloadLink.id == old_link.id).execute()
    renewed = renewals.renew(old_link.id, old_link.buyer)
    assert downloads.state(renewed) is downloads.LinkState.ACTIVE and downloads.url_for(renewed) != old_url
    assert downloads.find(old_url.rsplit("/", 1)[1]) is None
    assert models.DownloadRenewal.get().link_id == old_link.id
    # Guest checkout (the guest_checkout migration): old orders have no guest address and
    # stay their buyers', so verifying an old account claims nothing of anyone else's.
    assert all(order.guest_email is None for order in Order.select())
    assert guests.claim_orders(User.get(User.email == "casey@example.com")) == 0
    # Selling tools (the selling_tools migration): old products sell at their price and issue
    # no keys, old order items had no discount, and the codes and keys start empty.
    assert all(p.min_price is None and p.license_activations is None for p in Product.select())
    assert all(item.list_price is None and item.price_before_discount == item.price for item in OrderItem.select())
    assert all(order.discount is None for order in Order.select())
    assert after["discount_code"] == [] and after["license_key"] == [] and after["discount_redemption"] == []

    # The JSON API and its webhooks (the api_and_webhooks migration): no tokens, endpoints or
    # events yet; an old seller makes a token and reads their old products through it.
    assert after["personal_access_token"] == [] and after["webhook_endpoint"] == [] and after["outgoing_event"] == []
    old_sam = User.get(User.email == "sam@example.com")
    _, token = api_tokens.make_token(old_sam, "after the upgrade", "read", 30)
    listed = client.get("/api/v1/products", {"limit": 100}, headers={"Authorization": f"Bearer {token}"}).json
    assert {p["id"] for p in listed["data"]} == {p.id for p in Product.select().where(Product.seller == old_sam)}

    # Tax and credit notes (the tax_and_credit_notes migration): old orders bore no tax and keep
    # their figures; old invoices keep the numbers of the old series, immutable; no credit notes
    # yet, and one issued now for the old refunded order credits its old invoice in full.
    assert after["credit_note"] == []
    assert all(o.tax_country is None and o.tax_total is None for o in Order.select())
    assert all(i.net_amount == i.price and i.tax_amount == 0 for i in OrderItem.select())
    assert all(e.tax is None for e in LedgerEntry.select())
    old_labels = {invoice.order_id: invoice.label for invoice in Invoice.select()}
    assert sorted(old_labels.values()) == ["INV-000001", "INV-000002"]
    paid_before = Order.select().where(Order.paid_at.is_null(False) & (Order.status == "paid")).first()
    note, created = credit_notes.issue(paid_before.id, reason="after the upgrade")
    assert created and note.invoice.label in old_labels.values() and note.gross == paid_before.total
    assert credit_notes.in_full(note)
    # Categories and tags (the catalog_categories_tags migration): none yet, every old product
    # on no shelf; the owner adds one, an old product goes on it and its page lists it.
    assert after["category"] == [] and after["tag"] == [] and after["product_tag"] == []
    assert all(p.category_id is None for p in Product.select())
    shelf = taxonomy.create_category("Old favourites")
    old_product = Product.select().where(Product.status == "approved").order_by(Product.id).first()
    Product.update(category=shelf).where(Product.id == old_product.id).execute()
    taxonomy.set_tags(old_product.id, taxonomy.parse_tags("vintage"))
    assert old_product.title in client.get("/?category=old-favourites&tag=vintage").text
    # Full-text search (the catalog_search migration): every old product on sale is indexed,
    # found by the first letters of a word of its title, and none that is not on sale.
    on_sale = {p.id for p in Product.select().where(Product.status == "approved")}
    assert {row[0] for row in after["product_search"]} == on_sale
    for product in Product.select().where(Product.status == "approved"):
        found, _ = browse.products(browse.parse({"q": product.title.split()[0][:4]}))
        assert product.id in {p.id for p in found}, product.title
    # Storefronts (the seller_storefronts migration): no profiles yet; an old seller's storefront
    # lists their old products on sale without one.
    assert after["seller_profile"] == []
    # Several files per product (the product_files migration): each old product's one file is its
    # first, with its name, size and digest, and the old download link still serves it.
    assert sorted((row[1], row[2], row[3], row[4], row[5], row[6]) for row in after["product_file"]) == sorted(
        (p.id, 0, p.file_name or "download", p.file_path, p.file_size, p.file_sha256)
        for p in Product.select() if p.file_path)
    # Stamped PDFs (the stamped_pdfs migration): no copies yet, and no old product asks for them.
    assert after["stamped_file"] == [] and all(not p.stamp_pdfs for p in Product.select())
    # Product updates (the product_updates migration): none yet; an update of an old product
    # on sale reaches its old buyers (paid, not refunded) once each.
    assert after["product_update"] == [] and after["update_delivery"] == []
    # Previews (the product_previews migration): none yet for the old products.
    assert after["product_preview"] == []
    # The catalog's version (the catalog_version migration): one row; an old product's new
    # price changes it, and a guest's catalog page shows the price at once.
    assert len(after["catalog_state"]) == 1
    repriced = Product.select().where(Product.status == "approved").order_by(Product.id).first()
    version = page_cache.version()
    kept_page = client.get("/?sort=price-high").text
    Product.update(price=123456).where(Product.id == repriced.id).execute()
    assert page_cache.version() != version
    assert format_money(123456, repriced.currency) not in kept_page
    assert format_money(123456, repriced.currency) in client.get("/?sort=price-high").text
    sold = Product.select().join(OrderItem).join(Order).where(
        (Order.status == "paid") & (Product.status == "approved")).first()
    update = product_updates.write(sold, "Version 2 of an old product.")
    tasks.start_product_update.dispatch(update.id)
    assert models.ProductUpdate.get_by_id(update.id).recipients == len(product_updates.past_buyers(sold.id)) >= 1
    assert models.UpdateDelivery.select().where(models.UpdateDelivery.delivered_at.is_null(False)).count() \
        == len(product_updates.past_buyers(sold.id))

    # The ledger's totals (the ledger_totals migration): nothing closed yet, so every balance is
    # the sum of all the old entries; the first close sums them in and changes no figure.
    assert after["ledger_total"] == [] and after["ledger_close"] == []
    figures = (payout_balances.every_seller(hold_days=0), payout_balances.commission_earned())
    assert ledger_totals.close() == LedgerEntry.select().count()
    assert (payout_balances.every_seller(hold_days=0), payout_balances.commission_earned()) == figures
    assert sum(total.entries for total in models.LedgerTotal.select()) == LedgerEntry.select().count()
    # Kept documents (the invoice_documents migration): the old invoices kept none and are
    # drawn from their orders as before, under their old numbers; the credit note issued
    # since keeps its own.
    old_invoices = list(Invoice.select().where(Invoice.order.in_(list(old_labels))))
    assert all(invoice.document is None for invoice in old_invoices)
    for invoice in old_invoices:
        Invoice.update(pdf_path=None).where(Invoice.id == invoice.id).execute()
        drawn = invoices.generate(invoice.order_id)
        assert drawn.label == invoice.label and drawn.document is None
        assert storage().read_bytes(invoices.pdf_key(drawn)).startswith(b"%PDF-")
        buyer = Order.get_by_id(invoice.order_id).buyer
        assert invoices.invoice_data(drawn)["buyer"]["name"] == buyer.name
    assert note.document is not None and credit_notes.credit_note_data(note)["in_full"] is True

    sam_page = client.get(User.get(User.email == "sam@example.com").storefront_path)
    assert all(p.title in sam_page.text for p in Product.select().where(
        (Product.seller == User.get(User.email == "sam@example.com")) & (Product.status == "approved")))

    # The old shop carries on: an old customer logs in with her old password and buys a
    # new product of an old seller through the test gateway, end to end.
    sam = User.get(User.email == "sam@example.com")
    content = b"after the upgrade\n" * 100
    product = make_product(sam, "Upgrade presets", 1200, content=content)
    # With the selling tools: a license key per sale, and half off with a code of the seller's.
    product.license_activations = 1
    product.save()
    models.DiscountCode.create(code="UPGRADE", seller=sam, kind="percent", amount=50)
    assert login(client, "casey@example.com", DEMO_PASSWORD).status_int == 303
    add_to_cart(client, product)
    client.set_cookie("discount_code", "UPGRADE")
    page = checkout(client, "test").follow()
    next(f for f in page.forms.values() if f.action.startswith("/pay/test/")).submit("action", value="pay")
    order = Order.select().order_by(Order.id.desc()).get()
    assert order.status == "paid" and order.buyer.email == "casey@example.com" and order.guest_email is None
    assert order.id > max(row[0] for row in before["order"])
    sale = LedgerEntry.get(LedgerEntry.order == order)
    assert (sale.kind, sale.seller_id, sale.gross) == ("sale", sam.id, 600)
    assert models.LicenseKey.get().order_item.order_id == order.id
    # Its invoice starts this year's series beside the old one, whose numbers are as they were.
    new_invoice = invoices.generate(order.id)
    assert new_invoice.label == f"INV-{models.utcnow().year}-000001" and new_invoice.document is not None
    assert {i.order_id: i.label for i in Invoice.select() if i.order_id in old_labels} == old_labels
    mail = next(m for m in app_env.mails if m["Subject"] == f"Your order {order.reference} is ready to download")
    link = re.search(r"/download/\S+", mail.get_content()).group(0)
    response = client.get(link)
    assert response.status_int == 200 and response.body == content


def test_migrate_records_nothing_twice(old_shop):
    lines = []
    schema.migrate(out=lines.append)
    schema.migrate(out=lines.append)
    assert lines[-1] == f"The schema is up to date (version {HEAD:04d})."
    assert [row.version for row in schema.SchemaVersion.select()] == list(range(1, HEAD + 1))


def test_a_shop_older_than_the_baseline_is_refused(old_shop):
    models.db.execute_sql('DROP INDEX "order_checkout_key"')
    models.db.execute_sql('ALTER TABLE "order" DROP COLUMN "checkout_key"')
    with pytest.raises(MigrationError, match=r"missing: order\.checkout_key"):
        schema.migrate(out=lambda line: None)
    assert schema.status().state is schema.State.UNVERSIONED


# ---------------------------------------------------------------------------
# Migrations after the baseline
# ---------------------------------------------------------------------------


def test_the_job_runtime_upgrade_keeps_failed_jobs_and_never_reuses_their_ids(old_shop):
    """Failed-job ids survive the rebuild of their table, and a deleted one is never handed out again."""
    failed_before = list(FailedJob.select().order_by(FailedJob.id).tuples())
    schema.migrate(out=lambda line: None)
    assert list(FailedJob.select().order_by(FailedJob.id).tuples()) == failed_before
    assert all(job.last_traceback is None and job.retried_at is None for job in JobRecord.select())
    last = FailedJob.get(FailedJob.id == failed_before[-1][0])
    last.delete_instance()
    new = FailedJob.create(uuid="after-the-upgrade", name="noop", queue="default", payload="[[],{}]",
                           exception_class="ValueError", message="no", traceback="", attempts=1)
    assert new.id > last.id


def test_batches_finished_before_the_upgrade_count_their_callbacks_as_run(old_shop):
    from job_runtime.models import Batch

    models.db.execute_sql(
        'INSERT INTO "job_batch" ("id", "name", "total_jobs", "pending_jobs", "failed_jobs", "failed_job_ids", '
        '"allow_failures", "callbacks", "finished_at", "created_at") '
        "VALUES ('done', '', 2, 0, 1, '[]', FALSE, '{}', '2026-01-02 03:04:05', '2026-01-02 03:00:00'), "
        "('open', '', 2, 2, 0, '[]', FALSE, '{}', NULL, '2026-01-02 03:00:00')")
    schema.migrate(out=lambda line: None)
    done, still_open = Batch.get_by_id("done"), Batch.get_by_id("open")
    assert done.finally_at == done.finished_at and done.catch_at is not None
    assert (still_open.catch_at, still_open.then_at, still_open.finally_at) == (None, None, None)



def add_order_note(migrator, db):
    migrator.migrate(migrator.add_column("order", "note", TextField(null=True)),
                     migrator.add_index("order", ("note",)))


def order_columns():
    with models.db.connection_context():
        return [c.name for c in models.db.get_columns("order")]


def with_extra(*steps):
    return schema.available() + [schema.Migration(HEAD + 1 + i, name, upgrade, f"Test step {name}")
                                 for i, (name, upgrade) in enumerate(steps)]


@pytest.fixture
def migrated_shop(old_shop):
    """A database of its own (never the session's PostgreSQL database) at the head."""
    schema.migrate(out=lambda line: None)
    return old_shop


def test_dry_run_prints_the_sql_and_changes_nothing(migrated_shop):
    migrations = with_extra(("order_note", add_order_note))
    before, lines = order_columns(), []
    assert schema.migrate(migrations=migrations, dry_run=True, out=lines.append) == [f"{HEAD + 1:04d}_order_note"]
    text = "\n".join(lines)
    assert re.search(r'ALTER TABLE "order" ADD COLUMN "note" TEXT', text), text
    assert 'CREATE INDEX "order_note" ON "order" ("note")' in text and "Dry run: nothing was changed." in text
    assert order_columns() == before
    assert schema.status(migrations=migrations).state is schema.State.BEHIND


def test_pending_migrations_apply_in_order_and_a_newer_schema_is_refused(migrated_shop):
    migrations = with_extra(("order_note", add_order_note))
    problem = schema.status(migrations=migrations).problem()
    assert problem == (f"The database schema is at version {HEAD}, but this code needs version {HEAD + 1}: "
                       "run `marketplace migrate`.")
    assert schema.migrate(migrations=migrations, out=lambda line: None) == [f"{HEAD + 1:04d}_order_note"]
    assert "note" in order_columns() and schema.status(migrations=migrations).state is schema.State.CURRENT
    # The code of the release before runs on this database: it must refuse, not guess.
    older = schema.status()
    assert older.state is schema.State.AHEAD and "migrated by a newer release" in older.problem()
    with pytest.raises(SchemaMismatch):
        schema.migrate(out=lambda line: None)


def add_job_index_concurrently(migrator, db):
    concurrently = "" if schema.is_sqlite(db) else " CONCURRENTLY"
    db.execute_sql(f'CREATE INDEX{concurrently} IF NOT EXISTS "job_name_created_at" ON "job" ("name", "created_at")')


def job_indexes():
    with models.db.connection_context():
        return {index.name for index in models.db.get_indexes("job")}


def test_an_index_built_outside_a_transaction(migrated_shop):
    """PostgreSQL builds an index on a big table CONCURRENTLY, which no transaction may hold."""
    migrations = schema.available() + [schema.Migration(HEAD + 1, "job_name_index", add_job_index_concurrently,
                                                        "An index built while the shop writes", atomic=False)]
    lines = []
    schema.migrate(migrations=migrations, dry_run=True, out=lines.append)
    statement = 'CREATE INDEX{} IF NOT EXISTS "job_name_created_at"'.format(
        " CONCURRENTLY" if TEST_DATABASE == "postgres" else "")
    assert any(statement in line for line in lines), lines
    assert "job_name_created_at" not in job_indexes()
    assert schema.migrate(migrations=migrations, out=lambda line: None) == [f"{HEAD + 1:04d}_job_name_index"]
    assert "job_name_created_at" in job_indexes()
    assert schema.status(migrations=migrations).state is schema.State.CURRENT


def test_a_failing_migration_leaves_the_database_as_it_was(migrated_shop):
    def rebuild_then_fail(migrator, db):
        # On SQLite dropping NOT NULL rebuilds the whole table; then a statement fails.
        migrator.migrate(migrator.drop_not_null("order", "gateway"), migrator.add_column(
            "order", "note", TextField(null=True)))
        db.execute_sql('SELECT no_such_column FROM "order"')

    before_rows, before_tables = every_row(), describe_all(models.db)
    lines = []
    with pytest.raises(MigrationError, match=f"{HEAD + 1:04d}_rebuild_then_fail failed and was rolled back"):
        schema.migrate(migrations=with_extra(("rebuild_then_fail", rebuild_then_fail)), out=lines.append)
    assert describe_all(models.db) == before_tables and every_row() == before_rows
    assert schema.status().state is schema.State.CURRENT
    if TEST_DATABASE != "postgres":
        # And the copy taken first holds the database as it was.
        copy = Path(next(line for line in lines if line.startswith("Backup of the database")).split(": ", 1)[1])
        from peewee import SqliteDatabase

        assert every_row(SqliteDatabase(str(copy))) == before_rows


# ---------------------------------------------------------------------------
# Start-up checks and /healthz
# ---------------------------------------------------------------------------


def start_and_wait(app_env, argv, timeout=60):
    environ = dict(app_env.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
    return subprocess.run(argv, cwd=ROOT, env=environ, capture_output=True, text=True, timeout=timeout)


def refusals(app_env):
    """What the consumer, gunicorn as the web unit runs it, and `marketplace serve` say, and
    whether each exited."""
    port = free_port()
    commands = {
        "consumer": [str(BIN / "huey_consumer"), "tasks.huey", "-w", "1", "-n"],
        "gunicorn": [str(BIN / "gunicorn"), "--config", "python:shop_web.gunicorn_config",
                     "--bind", f"127.0.0.1:{port}", "marketplace:app"],
        "serve": [str(BIN / "marketplace"), "serve", "--bind", f"127.0.0.1:{port}"],
    }
    results = {}
    for name, argv in commands.items():
        result = start_and_wait(app_env, argv)
        results[name] = (result.returncode, result.stderr.strip().splitlines()[-1] if result.stderr else "")
    return results


@pytest.mark.consumer  # runs the shop's commands
def test_the_web_app_and_the_consumer_refuse_a_schema_behind_or_ahead(old_shop, app_env):
    for name, (code, line) in refusals(app_env).items():
        assert code == 1 and line == ("Refusing to start: The database was made by release 0.1.0 and has no "
                                      "schema version yet: run `marketplace migrate`."), (name, line)
    schema.migrate(out=lambda line: None)
    schema.SchemaVersion.create(version=HEAD + 1, name="from_a_newer_release")
    for name, (code, line) in refusals(app_env).items():
        assert code == 1 and "this database was migrated by a newer release" in line, (name, line)


def test_healthz_reports_the_schema_version(client):
    report = client.get("/healthz").json
    assert report["schema"] == {"ok": True, "version": HEAD, "head": HEAD, "state": "current"}


def test_healthz_is_unhealthy_on_an_old_schema(old_shop, client):
    response = client.get("/healthz", expect_errors=True)
    assert response.status_int == 503
    assert response.json["schema"]["state"] == "unversioned" and response.json["database"]["ok"]


@pytest.mark.consumer  # runs the shop's commands
def test_list_shows_each_migration_and_where_the_database_stands(app_env):
    result = cli_process(app_env, "migrate", "--list", stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = result.communicate(timeout=60)[0]
    assert result.returncode == 0, output
    assert re.search(r"0001_baseline\s+applied \d{4}-\d\d-\d\d", output)
    assert output.strip().endswith(f"The schema is up to date (version {HEAD:04d}).")


# ---------------------------------------------------------------------------
# Job tags, the job name index and the wait in the roll-ups
# ---------------------------------------------------------------------------


def test_the_old_shops_jobs_upgrade_to_no_tags_and_minutes_without_a_wait(old_shop):
    from job_runtime.models import JobMinute, JobTag

    before = dict(JobRecord.select(JobRecord.uuid, JobRecord.state).tuples())
    schema.migrate(out=lambda line: None)
    assert dict(JobRecord.select(JobRecord.uuid, JobRecord.state).tuples()) == before
    assert {row.tags for row in JobRecord.select()} == {None} and JobTag.select().count() == 0
    assert "job_name_id" in job_indexes()
    # A consumer of the previous release still adds minutes, without a wait.
    models.db.execute_sql('INSERT INTO "job_minute" ("minute", "name", "queue", "completed", "failed", '
                          '"duration_sum", "duration_count", "duration_max") VALUES (1, \'x\', \'default\', 1, 0, 0.5, 1, 0.5)')
    assert JobMinute.get(JobMinute.name == "x").wait_count is None


# ---------------------------------------------------------------------------
# The hourly roll-up
# ---------------------------------------------------------------------------


def test_the_upgraded_shops_hours_are_its_minutes_added_up_by_the_hour(old_shop):
    from job_runtime.models import JobHour, JobMinute
    from job_runtime.monitoring import metrics

    start = 29_000_000 + 17  # minutes since the epoch, in the middle of an hour
    # Minutes rolled up by release 0.1.0, before the wait was recorded ...
    for minute, name, completed, duration_max in ((start, "a", 2, 1.5), (start + 30, "a", 1, 4.0),
                                                  (start + 50, "b", 3, 0.25)):
        models.db.execute_sql(
            'INSERT INTO "job_minute" ("minute", "name", "queue", "completed", "failed", "duration_sum", '
            '"duration_count", "duration_max") VALUES (%s, %s, \'default\', %s, 1, %s, %s, %s)'.replace(
                "%s", "?" if TEST_DATABASE == "sqlite" else "%s"),
            (minute, name, completed, duration_max * completed, completed + 1, duration_max))
    hours_version = next(m.version for m in schema.available() if m.name == "job_hours")
    schema.migrate(migrations=[m for m in schema.available() if m.version < hours_version], out=lambda line: None)
    # ... and by the release before the job_hours migration, with their wait, up to its watermark.
    for minute, name, wait in ((start + 40, "a", 3.0), (start + 100, "a", 7.5), (start + 200, "b", 0.5)):
        JobMinute.create(minute=minute, name=name, queue="low", completed=1, failed=0, duration_sum=0.5,
                         duration_count=1, duration_max=0.5, wait_sum=wait, wait_count=1, wait_max=wait)
    mark = start + 201
    models.db.execute_sql('INSERT INTO "job_flag" ("key", "value", "updated_at") VALUES '
                          f"('{metrics.WATERMARK}', '{mark}', '2025-03-14 12:00:00')")
    minutes = list(JobMinute.select())

    schema.migrate(out=lambda line: None)
    expected = {}
    for row in minutes:
        into = expected.setdefault((row.minute // 60, row.name, row.queue), [0, 0, 0.0, 0, 0.0, 0.0, 0, 0.0])
        for i, value in enumerate((row.completed, row.failed, row.duration_sum, row.duration_count)):
            into[i] += value
        into[4] = max(into[4], row.duration_max)
        into[5] += row.wait_sum or 0.0
        into[6] += row.wait_count or 0
        into[7] = max(into[7], row.wait_max or 0.0)
    fields = (JobHour.completed, JobHour.failed, JobHour.duration_sum, JobHour.duration_count,
              JobHour.duration_max, JobHour.wait_sum, JobHour.wait_count, JobHour.wait_max)

    def hours():
        return {(row[0], row[1], row[2]): list(row[3:]) for row in
                JobHour.select(JobHour.hour, JobHour.name, JobHour.queue, *fields).tuples()}

    assert hours() == expected and len(expected) == 6
    assert metrics.hours_watermark() == mark
    # The next roll-up carries on from the watermark and adds none of these minutes again.
    metrics.roll_up(metrics.minute_start(mark + 5))
    assert metrics.watermark() == mark + 4 and hours() == expected
