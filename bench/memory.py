"""Memory: the consumer's RSS before and after many jobs of each kind, and the web
server's after many requests. Growth is measured from a warmed-up process (its
first jobs and requests load modules and fill caches once).

    python bench/memory.py [--jobs 10000] [--requests 10000] [--kinds no-op,thumbnails,notifications,purchases]
                           [--arenas default,2] [--json out.json]

Job kinds: a no-op job, thumbnails (process_file_upload), notifications
(notify_product_approved), and whole purchases (process_webhook,
process_purchase, generate_invoice, send_invoice_email, from signed webhooks).
RSS is read at each quarter of the jobs. --arenas runs a shop for each
MALLOC_ARENA_MAX value, one after another: the worker units ship with 2.
"""

import argparse
import io
import os
import time
import uuid

from common import Shop, load, rss_mb, wait_until_idle
from shop_data import completed_event, orders, products, signed, users
from stripe_standin import StripeStandIn

SECRET = "whsec_bench_memory"


def _jpeg(seed):
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (1200, 900), ((seed * 37) % 255, (seed * 91) % 255, (seed * 53) % 255))
    ImageDraw.Draw(image).ellipse((200, 150, 1000, 750), fill=(250, 250, 250))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


def _dispatch(kind, count, shop, standin, catalogue, customers):
    from shop import config
    import tasks
    from bench.noop_jobs import noop_job
    from models import Product, ProductReview

    if kind == "no-op":
        for _ in range(count):
            noop_job.dispatch()
    elif kind == "thumbnails":
        (config.UPLOADS_DIR / "thumbs").mkdir(parents=True, exist_ok=True)
        for i in range(count):
            product = catalogue[i % len(catalogue)]
            relative = f"thumbs/{uuid.uuid4().hex}.jpg"
            (config.UPLOADS_DIR / relative).write_bytes(_jpeg(i))
            Product.update(thumbnail_original=relative, thumbnail_state="processing").where(
                Product.id == product.id).execute()
            tasks.process_file_upload.dispatch(product.id, relative)
    elif kind == "notifications":
        for i in range(count):
            review = ProductReview.create(product=catalogue[i % len(catalogue)], decision="approved")
            tasks.notify_product_approved.dispatch(review.id)
    elif kind == "purchases":
        requests = []
        for order_id, session_id, total in orders(customers, catalogue, count):
            intent = standin.add_paid_session(session_id, order_id, total, "USD")
            body = completed_event(order_id, session_id, total, intent)
            requests.append(("POST", f"{shop.url}/webhooks/stripe",
                             {"Stripe-Signature": signed(body, SECRET), "Content-Type": "application/json"},
                             body.encode()))
        load(requests, concurrency=8)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=10000, help="jobs of each kind")
    parser.add_argument("--requests", type=int, default=10000)
    parser.add_argument("--kinds", default="no-op,thumbnails,notifications,purchases")
    parser.add_argument("--arenas", default="2",
                        help="MALLOC_ARENA_MAX for the processes, one shop each: 'default' is glibc's own "
                             "(eight per core), 2 what the worker units set; e.g. default,2")
    parser.add_argument("--json", help="write the results to this file")
    args = parser.parse_args()
    results = []
    for arenas in args.arenas.split(","):
        results.append(measure(args, arenas))
    if args.json:
        import json

        with open(args.json, "w") as handle:
            json.dump({"benchmark": "memory", "results": results}, handle, indent=1)


def measure(args, arenas):
    if arenas == "default":
        os.environ.pop("MALLOC_ARENA_MAX", None)
    else:
        os.environ["MALLOC_ARENA_MAX"] = arenas  # Shop hands it to its processes
    result = {"arenas": arenas, "jobs": args.jobs, "kinds": {}}
    standin = StripeStandIn()
    with Shop("sqlite", STRIPE_SECRET_KEY="sk_test_bench", STRIPE_WEBHOOK_SECRET=SECRET,
              STRIPE_API_BASE=standin.url, JOB_MODULES="bench.noop_jobs") as shop:
        sellers = users("seller", 2, "seller")
        customers = users("customer", 50, "customer")
        catalogue = products(sellers, 40)
        web = shop.start_web()
        consumer = shop.start_consumer(4)
        time.sleep(2)
        print(f"{args.jobs} jobs of each kind, consumer with 4 thread workers (main process RSS), "
              f"MALLOC_ARENA_MAX={'unset' if arenas == 'default' else arenas}", flush=True)
        for kind in args.kinds.split(","):
            warm = max(50, args.jobs // 20)
            _dispatch(kind, warm, shop, standin, catalogue, customers)
            wait_until_idle()
            before = _own_rss(consumer.pid)
            started = time.perf_counter()
            # In quarters: a leak grows in each, a bounded cache filling up only in the first.
            readings = []
            done = 0
            for quarter in range(4):
                count = args.jobs * (quarter + 1) // 4 - done
                _dispatch(kind, count, shop, standin, catalogue, customers)
                done += count
                wait_until_idle()
                readings.append(_own_rss(consumer.pid) - before)
            after = before + readings[-1]
            result["kinds"][kind] = {"before_mb": before, "growth_mb": readings, "seconds": time.perf_counter() - started}
            print(f"  {kind:<14} {before:6.1f} MB -> {after:6.1f} MB  ({after - before:+.1f} MB; at each quarter "
                  f"{', '.join(f'{r:+.1f}' for r in readings)}) in {time.perf_counter() - started:.0f}s", flush=True)

        if args.requests:
            urls = [f"{shop.url}/", f"{shop.url}/?q=guide", f"{shop.url}/products/{catalogue[0].slug}",
                    f"{shop.url}/login", f"{shop.url}/healthz"]
            load([("GET", urls[i % len(urls)], {}, None) for i in range(500)], concurrency=8)
            before = rss_mb(web.pid)
            load([("GET", urls[i % len(urls)], {}, None) for i in range(args.requests)], concurrency=8)
            after = rss_mb(web.pid)
            result["web"] = {"before_mb": before, "growth_mb": after - before}
            print(f"web server (gunicorn, master and workers) after {args.requests} requests: "
                  f"{before:.1f} MB -> {after:.1f} MB ({after - before:+.1f} MB)", flush=True)
    standin.stop()
    return result


def _own_rss(pid):
    with open(f"/proc/{pid}/statm") as handle:
        import os

        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1048576


if __name__ == "__main__":
    main()
