"""Stamped PDFs: a product that asks for it gives each buyer a copy of its PDFs with their
name and email on every page, made once by a job and served by the same download links.
Checked with pdftotext (the email on each page) and qpdf --check."""

import subprocess

import pytest
from fpdf import FPDF

import tasks
from models import DownloadLink, Product, ProductFile, StampedFile
from shop import config
from shop.orders import cart, downloads, orders, stamping
from tests.conftest import login
from tests.shop_fixtures import make_product

PAGES = 3


def book_pdf():
    pdf = FPDF()
    for number in range(1, PAGES + 1):
        pdf.add_page()
        pdf.set_font("helvetica", size=14)
        pdf.cell(text=f"Night photography, page {number}")
    return bytes(pdf.output())


def buy(client, make_user, product, email="casey@example.com", name="Casey Åström"):
    customer = make_user("customer", email=email, name=name)
    cart.add(customer, product.id)
    orders.mark_paid(orders.create_from_cart(customer, "test").id)
    login(client, customer)
    return customer, downloads.url_for(DownloadLink.get(DownloadLink.buyer == customer))


def stamped_product(make_user, stamp=True):
    product = make_product(make_user("seller"), "Night photography", content=book_pdf(), file_name="night.pdf")
    Product.update(stamp_pdfs=stamp).where(Product.id == product.id).execute()
    return product


def page_texts(path):
    return [subprocess.run(["pdftotext", "-f", str(n), "-l", str(n), str(path), "-"], capture_output=True,
                           text=True, check=True).stdout for n in range(1, PAGES + 1)]


@pytest.mark.consumer  # runs pdftotext and qpdf
def test_each_page_of_the_buyers_copy_carries_their_name_and_email(client, make_user, tmp_path):
    product = stamped_product(make_user)
    _, url = buy(client, make_user, product)
    response = client.get(url)
    assert response.status_int == 200 and response.body.startswith(b"%PDF")
    copy = tmp_path / "copy.pdf"
    copy.write_bytes(response.body)
    for number, text in enumerate(page_texts(copy), start=1):
        assert f"page {number}" in text and "casey@example.com" in text and "Casey Åström" in text, text
    check = subprocess.run(["qpdf", "--check", str(copy)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    # Cached: a second download serves the same copy; the seller's own file is untouched.
    assert client.get(url).body == response.body and StampedFile.select().count() == 1
    original = tmp_path / "original.pdf"
    original.write_bytes((config.UPLOADS_DIR / product.file_path).read_bytes())
    assert all("casey@example.com" not in text for text in page_texts(original))
    # The file's own address serves the stamped copy too.
    file_id = ProductFile.get(ProductFile.product == product).id
    assert client.get(f"{url}/files/{file_id}").body == response.body
    assert DownloadLink.get().download_count == 3


@pytest.mark.consumer  # runs pdftotext and qpdf
def test_two_buyers_get_their_own_copies(client, make_user, tmp_path):
    product = stamped_product(make_user)
    _, first_url = buy(client, make_user, product)
    first = client.get(first_url).body
    client.reset()
    _, second_url = buy(client, make_user, product, email="dana@example.com", name="Dana")
    second = client.get(second_url).body
    (tmp_path / "second.pdf").write_bytes(second)
    texts = page_texts(tmp_path / "second.pdf")
    assert first != second and all("dana@example.com" in t and "casey" not in t for t in texts)


def test_a_product_that_does_not_ask_serves_its_file_as_it_is(client, make_user):
    product = stamped_product(make_user, stamp=False)
    _, url = buy(client, make_user, product)
    assert client.get(url).body == (config.UPLOADS_DIR / product.file_path).read_bytes()
    assert StampedFile.select().count() == 0


def test_until_the_job_has_run_the_link_says_to_reload_and_counts_nothing(client, make_user, monkeypatch):
    product = stamped_product(make_user)
    _, url = buy(client, make_user, product)
    asked = []
    monkeypatch.setattr(tasks.stamp_purchased_pdf, "dispatch", lambda *args: asked.append(args))
    response = client.get(url, expect_errors=True)
    assert response.status_int == 503 and response.headers["Retry-After"] == "30"
    assert "being stamped with your name" in response.text
    item_id = DownloadLink.get().order_item_id
    assert asked == [(item_id, ProductFile.get().id)] and DownloadLink.get().download_count == 0


def test_the_job_run_twice_keeps_one_copy(make_user, client):
    product = stamped_product(make_user)
    buy(client, make_user, product)
    item_id, file_id = DownloadLink.get().order_item_id, ProductFile.get().id
    first = stamping.stamp(item_id, file_id)
    again = stamping.stamp(item_id, file_id)
    assert first.id == again.id and StampedFile.select().count() == 1
    assert len(list((config.UPLOADS_DIR / "stamped").iterdir())) == 1


def test_stamping_that_outlives_its_time_is_killed_and_leaves_nothing(make_user, client):
    from job_runtime import JobTimeout

    product = stamped_product(make_user)
    buy(client, make_user, product)
    item_id, file_id = DownloadLink.get().order_item_id, ProductFile.get().id
    with pytest.raises(JobTimeout):
        stamping.stamp(item_id, file_id, timeout=0.01)
    assert StampedFile.select().count() == 0 and not (config.UPLOADS_DIR / "stamped").exists()
