"""The catalog's and search's queries at 10,000 and 100,000 products, timed in-process on
each database: a page is its count and its first (or 40th) 12 products, as the catalog
page runs them (shop/catalog/browse.py), without HTTP around them.

    python bench/catalog_queries.py [--backends sqlite,postgres-redis] [--sizes 10000,100000] [--runs 15]
"""

import argparse
import random
import statistics
import time

from common import Shop
from shop_data import index_for_search, products, users

CATEGORIES = ("Music", "Fonts", "Templates", "E-books", "Courses", "Photos", "Brushes", "Icons", "3D", "Video")
TAGS = tuple(f"tag{i}" for i in range(40)) + ("lo-fi", "vintage", "minimal", "retro", "café", "neon",
                                              "pastel", "grunge", "noir", "bold")

CASES = [
    ("newest, page 1", {}, 1),
    ("newest, page 40", {}, 40),
    ("price low to high", {"sort": "price-low"}, 1),
    ("best-selling", {"sort": "best-selling"}, 1),
    ("category, newest", {"category": "music"}, 1),
    ("category + price range", {"category": "fonts", "min": "10", "max": "30"}, 1),
    ("tag", {"tag": "vintage"}, 1),
    ("search: one word", {"q": "loops"}, 1),
    ("search: two words", {"q": "pack course"}, 1),
    ("search: prefix 'tem'", {"q": "tem"}, 1),
    ("search: accent 'cafe'", {"q": "cafe"}, 1),
    ("search: rare word", {"q": "item 4242"}, 1),
    ("search + price order", {"q": "presets", "sort": "price-low"}, 1),
]


def load(size):
    import models
    from models import Product, ProductTag, Tag
    from shop.catalog import taxonomy

    sellers = users("seller", 200, "seller")
    catalogue = products(sellers, size, with_files=False)
    categories = [taxonomy.create_category(name) for name in CATEGORIES]
    tags = [taxonomy._tag_for(*taxonomy.parse_tags(name)[0]) for name in TAGS]
    rng = random.Random(19)
    tags_of, links = {}, []
    with models.db.atomic():
        # peewee's % is LIKE, so the remainders are spelled out (integer division on both databases).
        shelves = len(categories)
        for index, category in enumerate(categories):
            Product.update(category=category).where(
                Product.id - (Product.id / shelves) * shelves == index).execute()
        Product.update(download_count=Product.id * 7919 - (Product.id * 7919 / 1000) * 1000).execute()
        for product in catalogue:
            chosen = rng.sample(tags, 2)
            tags_of[product.id] = [tag.name for tag in chosen]
            links.extend({"product": product.id, "tag": tag.id} for tag in chosen)
        for chunk in range(0, len(links), 1000):
            ProductTag.insert_many(links[chunk:chunk + 1000]).execute()
    index_for_search(catalogue, {s.id: s.name for s in sellers}, tags_of)
    assert Tag.select().count() == len(TAGS)
    if not models.is_sqlite():
        models.db.execute_sql("ANALYZE")  # as autovacuum would within a minute of such a load


def time_case(params, page, runs):
    from shop.catalog import browse

    timings, total = [], 0
    for _ in range(runs):
        start = time.perf_counter()
        query, counted = browse.products(browse.parse(params))
        total = counted.count()
        items = list(query.paginate(page, 12))
        timings.append((time.perf_counter() - start) * 1000)
    return statistics.median(timings), max(timings), total, len(items)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite,postgres-redis")
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    for backends in args.backends.split(","):
        for size in (int(s) for s in args.sizes.split(",")):
            with Shop(backends):
                started = time.perf_counter()
                load(size)
                print(f"{backends} {size} products loaded in {time.perf_counter() - started:.0f} s")
                for name, params, page in CASES:
                    time_case(params, page, 2)  # warm the caches
                    median, worst, total, shown = time_case(params, page, args.runs)
                    print(f"{backends:>15} {size:>7} {name:<24}: median {median:7.1f} ms, max {worst:7.1f} ms, "
                          f"{total:>6} found, {shown} shown")


if __name__ == "__main__":
    main()
