"""The catalog's version: one row in catalog_state whose number the database itself changes,
by triggers, in the same transaction as anything a catalog page or a seller's storefront
shows (a product approved, edited, repriced or removed, its tags, shelves, search row, its
seller's name or profile). The web app keys the pages it keeps by this number
(shop/catalog/page_cache.py). A sale, which only moves download_count, leaves it alone.
New table and triggers; no existing table changes.

The number is random, not a count: a database restored from a backup must not reach a
number its earlier life already used for other contents.
"""

from shop.operations.schema import is_sqlite

# Every column of product but its id and download_count (a sale): a column added later
# joins this list in its own migration (tests/test_page_cache.py checks it against the model).
PRODUCT_COLUMNS = ("seller_id", "category_id", "title", "slug", "description", "price", "currency", "status",
                   "rejection_reason", "file_path", "file_name", "file_size", "file_sha256",
                   "thumbnail_original", "thumbnails", "thumbnail_state", "thumbnail_error", "created_at",
                   "updated_at", "approved_at", "min_price", "license_activations", "license_days", "stamp_pdfs")
# (table, events) whose rows a catalog page shows.
WATCHED = (
    ("product", ("INSERT", "DELETE", "UPDATE OF " + ", ".join(PRODUCT_COLUMNS))),
    ("product_tag", ("INSERT", "DELETE", "UPDATE")),
    ("tag", ("INSERT", "DELETE", "UPDATE")),
    ("category", ("INSERT", "DELETE", "UPDATE")),
    ("product_search", ("INSERT", "DELETE", "UPDATE")),
    ("user", ("UPDATE OF name",)),
    ("seller_profile", ("INSERT", "DELETE", "UPDATE")),
)


def upgrade(migrator, db):
    if is_sqlite(db):
        db.execute_sql('CREATE TABLE IF NOT EXISTS "catalog_state" ("id" INTEGER NOT NULL PRIMARY KEY, '
                       '"version" INTEGER NOT NULL)')
        db.execute_sql('INSERT OR IGNORE INTO "catalog_state" ("id", "version") VALUES (1, random())')
        for table, events in WATCHED:
            for number, event in enumerate(events):
                db.execute_sql(f'CREATE TRIGGER IF NOT EXISTS "catalog_changed_{table}_{number}" AFTER {event} '
                               f'ON "{table}" BEGIN UPDATE "catalog_state" SET "version" = random(); END')
        return
    db.execute_sql('CREATE TABLE IF NOT EXISTS "catalog_state" ("id" INTEGER NOT NULL PRIMARY KEY, '
                   '"version" BIGINT NOT NULL)')
    db.execute_sql('INSERT INTO "catalog_state" ("id", "version") VALUES (1, (random() * 4.0e18)::bigint) '
                   'ON CONFLICT DO NOTHING')
    db.execute_sql('CREATE OR REPLACE FUNCTION "catalog_changed"() RETURNS trigger LANGUAGE plpgsql AS $$ '
                   'BEGIN UPDATE "catalog_state" SET "version" = (random() * 4.0e18)::bigint; RETURN NULL; END $$')
    # BEFORE the statement: a writer takes the version row's lock ahead of any product row,
    # so two transactions that change the catalog queue up there instead of deadlocking.
    for table, events in WATCHED:
        db.execute_sql(f'DROP TRIGGER IF EXISTS "catalog_changed" ON "{table}"')
        db.execute_sql(f'CREATE TRIGGER "catalog_changed" BEFORE {" OR ".join(events)} ON "{table}" '
                       'FOR EACH STATEMENT EXECUTE FUNCTION "catalog_changed"()')
