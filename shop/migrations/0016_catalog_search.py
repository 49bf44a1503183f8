"""Full-text search of the catalog: the product_search table, filled with every approved
product, and each database's own index over it.

- SQLite: the FTS5 table product_search_fts, whose content is product_search (external
  content), kept in step by triggers on product_search; prefix indexes of 2 and 3 letters
  so that a few letters typed find their words quickly.
- PostgreSQL: the generated column product_search.document (a weighted tsvector of the
  'simple' configuration) and its GIN index.

The words are folded (accents off, lower case) before they are stored, the same way the
shop folds a search, so both databases match the same words; unaccent is not needed.
"""

import re
import unicodedata

from peewee import ForeignKeyField, Model, TextField


class _Table(Model):
    class Meta:
        legacy_table_names = False


class Product(_Table):
    class Meta:
        table_name = "product"


class ProductSearch(_Table):
    product = ForeignKeyField(Product, primary_key=True, backref="search_rows", on_delete="CASCADE")
    title = TextField(default="")
    tags = TextField(default="")
    seller = TextField(default="")
    body = TextField(default="")

    class Meta:
        table_name = "product_search"


SQLITE_INDEX = [
    "CREATE VIRTUAL TABLE product_search_fts USING fts5(title, tags, seller, body, "
    "content='product_search', content_rowid='product_id', "
    "tokenize='unicode61 remove_diacritics 2', prefix='2 3')",
    "CREATE TRIGGER product_search_ai AFTER INSERT ON product_search BEGIN "
    "INSERT INTO product_search_fts(rowid, title, tags, seller, body) "
    "VALUES (new.product_id, new.title, new.tags, new.seller, new.body); END",
    "CREATE TRIGGER product_search_ad AFTER DELETE ON product_search BEGIN "
    "INSERT INTO product_search_fts(product_search_fts, rowid, title, tags, seller, body) "
    "VALUES ('delete', old.product_id, old.title, old.tags, old.seller, old.body); END",
    "CREATE TRIGGER product_search_au AFTER UPDATE ON product_search BEGIN "
    "INSERT INTO product_search_fts(product_search_fts, rowid, title, tags, seller, body) "
    "VALUES ('delete', old.product_id, old.title, old.tags, old.seller, old.body); "
    "INSERT INTO product_search_fts(rowid, title, tags, seller, body) "
    "VALUES (new.product_id, new.title, new.tags, new.seller, new.body); END",
]

POSTGRES_INDEX = [
    "ALTER TABLE product_search ADD COLUMN document tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector('simple'::regconfig, title), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, tags), 'B') || "
    "setweight(to_tsvector('simple'::regconfig, seller), 'C') || "
    "setweight(to_tsvector('simple'::regconfig, body), 'D')) STORED",
    "CREATE INDEX product_search_document ON product_search USING GIN (document)",
]

# Letters with no accent to take off that readers still type without one (Ødegård, Łódź).
_LETTERS = str.maketrans({"ø": "o", "ł": "l", "đ": "d", "ð": "d", "æ": "ae", "œ": "oe", "þ": "th", "ı": "i"})


def folded(text):
    """The frozen copy of shop.catalog.search.folded as this release wrote it."""
    text = unicodedata.normalize("NFKD", text or "")
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold().translate(_LETTERS)
    return " ".join(re.findall(r"[^\W_]+", text))


def upgrade(migrator, db):
    with db.bind_ctx([Product, ProductSearch]):
        db.create_tables([ProductSearch])
    sqlite = type(db).__name__.lower().startswith("sqlite")
    for statement in SQLITE_INDEX if sqlite else POSTGRES_INDEX:
        db.execute_sql(statement)
    # Products on sale before this release are found at once. No product has tags yet
    # (the catalog_categories_tags migration came just before).
    rows = db.execute_sql('SELECT p.id, p.title, u.name, p.description FROM "product" p '
                          'JOIN "user" u ON u.id = p.seller_id WHERE p.status = \'approved\'').fetchall()
    for product_id, title, seller, description in rows:
        db.execute_sql('INSERT INTO "product_search" (product_id, title, tags, seller, body) VALUES '
                       + ("(?, ?, ?, ?, ?)" if sqlite else "(%s, %s, %s, %s, %s)"),
                       (product_id, folded(title), "", folded(seller), folded(description)))
