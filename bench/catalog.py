"""The catalog under load, with 10,000 products (or --products) and 100,000 orders:
requests per second and p50/p99 for the first page, a full-text search and page 40,
beside a minimal Bottle page on the same gunicorn setup (the ceiling).

Each case is followed at once by a run of the ceiling, and its share is of that run: on a
machine shared with other work the load changes from minute to minute. The web server's
CPU time per request (its processes' user and system time, from /proc) is printed too.

Guests' pages are kept as rendered until the catalog changes (shop/catalog/page_cache.py),
so a page asked for again and again is what the first rows measure. The rows "not kept"
ask for a different address each time (an unknown parameter, or new search words), so
each request reads the database and renders the page.

    python bench/catalog.py [--backends sqlite,postgres-redis] [--products 10000,100000] [--requests 3000]
                            [--concurrency 16] [--json out.json]

--products runs a shop for each catalog size; --json writes the figures for bench/charts.py.
"""

import argparse
import json
import subprocess

from common import BIN, ROOT, Shop, cpu_seconds, free_port, load, summary, wait_port
from shop_data import orders, products, users


def _gunicorn_ceiling(shop):
    port = free_port()
    process = subprocess.Popen([str(BIN / "gunicorn"), "bench.ceiling:app", "--bind", f"127.0.0.1:{port}",
                                "--workers", "2", "--threads", "4", "--worker-class", "gthread"],
                               cwd=ROOT, env=shop.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    shop.processes.append(process)
    wait_port(port)
    return f"http://127.0.0.1:{port}", process


def measure(urls, concurrency, pid):
    """summary() of the requests to `urls`, with the server's CPU ms per request."""
    before = cpu_seconds(pid)
    result = summary(*load([("GET", url, {}, None) for url in urls], concurrency))
    result["cpu_ms"] = (cpu_seconds(pid) - before) * 1000 / len(urls)
    return result


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
        web = shop.start_web()
        ceiling, ceiling_process = _gunicorn_ceiling(shop)
        results = {}
        cases = (("first page", lambda i: f"{shop.url}/"),
                 ("search", lambda i: f"{shop.url}/?q=loops+guide"),
                 ("page 40", lambda i: f"{shop.url}/?page=40"),
                 ("first page, not kept", lambda i: f"{shop.url}/?visit={i}"),
                 ("search, not kept", lambda i: f"{shop.url}/?q=item+{i}"))
        load([("GET", f"{ceiling}/", {}, None)] * 100, concurrency)  # warm up
        for number, (name, url) in enumerate(cases):
            offset = (number + 1) * 1_000_000  # the warm-up's addresses are not the run's
            load([("GET", url(offset + i), {}, None) for i in range(100)], concurrency)  # warm up
            results[name] = measure([url(i) for i in range(requests)], concurrency, web.pid)
            results[name]["ceiling"] = measure([f"{ceiling}/"] * requests, concurrency, ceiling_process.pid)
        return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite,postgres-redis")
    parser.add_argument("--products", default="10000", help="catalog sizes, comma-separated (10000,100000)")
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--json", help="write the results to this file (bench/charts.py)")
    args = parser.parse_args()
    rows = []
    for backends in args.backends.split(","):
        for size in (int(s) for s in args.products.split(",")):
            results = run(backends, size, args.requests, args.concurrency)
            for name, r in results.items():
                c = r["ceiling"]
                print(f"{backends:>15} {size:>7} {name:<20}: {r['rps']:6.0f} req/s ({r['rps'] / c['rps']:.2f} of the "
                      f"ceiling's {c['rps']:.0f}), p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms, "
                      f"CPU {r['cpu_ms']:.2f} ms a request (ceiling {c['cpu_ms']:.2f}), {r['errors']} errors",
                      flush=True)
                rows.append(dict(r, backends=backends, products=size, page=name, ceiling_rps=c["rps"]))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"benchmark": "catalog", "results": rows}, handle, indent=1)


if __name__ == "__main__":
    main()
