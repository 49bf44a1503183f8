"""Bulk data for the benchmarks: sellers, products with real files, customers, orders."""

import json
import uuid
from pathlib import Path

import stripe

from shop import config
from shop import security
from shop.catalog import search
from models import Order, OrderItem, Product, ProductSearch, User, db, slugify, utcnow

FIXTURE = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "stripe" / "checkout_session_completed.json"


def users(role, count, prefix):
    password = security.hash_password("bench-password-1")
    rows = [{"email": f"{prefix}{i}@bench.example", "name": f"{role.title()} {i}", "role": role,
             "password_hash": password, "created_at": utcnow()} for i in range(count)]
    with db.atomic():
        for chunk in range(0, len(rows), 500):
            User.insert_many(rows[chunk:chunk + 500]).execute()
    return list(User.select().where(User.email.startswith(prefix)).order_by(User.id))


WORDS = ("guide", "pack", "template", "loops", "presets", "icons", "planner", "course", "fonts", "textures",
         "recipes", "charts", "wallpapers", "journal", "sketches", "brushes")


def products(sellers, count, with_files=True):
    config.UPLOADS_DIR.mkdir(parents=True, exist_ok=True)
    now = utcnow()
    rows = []
    for i in range(count):
        seller = sellers[i % len(sellers)]
        title = f"{WORDS[i % len(WORDS)].title()} {WORDS[(i * 7) % len(WORDS)]} no. {i}"
        relative = f"bench-{uuid.uuid4().hex}.zip"
        if with_files:
            (config.UPLOADS_DIR / relative).write_bytes(f"file of product {i}\n".encode() * 50)
        rows.append({"seller": seller.id, "title": title, "slug": f"{slugify(title)}-{i}",
                     "description": f"A {WORDS[i % len(WORDS)]} for people who make things. Item {i}.",
                     "price": 500 + (i * 37) % 4500, "currency": "USD", "status": "approved",
                     "file_path": relative, "file_name": f"product-{i}.zip", "file_size": 1000,
                     "created_at": now, "updated_at": now, "approved_at": now, "thumbnails": {}})
    with db.atomic():
        for chunk in range(0, len(rows), 500):
            Product.insert_many(rows[chunk:chunk + 500]).execute()
    # These sellers' products only: a shop may hold others already (bench/big_shop.py).
    made = list(Product.select().where(Product.seller.in_([s.id for s in sellers])).order_by(Product.id))
    index_for_search(made, {seller.id: seller.name for seller in sellers})
    return made


def index_for_search(products_, seller_names, tags_of=None):
    """The search rows of approved products loaded around the shop's code, in bulk: what
    shop.catalog.search.refresh would write for each, without a query per product."""
    tags_of = tags_of or {}
    rows = [{"product": p.id, "title": search.folded(p.title), "seller": search.folded(seller_names[p.seller_id]),
             "tags": search.folded(" ".join(tags_of.get(p.id, ()))), "body": search.folded(p.description)}
            for p in products_ if p.status == "approved"]
    with db.atomic():
        for chunk in range(0, len(rows), 500):
            ProductSearch.delete().where(ProductSearch.product.in_(
                [row["product"] for row in rows[chunk:chunk + 500]])).execute()
            ProductSearch.insert_many(rows[chunk:chunk + 500]).execute()


def orders(customers, products_, count, per_order=2, gateway="stripe", status="pending"):
    """`count` orders of `per_order` products from different sellers; returns [(order id, session id, total)]."""
    made = []
    with db.atomic():
        for i in range(count):
            chosen = [products_[(i * per_order + k) % len(products_)] for k in range(per_order)]
            total = sum(p.price for p in chosen)
            session_id = f"cs_bench_{uuid.uuid4().hex}"
            order = Order.create(reference=f"MP-{uuid.uuid4().hex[:16].upper()}", buyer=customers[i % len(customers)],
                                 status=status, gateway=gateway, gateway_ref=session_id, total=total,
                                 currency="USD", paid_at=utcnow() if status == "paid" else None)
            OrderItem.insert_many([{"order": order.id, "product": p.id, "seller": p.seller_id, "title": p.title,
                                    "price": p.price, "currency": "USD"} for p in chosen]).execute()
            made.append((order.id, session_id, total))
    return made


def completed_event(order_id, session_id, total, intent_id):
    """checkout.session.completed, from Stripe's own fixture, describing one of our orders."""
    event = json.loads(FIXTURE.read_text())
    event["id"] = f"evt_{uuid.uuid4().hex[:24]}"
    obj = event["data"]["object"]
    obj.update(id=session_id, client_reference_id=str(order_id), metadata={"order_id": str(order_id)},
               amount_total=total, amount_subtotal=total, currency="usd", payment_intent=intent_id,
               payment_status="paid", status="complete")
    return json.dumps(event)


def signed(body, secret):
    return stripe.WebhookSignature.generate_signature_header(body, secret)
