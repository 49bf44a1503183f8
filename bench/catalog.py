"""The catalog under load, with 10,000 products and 100,000 orders: requests per
second and p50/p99 for the first page and for a search, beside a minimal Bottle
page on the same gunicorn setup (the ceiling).

    python bench/catalog.py [--backends sqlite,postgres-redis] [--requests 3000] [--concurrency 16]
                            [--products 10000,100000] [--json out.json]

--products runs a shop for each catalog size; --json writes the figures for bench/charts.py.
"""

import argparse
import json
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


def run(backends, requests, concurrency, size=10000):
    with Shop(backends) as shop:
        sellers = users("seller", 50, "seller")
        customers = users("customer", 500, "customer")
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
        for name, url in (("first page", f"{shop.url}/"), ("search", f"{shop.url}/?q=loops+guide"),
                          ("page 40", f"{shop.url}/?page=40"), ("ceiling", f"{ceiling}/")):
            load([("GET", url, {}, None)] * 100, concurrency)  # warm up
            results[name] = summary(*load([("GET", url, {}, None)] * requests, concurrency))
        return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite,postgres-redis")
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--products", default="10000", help="catalog sizes, e.g. 10000,100000")
    parser.add_argument("--json", help="write the results to this file (bench/charts.py)")
    args = parser.parse_args()
    rows = []
    for backends in args.backends.split(","):
        for size in map(int, args.products.split(",")):
            results = run(backends, args.requests, args.concurrency, size)
            ceiling = results["ceiling"]["rps"]
            for name, r in results.items():
                print(f"{backends:>15} {size:>7} products {name:<10}: {r['rps']:6.0f} req/s "
                      f"({r['rps'] / ceiling:.2f} of the ceiling), "
                      f"p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms, {r['errors']} errors", flush=True)
                rows.append(dict(r, backends=backends, products=size, page=name, ceiling_rps=ceiling))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"benchmark": "catalog", "results": rows}, handle, indent=1)


if __name__ == "__main__":
    main()
