"""Full-text search of the catalog, on SQLite (FTS5) and PostgreSQL (tsvector + GIN) alike.

Every approved product has one ProductSearch row holding its title, tags, seller's name
and description as folded words: accents off, lower case, anything but letters and digits
a space. A search is folded the same way, and each of its words matches as a prefix
("pian" finds "piano"), all words required. Because both databases only ever see plain
words separated by spaces, they split them identically and find the same products; the
rank weighs a word in the title above one in the tags, the seller's name, then the
description (bm25 with column weights on SQLite, ts_rank with A-D weights on PostgreSQL).

The row is written by `refresh` whenever what it holds may have changed: an edit, a
moderation decision, new tags, a seller's new name. A product that is not approved has
no row, so a rejected product or one sent back to review drops out at once; deleting a
product deletes its row (on delete cascade) and the databases' indexes follow the row.
"""

import re
import unicodedata

from peewee import SQL, Table

from models import Product, ProductSearch, ProductTag, Tag, User, db, is_sqlite

MAX_WORDS = 8
# Title, tags, seller, description.
SQLITE_RANK = "bm25(product_search_fts, 10.0, 5.0, 3.0, 1.0)"
_fts = Table("product_search_fts")
_search = Table("product_search")

# Letters with no accent to take off that readers still type without one (Ødegård, Łódź).
_LETTERS = str.maketrans({"ø": "o", "ł": "l", "đ": "d", "ð": "d", "æ": "ae", "œ": "oe", "þ": "th", "ı": "i"})


def folded(text):
    """ "Café-Crème, 2 ÉDITION" -> "cafe creme 2 edition" (kept equal to the migration's copy)."""
    text = unicodedata.normalize("NFKD", text or "")
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold().translate(_LETTERS)
    return " ".join(re.findall(r"[^\W_]+", text))


# ---------------------------------------------------------------------------
# Keeping the index in step
# ---------------------------------------------------------------------------


def _document(product):
    tags = (Tag.select(Tag.name).join(ProductTag).where(ProductTag.product == product.id)
            .order_by(Tag.slug).tuples())
    return {"title": folded(product.title), "tags": folded(" ".join(name for (name,) in tags)),
            "seller": folded(product.seller.name), "body": folded(product.description)}


def refresh(product_id):
    """Make the product's search row match the product: written if approved, gone if not."""
    with db.atomic():
        product = (Product.select(Product, User).join(User).where(Product.id == product_id).first())
        if product is None or product.status != "approved":
            ProductSearch.delete().where(ProductSearch.product == product_id).execute()
            return
        document = _document(product)
        existing = ProductSearch.get_or_none(ProductSearch.product == product_id)
        if existing is None:
            ProductSearch.insert(product=product_id, **document).on_conflict(
                conflict_target=[ProductSearch.product], update=document).execute()
        elif any(getattr(existing, field) != value for field, value in document.items()):
            ProductSearch.update(**document).where(ProductSearch.product == product_id).execute()


def refresh_seller(seller_id):
    """After a seller's name changed: each of their products on sale is found by the new one."""
    ids = Product.select(Product.id).where((Product.seller == seller_id) & (Product.status == "approved"))
    for (product_id,) in ids.tuples():
        refresh(product_id)


def rebuild():
    """Every approved product's row written again (for products loaded around the shop's code,
    as the benchmark's data is); returns how many are indexed."""
    ids = [product_id for (product_id,) in Product.select(Product.id).tuples()]
    for product_id in ids:
        refresh(product_id)
    return ProductSearch.select().count()


# ---------------------------------------------------------------------------
# Searching
# ---------------------------------------------------------------------------


class Matches:
    """The products matching a search, to narrow a catalog query or to order it by rank.

    The words are letters and digits only (folded), so they go into the databases' query
    languages without any quoting problem.
    """

    def __init__(self, text):
        self.words = folded(text).split()[:MAX_WORDS]

    def _matching(self, *columns):
        """SELECT `columns` FROM the database's index WHERE every word matches as a prefix."""
        if is_sqlite():
            expression = " ".join(f'"{word}"*' for word in self.words)
            return _fts.select(*columns).where(SQL("product_search_fts MATCH ?", [expression]))
        return _search.select(*columns).where(SQL("document @@ to_tsquery('simple', %s)", [self._tsquery()]))

    def _tsquery(self):
        return " & ".join(f"{word}:*" for word in self.words)

    def _product_id(self):
        return SQL("rowid" if is_sqlite() else "product_id")

    def restrict(self, query):
        """`query` narrowed to the matching products."""
        if not self.words:
            return query.where(SQL("1 = 0"))  # symbols alone are no words: nothing, not everything
        return query.where(Product.id.in_(self._matching(self._product_id())))

    def by_rank(self, query):
        """`query` narrowed to the matching products, the best match first."""
        if not self.words:
            return query.where(SQL("1 = 0"))
        if is_sqlite():
            score = SQL(SQLITE_RANK)
        else:
            score = SQL("-ts_rank(document, to_tsquery('simple', %s))", [self._tsquery()])
        ranked = self._matching(self._product_id().alias("product_id"), score.alias("score")).alias("ranked")
        return (query.switch(Product).join(ranked, on=(ranked.c.product_id == Product.id))
                .order_by(ranked.c.score.asc(), Product.id.desc()))


def matches(text):
    return Matches(text)
