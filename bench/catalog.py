"""The catalog under load, with 10,000 products and 100,000 orders: requests per
second and p50/p99 for the first page and for a search, beside a minimal Bottle
page on the same gunicorn setup (the ceiling).

    python bench/catalog.py [--backends sqlite,postgres-redis] [--requests 3000] [--concurrency 16]
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


def run(backends, requests, concurrency):
    with Shop(backends) as shop:
        sellers = users("seller", 50, "seller")
        customers = users("customer", 500, "customer")
        catalogue = products(sellers, 10000, with_files=False)
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
    args = parser.parse_args()
    for backends in args.backends.split(","):
        results = run(backends, args.requests, args.concurrency)
        ceiling = results["ceiling"]["rps"]
        for name, r in results.items():
            print(f"{backends:>15} {name:<10}: {r['rps']:6.0f} req/s ({r['rps'] / ceiling:.2f} of the ceiling), "
                  f"p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms, {r['errors']} errors")


if __name__ == "__main__":
    main()
