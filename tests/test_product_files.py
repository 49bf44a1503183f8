"""Several files per product: the seller adds and removes them, buyers download each one or
all as one ZIP through their link, and the link's first URL still serves the first file."""

import io
import zipfile

from shop import config
from models import DownloadLink, Product, ProductFile
from shop.orders import cart, downloads, orders
from tests.catalog_helpers import form_for, uploaded_files
from tests.conftest import login
from tests.shop_fixtures import make_product

FIRST = b"%PDF-1.4 the book\n" * 100


def submit_new(client, extra):
    form = form_for(client.get("/seller/products/new"), "/seller/products")
    form["title"], form["description"], form["price"] = "Night photography", "A book and its presets.", "9"
    response = client.post("/seller/products", dict(form.submit_fields()),
                           upload_files=[("file", "book.pdf", FIRST)] + [("extra_files", n, d) for n, d in extra],
                           expect_errors=True)
    return response


def test_a_seller_sells_several_files_adds_and_removes_them(client, login_as):
    login_as("seller")
    submit_new(client, [("presets.zip", b"PK presets" * 50), ("book.pdf", b"%PDF second copy" * 10)]).follow()
    product = Product.get()
    files = list(ProductFile.select().order_by(ProductFile.position))
    assert [(f.position, f.name) for f in files] == [(0, "book.pdf"), (1, "presets.zip"), (2, "book.pdf")]
    assert product.file_path == files[0].path and product.file_size == len(FIRST)
    assert len(uploaded_files()) == 3
    # The edit form lists the extra files with a way to remove each; a new one can be added.
    page = client.get(f"/seller/products/{product.id}/edit")
    form = form_for(page, f"/seller/products/{product.id}/edit")
    fields = dict(form.submit_fields())
    fields["remove_file"] = str(files[1].id)
    client.post(f"/seller/products/{product.id}/edit", fields,
                upload_files=[("extra_files", "bonus.txt", b"bonus")]).follow()
    assert [f.name for f in ProductFile.select().order_by(ProductFile.position)] == ["book.pdf", "book.pdf",
                                                                                      "bonus.txt"]
    assert len(uploaded_files()) == 3  # the removed file's upload is gone after the commit


def test_too_many_or_empty_extra_files_are_form_errors_that_keep_nothing(client, login_as):
    login_as("seller")
    response = submit_new(client, [(f"f{i}.bin", b"x") for i in range(10)])
    assert response.status_int == 400 and "at most 10 files" in response.text
    response = submit_new(client, [("empty.bin", b"")])
    assert response.status_int == 400 and "is empty" in response.text
    assert Product.select().count() == 0 and uploaded_files() == []


def buy(client, make_user, product):
    customer = make_user("customer")
    cart.add(customer, product.id)
    orders.mark_paid(orders.create_from_cart(customer, "test").id)
    login(client, customer)
    return downloads.url_for(DownloadLink.get())


def test_buyers_download_each_file_or_all_as_one_zip_each_counted_once(client, make_user):
    product = make_product(make_user("seller"), "Night photography", content=FIRST, file_name="book.pdf")
    ProductFile.create(product=product, position=1, name="book.pdf", path=product.file_path + ".2", size=6)
    (config.UPLOADS_DIR / (product.file_path + ".2")).write_bytes(b"second")
    url = buy(client, make_user, product)
    page = client.get("/purchases")
    hrefs = [a["href"] for a in page.html.select(".purchase-items a")]
    assert hrefs[0].endswith("/all.zip") and len([h for h in hrefs if "/files/" in h]) == 2
    # The link's own address still serves the first file, as links made before did.
    assert client.get(url).body == FIRST
    second = next(h for h in hrefs if h.endswith(f"/files/{ProductFile.get(ProductFile.position == 1).id}"))
    assert client.get(second).body == b"second"
    response = client.get(url + "/all.zip")
    assert response.headers["Content-Disposition"].startswith('attachment; filename="Night photography.zip"')
    archive = zipfile.ZipFile(io.BytesIO(response.body))
    assert archive.namelist() == ["book.pdf", "book (2).pdf"] and archive.read("book (2).pdf") == b"second"
    assert archive.testzip() is None
    assert DownloadLink.get().download_count == 3
    # Another product's file is not reachable through this link.
    other = make_product(make_user("seller"), "Other")
    other_file = ProductFile.get(ProductFile.product == other)
    assert client.get(f"{url}/files/{other_file.id}", expect_errors=True).status_int == 404
    assert DownloadLink.get().download_count == 3


def test_someone_elses_link_refuses_every_file_and_the_zip(client, make_user):
    product = make_product(make_user("seller"), "Night photography", content=FIRST)
    url = buy(client, make_user, product)
    client.reset()
    login(client, make_user("customer"))
    file_id = ProductFile.get().id
    for path in (f"{url}/files/{file_id}", f"{url}/all.zip"):
        assert client.get(path, expect_errors=True).status_int == 403
    assert DownloadLink.get().download_count == 0
