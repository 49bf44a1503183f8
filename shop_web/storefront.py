"""The public shop: catalog with search and pages, product pages, product images."""

from urllib.parse import urlencode

from bottle import HTTPError, HTTPResponse, redirect, static_file

from shop import config
from shop.catalog import browse, page_cache, previews, products, storefronts, taxonomy
from shop.errors import MissingObject, NotFound, ValidationError
from shop.storage import MEDIA, key_for, storage
from shop.orders import cart
from models import Product, User
from shop.selling import discounts
from shop_web.common import (
    FLASH_COOKIE,
    SESSION_COOKIE,
    Page,
    RouteTable,
    current_shopper,
    flash,
    get_object_or_404,
    int_param,
    redirect_to,
    remember_discount_code,
    render,
    request,
    response,
)

routes = RouteTable()

PER_PAGE = 12
# A search counts its matches up to this many and then says "more than 1,000 found":
# counting every match of a common word was most of a search's time in a big catalog.
SEARCH_COUNT_CAP = 1000


def approved_products():
    return (Product.select(Product, User).join(User)
            .where(Product.status == "approved"))


def _approved_ids():
    """The catalog's rows for counting: no seller join, read from the status index alone."""
    return Product.select(Product.id).where(Product.status == "approved")


def owned_ids():
    """The products the visiting customer owns: their pages say so instead of offering the cart."""
    shopper = current_shopper()
    return cart.owned_product_ids(shopper) if shopper is not None else set()


def _catalog_params():
    return {key: request.query.getunicode(key) or "" for key in ("q", "category", "tag", "min", "max", "sort")}


def _title(filters):
    if filters.q:
        return f"Search: {filters.q}"
    if filters.category is not None:
        return filters.category.name
    if filters.tag is not None:
        return f"Tagged “{filters.tag.name}”"
    return "Digital products"


def arrive_with_code():
    """A shared link (/?code=SPRING): keep the code for the cart, say what it gives, and go
    on to the same page without it (so the flash shows at once and a reload says nothing)."""
    text = (request.query.getunicode("code") or "").strip()
    if not text:
        return
    code = discounts.find(text)
    if code is None or code.disabled_at is not None:
        flash(f"There is no discount code {discounts.normalise(text)[:32]}.", "error")
    else:
        remember_discount_code(code.code)
        flash(f"Discount code {code.code} ({discounts.describe(code)}) is applied in your cart.", "success")
    rest = {key: value for key, value in request.query.decode().allitems() if key != "code"}
    redirect_to(request.path + ("?" + urlencode(rest) if rest else ""), status=302)


def _shared_key():
    """The key of this catalog page when it is the same for every visitor, else None.

    That is a guest with no session (no cart, no purchases, no account: nothing in the
    header or on the cards is theirs) and no message waiting to be shown, on any order
    but best-selling, which sales move without the catalog changing.
    """
    if request.get_cookie(SESSION_COOKIE) or request.get_cookie(FLASH_COOKIE):
        return None
    if current_shopper() is not None or request.environ.get("app.user") is not None:
        return None
    if (request.query.get("sort") or "").strip() == "best-selling":
        return None
    return (request.path, request.query_string)


def _send_kept(kept):
    """A kept page, or 304 when the browser holds it already (its ETag is the page's digest)."""
    response.set_header("Cache-Control", "no-cache")
    response.set_header("Vary", "Cookie")
    response.set_header("ETag", kept.etag)
    sent = request.environ.get("HTTP_IF_NONE_MATCH") or ""
    if kept.etag in (tag.strip() for tag in sent.split(",")):
        response.status = 304
        return ""
    return kept.body


def _shared(render_page):
    """The page `render_page` renders, served as kept when it is the same for every visitor."""
    key = _shared_key()
    version = page_cache.version() if key is not None else None
    kept = page_cache.get(version, key)
    if kept is not None:
        return _send_kept(kept)
    body = render_page()
    if version is not None and response.status_code == 200:
        kept = page_cache.put(version, key, body)
    return _send_kept(kept) if kept is not None else body


@routes.get("/")
def catalog_index():
    arrive_with_code()
    return _shared(_catalog_index)


def _catalog_index():
    try:
        filters = browse.parse(_catalog_params())
    except ValidationError as exc:
        # A price typed into the filter that is not an amount: the page says which, unfiltered by it.
        filters = browse.parse({**_catalog_params(), "min": "", "max": ""})
        return _catalog_page(filters, status=400, errors=exc.errors, error_message=str(exc))
    return _catalog_page(filters)


def _catalog_page(filters, status=200, errors=None, error_message=""):
    query, counted = browse.products(filters)
    page = Page(query, int_param(request.query.get("page"), 1, 1), PER_PAGE, count_query=counted,
                cap=SEARCH_COUNT_CAP if filters.q else None, count=page_cache.count)
    encoded = browse.query_string(filters)
    return render("catalog.tpl", status=status, title=_title(filters), page=page, q=filters.q,
                  site_search=filters.q, filters=filters, browse=browse, categories=taxonomy.categories(),
                  tags=taxonomy.tags_by_product([p.id for p in page.items]),
                  base_query=encoded + "&" if encoded else "", owned_ids=owned_ids(),
                  errors=errors or {}, error_message=error_message)


@routes.get("/products/<slug>")
def product_show(slug):
    product = get_object_or_404(approved_products().where(Product.slug == slug),
                                "This product does not exist or is not on sale.")
    arrive_with_code()
    return render("product.tpl", title=product.title, product=product, owned=product.id in owned_ids(),
                  tags=taxonomy.tags_of(product.id), files=products.files_of(product.id),
                  previews=previews.of_product(product.id, ready_only=True))


@routes.get("/sellers/<slug>")
def seller_storefront(slug):
    seller = storefronts.seller_from_slug(slug)
    arrive_with_code()
    if seller is None:
        raise NotFound("There is no seller at this address.")
    if request.path != seller.storefront_path:
        redirect(seller.storefront_path + (f"?{request.query_string}" if request.query_string else ""), 301)
    return _shared(lambda: _storefront_page(seller))


def _storefront_page(seller):
    query = storefronts.products_on_sale(seller)
    counted = Product.select(Product.id).where((Product.seller == seller) & (Product.status == "approved"))
    page = Page(query, int_param(request.query.get("page"), 1, 1), PER_PAGE, count_query=counted,
                count=page_cache.count)
    return render("storefront.tpl", title=seller.name, seller=seller, profile=storefronts.profile_of(seller),
                  page=page, base_query="", owned_ids=owned_ids(),
                  tags=taxonomy.tags_by_product([p.id for p in page.items]))


@routes.get("/media/<path:path>")
def media_file(path):
    """Generated thumbnails (media/ of the storage; product files are never there). With a
    bucket and no S3_PUBLIC_URL the app reads them from the bucket itself."""
    cache = {"Cache-Control": "public, max-age=31536000"}
    store = storage()
    if store.kind == "local":
        return static_file(path, root=str(config.MEDIA_DIR), headers=cache)
    try:
        body = store.open(key_for(MEDIA, path))
    except MissingObject:
        raise HTTPError(404, "This image does not exist.") from None
    return HTTPResponse(body=body, status=200, headers={**cache, "Content-Type": "image/webp",
                                                        "X-Content-Type-Options": "nosniff"})


@routes.get("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico on pages without a <link rel=icon> (a PDF in the viewer)."""
    return static_file("favicon.svg", root=str(config.STATIC_DIR), mimetype="image/svg+xml",
                       headers={"Cache-Control": "public, max-age=86400"})


@routes.get("/static/<path:path>")
def static_asset(path):
    return static_file(path, root=str(config.STATIC_DIR))
