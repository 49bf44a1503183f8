"""The catalog as customers browse it: filters and orders read from the page's address.

Everything that shapes a catalog page (search words, shelf, tag, price range, order,
page) is a query parameter, so a filtered page can be bookmarked or shared, and
`query_string` writes them back in one canonical form for the links of the page.
Each order ends with the product id, so pages never repeat or skip a product when two
share a price or a date; those orders are the indexes of models.Product.
"""

import collections
from urllib.parse import urlencode

from shop import config
from shop.catalog import search
from shop.errors import ValidationError
from shop.money import format_money, parse_money
from models import Category, Product, ProductTag, Tag, User

# The orders a customer can choose, as (parameter value, label); the first is the default.
SORTS = (("newest", "Newest"), ("price-low", "Price: low to high"), ("price-high", "Price: high to low"),
         ("best-selling", "Best-selling"))
# With search words the best matches come first, unless another order is chosen.
RELEVANCE = ("relevance", "Best match")
MAX_QUERY = 100

Filters = collections.namedtuple("Filters", "q category tag min_price max_price sort")


def _price(text, field):
    text = (text or "").strip()[:20]
    if not text:
        return None
    return parse_money(text, config.CURRENCY, field=field)


def _named(model, slug):
    """The shelf or tag of `slug`; no query for an empty one (most pages name neither)."""
    slug = (slug or "").strip()[:100]
    return model.get_or_none(model.slug == slug) if slug else None


def parse(params):
    """Filters from the query parameters (a mapping of str to str).

    An unknown shelf, tag or order is not an error (a shared link may outlive a shelf):
    it is left out. A price that is not an amount is a ValidationError naming the field.
    """
    q = " ".join((params.get("q") or "").split())[:MAX_QUERY]
    category = _named(Category, params.get("category"))
    tag = _named(Tag, params.get("tag"))
    errors, prices = {}, {}
    for field in ("min", "max"):
        try:
            prices[field] = _price(params.get(field), field)
        except ValidationError as exc:
            errors.update(exc.errors)
            prices[field] = None
    if errors:
        raise ValidationError("Enter prices as amounts such as 12.50.", errors=errors)
    sort = (params.get("sort") or "").strip()
    if sort not in {value for value, _ in sort_choices(q)}:
        sort = RELEVANCE[0] if q else SORTS[0][0]
    return Filters(q, category, tag, prices["min"], prices["max"], sort)


def sort_choices(q):
    return ((RELEVANCE,) if q else ()) + SORTS


def is_default_sort(filters):
    return filters.sort == (RELEVANCE[0] if filters.q else SORTS[0][0])


def query_string(filters, **changes):
    """The page's query parameters for `filters` (with `changes`), defaults left out."""
    values = filters._replace(**changes)
    pairs = [("q", values.q),
             ("category", values.category.slug if values.category else ""),
             ("tag", values.tag.slug if values.tag else ""),
             ("min", amount_text(values.min_price)),
             ("max", amount_text(values.max_price)),
             ("sort", "" if is_default_sort(values) else values.sort)]
    return urlencode([(key, value) for key, value in pairs if value])


def amount_text(amount):
    if amount is None:
        return ""
    return "".join(c for c in format_money(amount, config.CURRENCY) if c.isdigit() or c == ".")


def is_filtered(filters):
    return bool(filters.q or filters.category or filters.tag or filters.min_price or filters.max_price)


def _where(query, filters):
    query = query.where(Product.status == "approved")
    if filters.category is not None:
        query = query.where(Product.category == filters.category)
    if filters.tag is not None:
        query = query.where(Product.id.in_(ProductTag.select(ProductTag.product)
                                           .where(ProductTag.tag == filters.tag)))
    if filters.min_price is not None:
        query = query.where(Product.price >= filters.min_price)
    if filters.max_price is not None:
        query = query.where(Product.price <= filters.max_price)
    return query


ORDERS = {
    "newest": (Product.approved_at.desc(), Product.id.desc()),
    "price-low": (Product.price.asc(), Product.id.asc()),
    "price-high": (Product.price.desc(), Product.id.desc()),
    "best-selling": (Product.download_count.desc(), Product.id.desc()),
}


def products(filters):
    """(the page's query with sellers, the same rows for counting without the join)."""
    shown = _where(Product.select(Product, User).join(User), filters)
    counted = _where(Product.select(Product.id), filters)
    if filters.q:
        matches = search.matches(filters.q)
        counted = matches.restrict(counted)
        if filters.sort == RELEVANCE[0]:
            return matches.by_rank(shown), counted
        shown = matches.restrict(shown)
    return shown.order_by(*ORDERS[filters.sort]), counted
