"""Memory: the consumer's RSS before and after many jobs of each kind, and the web
server's after many requests. Growth is measured from a warmed-up process (its
first jobs and requests load modules and fill caches once).

    python bench/memory.py [--jobs 10000] [--requests 10000] [--kinds no-op,thumbnails,notifications,purchases]

Job kinds: a no-op job, thumbnails (process_file_upload), notifications
(notify_product_approved), and whole purchases (process_webhook,
process_purchase, generate_invoice, send_invoice_email, from signed webhooks).
"""

import argparse
import io
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
    args = parser.parse_args()
    standin = StripeStandIn()
    with Shop("sqlite", STRIPE_SECRET_KEY="sk_test_bench", STRIPE_WEBHOOK_SECRET=SECRET,
              STRIPE_API_BASE=standin.url, JOB_MODULES="bench.noop_jobs") as shop:
        sellers = users("seller", 2, "seller")
        customers = users("customer", 50, "customer")
        catalogue = products(sellers, 40)
        web = shop.start_web()
        consumer = shop.start_consumer(4)
        time.sleep(2)
        print(f"{args.jobs} jobs of each kind, consumer with 4 thread workers (main process RSS)")
        for kind in args.kinds.split(","):
            warm = max(50, args.jobs // 20)
            _dispatch(kind, warm, shop, standin, catalogue, customers)
            wait_until_idle()
            before = _own_rss(consumer.pid)
            started = time.perf_counter()
            # In two halves: a leak grows in both, a bounded cache filling up only in the first.
            half = args.jobs // 2
            _dispatch(kind, half, shop, standin, catalogue, customers)
            wait_until_idle()
            middle = _own_rss(consumer.pid)
            _dispatch(kind, args.jobs - half, shop, standin, catalogue, customers)
            wait_until_idle()
            after = _own_rss(consumer.pid)
            print(f"  {kind:<14} {before:6.1f} MB -> {after:6.1f} MB  ({after - before:+.1f} MB: "
                  f"{middle - before:+.1f} in the first half, {after - middle:+.1f} in the second) "
                  f"in {time.perf_counter() - started:.0f}s")

        urls = [f"{shop.url}/", f"{shop.url}/?q=guide", f"{shop.url}/products/{catalogue[0].slug}",
                f"{shop.url}/login", f"{shop.url}/healthz"]
        load([("GET", urls[i % len(urls)], {}, None) for i in range(500)], concurrency=8)
        before = rss_mb(web.pid)
        load([("GET", urls[i % len(urls)], {}, None) for i in range(args.requests)], concurrency=8)
        after = rss_mb(web.pid)
        print(f"web server (gunicorn, master and workers) after {args.requests} requests: "
              f"{before:.1f} MB -> {after:.1f} MB ({after - before:+.1f} MB)")
    standin.stop()


def _own_rss(pid):
    with open(f"/proc/{pid}/statm") as handle:
        import os

        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1048576


if __name__ == "__main__":
    main()
