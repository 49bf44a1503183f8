"""The catalog under load, with 10,000 products (or --products) and 100,000 orders:
requests per second and p50/p99 for the first page, a full-text search and page 40,
beside a minimal Bottle page on the same gunicorn setup (the ceiling).

Guests' pages are kept as rendered until the catalog changes (shop/catalog/page_cache.py),
so a page asked for again and again is what the first rows measure. The rows "not kept"
ask for a different address each time (an unknown parameter, or new search words), so
each request reads the database and renders the page.

    python bench/catalog.py [--backends sqlite,postgres-redis] [--products 10000] [--requests 3000] [--concurrency 16]
"""

import argparse
import subprocess

from common import BIN, ROOT, Shop, free_port, load, summary, wait_port
from shop_data import orders, products, users


def _gunicorn_ceiling(shop):
    port = free_port()
    process = subprocess.Popen([str(BIN / "gunicorn"), "bench.ceiling:app", "--bind", f"127.0.0.1:{port}",
                                "--workers", "2", "--threads", "4", "--worker-class", "gthread"],
                               cwd=ROOT, env=shop.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    shop.processes.append(process)
    wait_port(port)
    return f"http://127.0.0.1:{port}"


def run(backends, size, requests, concurrency):
    with Shop(backends) as shop:
        sellers = users("seller", 50, "seller")
        customers = users("customer", 500, "customer")
        # Every product approved and indexed for full-text search (shop_data.index_for_search).
        catalogue = products(sellers, size, with_files=False)
        for _ in range(10):
            orders(customers, catalogue, 10000, status="paid")
        if backends != "sqlite":
            import models

            # Planner statistics, as autovacuum gathers them within a minute of such a
            # load; without them PostgreSQL sorts every product for each page.
            models.db.execute_sql("ANALYZE")
        shop.start_web()
        ceiling = _gunicorn_ceiling(shop)
        results = {}
        cases = (("first page", lambda i: f"{shop.url}/"),
                 ("search", lambda i: f"{shop.url}/?q=loops+guide"),
                 ("page 40", lambda i: f"{shop.url}/?page=40"),
                 ("first page, not kept", lambda i: f"{shop.url}/?visit={i}"),
                 ("search, not kept", lambda i: f"{shop.url}/?q=item+{i}"),
                 ("ceiling", lambda i: f"{ceiling}/"))
        for number, (name, url) in enumerate(cases):
            offset = (number + 1) * 1_000_000  # the warm-up's addresses are not the run's
            load([("GET", url(offset + i), {}, None) for i in range(100)], concurrency)  # warm up
            results[name] = summary(*load([("GET", url(i), {}, None) for i in range(requests)], concurrency))
        return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite,postgres-redis")
    parser.add_argument("--products", default="10000", help="catalog sizes, comma-separated (10000,100000)")
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    for backends in args.backends.split(","):
        for size in (int(s) for s in args.products.split(",")):
            results = run(backends, size, args.requests, args.concurrency)
            ceiling = results["ceiling"]["rps"]
            for name, r in results.items():
                print(f"{backends:>15} {size:>7} {name:<20}: {r['rps']:6.0f} req/s ({r['rps'] / ceiling:.2f} of the "
                      f"ceiling), p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms, {r['errors']} errors",
                      flush=True)


if __name__ == "__main__":
    main()
