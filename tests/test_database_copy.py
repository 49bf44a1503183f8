"""`marketplace copy-database`: a shop on SQLite moves to PostgreSQL and Redis
the way DEPLOY.md describes it, and carries on where it stopped."""

import subprocess
import uuid

import pytest

import job_runtime
from shop import runtime
import models
from job_runtime.models import JobRecord
from models import Product, ProductReview, User, utcnow
from tests.conftest import BIN, POSTGRES_ADMIN_URL, ROOT, create_schema, need_postgres, need_redis, wait_for
from tests.sample_jobs import effect_done, make_effect


def copy_command(app_env, *args):
    return subprocess.run([str(BIN / "marketplace"), "copy-database", *args], cwd=ROOT, capture_output=True,
                          text=True, env=dict(app_env.environ, PYTHONPATH=str(ROOT)), timeout=120)


def table_counts():
    return {m._meta.table_name: m.select().count() for m in models.all_models()}


@pytest.mark.consumer
@pytest.mark.postgres
@pytest.mark.redis
def test_a_sqlite_shop_moves_to_postgresql_and_redis_and_carries_on(app_env, make_user, consumer):
    need_postgres()
    need_redis()
    import psycopg

    # The shop as it started: SQLite for the data and the queue.
    sqlite_url = f"sqlite:///{app_env.data_dir / 'marketplace.db'}"
    app_env.reload(DATABASE_URL=sqlite_url, QUEUE_CONNECTION="sqlite")
    models.init_db(sqlite_url)
    create_schema()
    admin = make_user("admin", email="owner@example.com")
    seller = make_user("seller", email="maker@example.com")
    approved_at = utcnow()
    product = Product.create(seller=seller, title="Field Recordings", slug="field-recordings", price=1999,
                             currency="USD", status="approved", approved_at=approved_at,
                             thumbnails={"160": "media/ab-160.webp"}, thumbnail_state="ready")
    ProductReview.create(product=product, admin=admin, decision="approved")
    job_runtime.huey.immediate = False
    runtime.setup_job_runtime()
    make_effect.dispatch("waiting-1")  # queued, never run on the old setup
    make_effect.dispatch("waiting-2")
    before = table_counts()
    assert before["job"] == 2 and before["user"] == 2

    target = f"marketplace_move_{uuid.uuid4().hex[:8]}"
    target_url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/" + target
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin_conn:
        admin_conn.execute(f'CREATE DATABASE "{target}"')
    try:
        result = copy_command(app_env, target_url)
        assert result.returncode == 0, result.stderr
        assert "product: 1 rows" in result.stdout

        # DEPLOY.md: DATABASE_URL to PostgreSQL, QUEUE_CONNECTION=redis, start again.
        app_env.reload(DATABASE_URL=target_url, QUEUE_CONNECTION="redis")
        models.init_db(target_url)
        assert table_counts() == before
        moved = Product.get(Product.slug == "field-recordings")
        assert moved.seller.email == "maker@example.com" and moved.price == 1999
        assert moved.thumbnails == {"160": "media/ab-160.webp"} and moved.approved_at == approved_at
        assert moved.reviews.get().admin.email == "owner@example.com"
        newcomer = make_user("customer", email="new@example.com")  # ids continue past the copied ones
        assert newcomer.id == max(u.id for u in User.select())

        # The jobs that were waiting run on the new queue: the sweeper rings them again.
        consumer(workers=2)
        wait_for(lambda: effect_done("waiting-1") and effect_done("waiting-2"), timeout=60,
                 message="the waiting jobs to run after the move")
        wait_for(lambda: JobRecord.select().where((JobRecord.name == "make_effect")
                                                  & (JobRecord.state == "completed")).count() == 2,
                 message="both recorded as completed")

        again = copy_command(app_env, target_url, "--from", sqlite_url)
        assert again.returncode == 1 and "already holds data" in again.stderr
    finally:
        try:
            job_runtime.huey.storage.flush_all()
        finally:
            models.db.close()
            with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin_conn:
                admin_conn.execute(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)')
