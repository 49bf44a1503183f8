"""Webhook ingest alone: distinct signed Stripe events posted by 50 concurrent
senders to the production setup (gunicorn, as `marketplace serve` runs it), no
consumer running. Each request verifies the signature, stores the event once
and dispatches process_webhook (a job record and a doorbell).

Two phases: the senders post as fast as the server answers (its capacity; with
closed-loop senders the mean latency is then senders / rate, by Little's law),
then the same senders at a steady half of that rate, the latency a shop sees
when it is busy but not saturated.

    python bench/ingest.py [--backends sqlite,postgres-redis] [--events 5000] [--steady 3000] [--concurrency 50]
"""

import argparse

from common import Shop, load, summary
from shop_data import completed_event, orders, products, signed, users

SECRET = "whsec_bench_ingest"


def run(backends, events, steady, concurrency):
    with Shop(backends, STRIPE_SECRET_KEY="sk_test_bench", STRIPE_WEBHOOK_SECRET=SECRET,
              STRIPE_API_BASE="http://127.0.0.1:9") as shop:
        sellers = users("seller", 2, "seller")
        customers = users("customer", 20, "customer")
        made = orders(customers, products(sellers, 20, with_files=False), events + steady)
        shop.start_web()
        requests = []
        for order_id, session_id, total in made:
            body = completed_event(order_id, session_id, total, f"pi_{session_id[3:]}")
            requests.append(("POST", f"{shop.url}/webhooks/stripe",
                             {"Stripe-Signature": signed(body, SECRET), "Content-Type": "application/json"},
                             body.encode()))
        load(requests[:200], concurrency)  # warm up: connections, imports, caches
        result = summary(*load(requests[200:events], concurrency))
        rate = result["rps"] / 2
        paced = summary(*load(requests[events:], concurrency, rate=rate))
        result.update({f"steady_{key}": value for key, value in paced.items()}, steady_rate=rate)
        from models import WebhookEvent

        result["stored"] = WebhookEvent.select().count()
        return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite,postgres-redis")
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--steady", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=50)
    args = parser.parse_args()
    for backends in args.backends.split(","):
        r = run(backends, args.events, args.steady, args.concurrency)
        print(f"{backends:>15}: {r['requests']} webhooks, {r['rps']:.0f}/s, p50 {r['p50_ms']:.1f} ms, "
              f"p99 {r['p99_ms']:.1f} ms (mean {r['mean_ms']:.1f} ms), {r['errors']} errors; "
              f"at a steady {r['steady_rate']:.0f}/s: p50 {r['steady_p50_ms']:.1f} ms, "
              f"p99 {r['steady_p99_ms']:.1f} ms, {r['steady_errors']} errors; {r['stored']} events stored "
              f"({args.concurrency} senders)")


if __name__ == "__main__":
    main()
