"""Shelves and tags: the owner's categories, and the tags a seller puts on a product.

Categories are few and named by the owner, so a rename keeps the web address (the slug)
that shared links use. Tags are typed by sellers as a comma-separated list; "Lo-Fi",
"lo fi" and "LO-FI" are one tag (one slug), and a tag no product carries any more stays
as a row, harmlessly, so that links to it answer an empty page rather than a 404.
"""

from peewee import IntegrityError, fn

from shop.errors import ValidationError
from models import Category, Product, ProductTag, Tag, db, slugify

MAX_CATEGORY_NAME = 60
MAX_TAG = 30
MAX_TAGS = 10


# ---------------------------------------------------------------------------
# Categories
# ---------------------------------------------------------------------------


def categories():
    return list(Category.select().order_by(fn.LOWER(Category.name), Category.id))


def _category_name(name):
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError(errors={"name": "Enter a name for the category."})
    if len(name) > MAX_CATEGORY_NAME:
        raise ValidationError(errors={"name": f"Use at most {MAX_CATEGORY_NAME} characters."})
    return name


def create_category(name):
    name = _category_name(name)
    slug = slugify(name)
    try:
        with db.atomic():
            return Category.create(name=name, slug=slug)
    except IntegrityError:
        raise ValidationError(errors={"name": "A category of this name (or web address) exists already."})


def rename_category(category_id, name):
    name = _category_name(name)
    try:
        with db.atomic():
            changed = Category.update(name=name).where(Category.id == category_id).execute()
    except IntegrityError:
        raise ValidationError(errors={"name": "A category of this name exists already."})
    if not changed:
        raise ValidationError("This category no longer exists.")


def delete_category(category_id):
    """Its products stay on sale, on no shelf (the foreign key sets them to NULL)."""
    with db.atomic():
        Product.update(category=None).where(Product.category == category_id).execute()
        return Category.delete().where(Category.id == category_id).execute() > 0


def category_choice(value):
    """The category a seller's form names by id, or None for "no category"; an unknown id is an error."""
    value = (value or "").strip()
    if not value:
        return None
    category = Category.get_or_none(Category.id == int(value)) if value.isdigit() else None
    if category is None:
        raise ValidationError(errors={"category": "Choose one of the listed categories."})
    return category


# ---------------------------------------------------------------------------
# Tags
# ---------------------------------------------------------------------------


def parse_tags(text):
    """[(slug, name)] from "lo-fi, Drums, drums": deduplicated by slug, in the seller's order."""
    found, errors = {}, []
    for raw in (text or "").split(","):
        name = " ".join(raw.split())
        if not name:
            continue
        if len(name) > MAX_TAG:
            errors.append(f"“{name[:MAX_TAG]}…” is longer than {MAX_TAG} characters.")
            continue
        slug = slugify(name)
        if slug == "product" and "product" not in name.lower():
            errors.append(f"“{name}” has no letters or digits.")
            continue
        found.setdefault(slug, name)
    if len(found) > MAX_TAGS:
        errors.append(f"Use at most {MAX_TAGS} tags.")
    if errors:
        raise ValidationError(errors={"tags": " ".join(errors)})
    return list(found.items())


def _tag_for(slug, name):
    tag = Tag.get_or_none(Tag.slug == slug)
    if tag is not None:
        return tag
    try:
        with db.atomic():
            return Tag.create(slug=slug, name=name)
    except IntegrityError:
        return Tag.get(Tag.slug == slug)  # another product's save made it meanwhile


def set_tags(product_id, parsed):
    """Make the product carry exactly the tags of `parsed` (from parse_tags)."""
    with db.atomic():
        wanted = {_tag_for(slug, name).id for slug, name in parsed}
        have = {tag_id for (tag_id,) in ProductTag.select(ProductTag.tag).where(
            ProductTag.product == product_id).tuples()}
        if have - wanted:
            ProductTag.delete().where((ProductTag.product == product_id)
                                      & ProductTag.tag.in_(list(have - wanted))).execute()
        if wanted - have:
            ProductTag.insert_many([{"product": product_id, "tag": tag_id} for tag_id in sorted(wanted - have)]
                                   ).on_conflict_ignore().execute()


def tags_of(product_id):
    return list(Tag.select().join(ProductTag).where(ProductTag.product == product_id)
                .order_by(fn.LOWER(Tag.name), Tag.id))


def tags_text(product_id):
    """The seller's form field for the product's tags."""
    return ", ".join(tag.name for tag in tags_of(product_id))


def tags_by_product(product_ids):
    """{product id: [Tag]} for a page of cards, in one query."""
    found = {product_id: [] for product_id in product_ids}
    if product_ids:
        rows = (ProductTag.select(ProductTag.product, Tag).join(Tag)
                .where(ProductTag.product.in_(list(product_ids))).order_by(fn.LOWER(Tag.name), Tag.id))
        for row in rows:
            found[row.product_id].append(row.tag)
    return found
