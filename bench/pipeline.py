"""The purchase pipeline, end to end: distinct signed Stripe webhooks posted to
the web server (gunicorn), then process_webhook (verifying with the Stripe API,
here a local stand-in), PurchaseCompleted -> process_purchase (ledger, download
links, emails) and generate_invoice -> send_invoice_email, on a consumer with
4 thread workers.

    python bench/pipeline.py [--backends sqlite,postgres-redis] [--purchases 1000] [--steady 300]
                             [--consumers 1,2,4] [--arenas default,2] [--json out.json]
                             [--invoice-delivery attach|link]

Throughput: every webhook posted as fast as the server takes them (16
connections), timed until every order has its download links and its invoice
PDF (with --invoice-delivery link, the shop's INVOICE_DELIVERY: until every order has
its download links and its invoice's email, the PDF being left for its first
download). Latency: a steady 10 purchases per second; for each, the time from posting
the webhook to its first download link in the database.

--consumers 1,2,4 runs the throughput phase once per count, each a shop of its own
with that many `huey_consumer tasks.huey -w 4` processes on the one queue (the
extra ones with -n, as marketplace-worker@.service runs them). --arenas default,2
runs each with glibc's default malloc arenas and with MALLOC_ARENA_MAX=2 (what
the worker units set). --json writes every result to a file (bench/charts.py).
"""

import argparse
import datetime
import json
import time

from common import Shop, cpu_seconds, load, percentile, wait_until_idle
from shop_data import completed_event, orders, products, signed, users
from stripe_standin import StripeStandIn

SECRET = "whsec_bench_pipeline"


def _post_requests(shop, standin, batch):
    requests = []
    for order_id, session_id, total in batch:
        intent = standin.add_paid_session(session_id, order_id, total, "USD")
        body = completed_event(order_id, session_id, total, intent)
        requests.append(("POST", f"{shop.url}/webhooks/stripe",
                         {"Stripe-Signature": signed(body, SECRET), "Content-Type": "application/json"},
                         body.encode()))
    return requests


def _cpu_seconds(pids):
    """User and system CPU of these processes and their children (the PDF children too)."""
    return sum(cpu_seconds(pid) for pid in pids)


def _done(order_ids, delivery="attach"):
    from models import DownloadLink, Invoice, OrderItem, OutboundMail

    items = OrderItem.select(OrderItem.id).where(OrderItem.order.in_(order_ids))
    links = DownloadLink.select().where(DownloadLink.order_item.in_(items)).count()
    if delivery == "link":  # the invoice's email sent, its PDF not drawn yet
        keys = [f"invoice:{order_id}" for order_id in order_ids]
        invoices = OutboundMail.select().where(OutboundMail.key.in_(keys) & OutboundMail.sent_at.is_null(False)).count()
    else:
        invoices = Invoice.select().where(Invoice.order.in_(order_ids) & Invoice.pdf_path.is_null(False)).count()
    return links, invoices


def run(backends, purchases, steady, consumers=1, arenas="default", prepare=None, finish=None,
        delivery="attach"):
    """One shop. prepare(shop), if given, fills it before the clock starts; finish(shop) runs
    after the throughput phase, its dict added to the result (bench/big_shop.py)."""
    standin = StripeStandIn()
    settings = {} if arenas == "default" else {"MALLOC_ARENA_MAX": arenas}
    settings["INVOICE_DELIVERY"] = delivery
    with Shop(backends, STRIPE_SECRET_KEY="sk_test_bench", STRIPE_WEBHOOK_SECRET=SECRET,
              STRIPE_API_BASE=standin.url, **settings) as shop:
        if arenas == "default":
            shop.env.pop("MALLOC_ARENA_MAX", None)
        if prepare:
            prepare(shop)
        sellers = users("seller", 2, "seller")
        customers = users("customer", 50, "customer")
        catalogue = products(sellers, 20)
        burst = orders(customers, catalogue, purchases)
        paced = orders(customers, catalogue, steady)
        web = shop.start_web()
        workers = [shop.start_consumer(4).pid]
        for _ in range(consumers - 1):
            workers.append(shop.start_consumer(4, "-n").pid)  # one scheduler of periodic jobs, as deployed
        time.sleep(2 + consumers)  # the consumers' imports and first sweep

        # Throughput.
        ids = [o[0] for o in burst]
        requests = _post_requests(shop, standin, burst)
        cpu_before = _cpu_seconds(workers)
        web_before = cpu_seconds(web.pid)
        start = time.perf_counter()
        elapsed, latencies, errors = load(requests, concurrency=16)
        posted = time.perf_counter() - start
        while True:
            links, invoices = _done(ids, delivery)
            if links == 2 * len(ids) and invoices == len(ids):
                break
            if time.perf_counter() - start > 900:
                raise SystemExit(f"gave up: {links} links and {invoices} invoices after 15 minutes")
            time.sleep(0.2)
        total = time.perf_counter() - start
        cpu = _cpu_seconds(workers) - cpu_before
        result = {"consumer_cpu_ms_per_purchase": cpu * 1000 / purchases,
                  "web_cpu_ms_per_purchase": (cpu_seconds(web.pid) - web_before) * 1000 / purchases,
                  "backends": backends, "consumers": consumers, "arenas": arenas,
                  "invoice_delivery": delivery,
                  "purchases": purchases, "posted_in_s": posted, "all_done_in_s": total,
                  "purchases_per_s": purchases / total, "webhook_errors": len(errors),
                  "webhook_p99_ms": percentile(latencies, 0.99) * 1000}
        if finish:
            result.update(finish(shop) or {})
        if not steady:
            standin.stop()
            return result

        # Latency at a steady 10 per second, from an idle consumer: the burst's last
        # jobs (its invoice emails) would otherwise still be ahead of the first purchases.
        wait_until_idle()
        from models import DownloadLink, OrderItem, utcnow

        requests = _post_requests(shop, standin, paced)
        sent_at = {}
        schedule_start = utcnow()
        for index, (order_id, _, _) in enumerate(paced):
            sent_at[order_id] = schedule_start + datetime.timedelta(seconds=index / 10)
        load(requests, concurrency=4, rate=10)
        ids = [o[0] for o in paced]
        deadline = time.perf_counter() + 120
        while _done(ids)[0] < 2 * len(ids) and time.perf_counter() < deadline:
            time.sleep(0.2)
        first_link = {}
        for link, order_id in (DownloadLink.select(DownloadLink, OrderItem.order).join(OrderItem)
                               .where(OrderItem.order.in_(ids)).tuples()
                               .select(DownloadLink.created_at, OrderItem.order)):
            first_link[order_id] = min(first_link.get(order_id, link), link)
        waits = [(first_link[o] - sent_at[o]).total_seconds() for o in ids if o in first_link]
        result.update(steady_purchases=len(waits), latency_p50_s=percentile(waits, 0.5),
                      latency_p95_s=percentile(waits, 0.95), latency_max_s=max(waits) if waits else float("nan"))
    standin.stop()
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite,postgres-redis")
    parser.add_argument("--purchases", type=int, default=1000)
    parser.add_argument("--steady", type=int, default=300)
    parser.add_argument("--consumers", default="1", help="consumer process counts, e.g. 1,2,4")
    parser.add_argument("--arenas", default="default", help="MALLOC_ARENA_MAX values, e.g. default,2")
    parser.add_argument("--json", help="write the results to this file")
    parser.add_argument("--invoice-delivery", choices=("attach", "link"), default="attach",
                        help="the shop's INVOICE_DELIVERY")
    args = parser.parse_args()
    results = []
    for backends in args.backends.split(","):
        for consumers in map(int, args.consumers.split(",")):
            for arenas in args.arenas.split(","):
                # The latency phase belongs to the shop as deployed by default: one consumer.
                steady = args.steady if consumers == 1 else 0
                r = run(backends, args.purchases, steady, consumers, arenas, delivery=args.invoice_delivery)
                results.append(r)
                print(report(r), flush=True)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"benchmark": "pipeline", "results": results}, handle, indent=1)


def report(r):
    line = (f"{r['backends']:>15}, {r['consumers']} consumer{'s' if r['consumers'] > 1 else ''}"
            f"{'' if r['arenas'] == 'default' else ', MALLOC_ARENA_MAX=' + r['arenas']}"
            f"{', INVOICE_DELIVERY=link' if r.get('invoice_delivery') == 'link' else ''}: "
            f"{r['purchases']} purchases in {r['all_done_in_s']:.1f}s = "
            f"{r['purchases_per_s']:.1f}/s (webhooks posted in {r['posted_in_s']:.1f}s, "
            f"p99 {r['webhook_p99_ms']:.0f} ms, {r['webhook_errors']} errors; "
            f"CPU a purchase: consumer {r['consumer_cpu_ms_per_purchase']:.1f} ms, "
            f"web {r['web_cpu_ms_per_purchase']:.1f} ms)")
    if "steady_purchases" in r:
        line += (f"; at 10/s: webhook to download link p50 {r['latency_p50_s']:.2f}s "
                 f"p95 {r['latency_p95_s']:.2f}s max {r['latency_max_s']:.2f}s ({r['steady_purchases']} purchases)")
    return line


if __name__ == "__main__":
    main()
