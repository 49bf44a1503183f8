"""The demo shop that `make run` loads: accounts, products with real covers and files."""

import hashlib
import io
import zipfile

from PIL import Image

from shop import config
from shop.operations import demo
from models import Notification, Product, ProductReview, User
from tests.conftest import login


def test_demo_shop(client, capsys, app_env):
    assert demo.load() is True
    assert demo.load() is False  # never into a database that has users

    roles = {user.email: user.role for user in User.select()}
    assert roles == {"admin@example.com": "admin", "sam@example.com": "seller",
                     "priya@example.com": "seller", "casey@example.com": "customer"}

    approved = list(Product.select().where(Product.status == "approved"))
    assert len(approved) >= 12
    assert {p.seller.email for p in approved} == {"sam@example.com", "priya@example.com"}
    assert Product.select().where(Product.status == "pending").count() == 2
    covers = set()
    for product in Product.select():
        assert isinstance(product.price, int) and product.price > 0 and product.currency == config.CURRENCY
        # A real thumbnail in every width, made by the pipeline.
        assert product.thumbnail_state == "ready", product.title
        assert sorted(product.thumbnails, key=int) == ["160", "480", "960"]
        with Image.open(config.MEDIA_DIR / product.thumbnails["960"]) as image:
            assert image.format == "WEBP" and image.size == (960, 720)
            covers.add(hashlib.sha256(image.tobytes()).hexdigest())
        # A real product file behind it.
        data = (config.UPLOADS_DIR / product.file_path).read_bytes()
        assert len(data) == product.file_size and hashlib.sha256(data).hexdigest() == product.file_sha256
        if product.file_name.endswith(".pdf"):
            assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
        else:
            assert product.file_name.endswith(".zip")
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                assert archive.testzip() is None and len(archive.namelist()) >= 2
    assert len(covers) == Product.select().count()  # every cover is its own
    assert ProductReview.select().where(ProductReview.decision == "approved").count() == len(approved)

    # The shop's first page is full of products with their pictures.
    page = client.get("/")
    cards = page.html.select("article.product-card")
    assert len(cards) == 12 and all(card.select_one("img.thumb") for card in cards)
    assert client.get(cards[0].select_one("img.thumb")["src"]).content_type == "image/webp"

    # The sellers find a little history on their notifications page; nobody was mailed.
    assert Notification.select().where(Notification.type == "product_rejected").count() == 1
    assert app_env.mails == []
    response = login(client, "sam@example.com", demo.DEMO_PASSWORD)
    assert response.status_int == 303
    seller_page = client.get("/seller/products")
    assert "Not approved" in seller_page.text and "Waiting for review" in seller_page.text

    demo.print_logins()
    printed = capsys.readouterr().out
    assert demo.DEMO_PASSWORD in printed and "priya@example.com" in printed
