"""Invoices: sequential numbers given once, a PDF that reads as an invoice, drawn in a child
process; only the buyer and admins may fetch it; the button makes it when it is missing."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from shop.orders import cart
from shop.orders import invoice_pdf
from shop.orders import invoices
import job_runtime
from shop.orders import orders
import tasks
from job_runtime.models import JobRecord
from models import Invoice, Order, utcnow
from shop.storage import storage
from tests.conftest import login
from tests.shop_fixtures import make_product


# The first invoice of this year's series.
FIRST = f"INV-{utcnow().year}-000001"


def paid_order(customer, products, gateway="test"):
    for product in products:
        cart.add(customer, product.id)
    order = orders.create_from_cart(customer, gateway)
    orders.mark_paid(order.id, payment_ref="pi_test_123")
    return Order.get_by_id(order.id)


def pdf_text(path):
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) is not installed")
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def pdf_pages(path):
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))


@pytest.fixture
def shop(make_user):
    sam = make_user("seller", name="Sam Seller", email="sam@example.com")
    priya = make_user("seller", name="Priya Patel", email="priya@example.com")
    customer = make_user("customer", name="Casey Customer", email="casey@example.com")
    return {"sam": sam, "priya": priya, "customer": customer,
            "presets": make_product(sam, "Field recorder presets", 1500),
            "ebook": make_product(priya, "Night photography e-book", 999)}


def pdf_file(invoice):
    """The invoice's PDF on the local disk (these tests run on the default storage)."""
    key = invoices.pdf_key(invoice)
    return key and storage().local_path(key)


def test_an_invoice_reads_as_an_invoice(shop):
    order = paid_order(shop["customer"], [shop["presets"], shop["ebook"]])
    invoice = invoices.generate(order.id)
    path = pdf_file(invoice)
    assert path.read_bytes().startswith(b"%PDF-") and invoice.pdf_size == path.stat().st_size
    text = pdf_text(path)
    for expected in ("INVOICE", invoice.label, order.reference, "Casey Customer", "casey@example.com",
                     "Field recorder presets", "Night photography e-book", "Sam Seller", "Priya Patel",
                     "$15.00", "$9.99", "Total paid", "$24.99", "Test payment (no money moves)",
                     "pi_test_123", "SELLERS", "priya@example.com"):
        assert expected in text, expected
    assert pdf_pages(path) == 1


def test_numbers_are_sequential_and_given_once(shop, make_user):
    first = paid_order(shop["customer"], [shop["presets"]])
    second = paid_order(make_user("customer"), [shop["ebook"]])
    assert invoices.generate(second.id).number == 1
    assert invoices.generate(first.id).number == 2
    assert invoices.generate(second.id).number == 1  # already made: the same invoice
    invoice = Invoice.get(Invoice.order == first)
    pdf_file(invoice).unlink()
    again = invoices.generate(first.id)
    assert again.number == 2 and pdf_file(again) is not None
    assert Invoice.select().count() == 2


def pdf_fonts(path):
    """(name, embedded) of every font in the PDF, as pdffonts (poppler-utils) lists them."""
    if not shutil.which("pdffonts"):
        pytest.skip("pdffonts (poppler-utils) is not installed")
    listing = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    rows = listing.splitlines()[2:]  # a heading and a rule of dashes come first
    # Columns: name type encoding emb sub uni object ID; the type may hold a space.
    return [(row.split()[0], row.split()[-5] == "yes") for row in rows]


def test_rupees_print_with_their_sign(shop, make_user, app_env):
    product = make_product(shop["sam"], "Tabla loops", 49900, "INR")
    order = paid_order(shop["customer"], [product])
    assert "₹499.00" in pdf_text(pdf_file(invoices.generate(order.id)))


@pytest.mark.parametrize("title, price, currency", [("Field recorder presets", 1500, "USD"),
                                                     ("Śiva — a reader", 49900, "INR")])
def test_every_font_of_the_invoice_is_embedded(shop, title, price, currency):
    """Plain Latin or not, the PDF carries its font: a viewer's substitute for a core font
    has other widths and pushes the text past the margins."""
    order = paid_order(shop["customer"], [make_product(shop["sam"], title, price, currency)])
    path = pdf_file(invoices.generate(order.id))
    fonts = pdf_fonts(path)
    assert fonts and all(embedded for _name, embedded in fonts), fonts
    assert {name.split("+")[-1] for name, _embedded in fonts} == {"DejaVuSansBook", "DejaVuSansBold"}
    text = pdf_text(path)
    for expected in (title, "Casey Customer", "casey@example.com", "BILLED TO", "INVOICE", FIRST,
                     order.reference, "Sam Seller", "Total paid", "Thank you for your purchase."):
        assert expected in text, expected


def test_the_font_travels_with_the_shop():
    for path in invoices.font_paths().values():
        assert Path(path).is_file() and Path(path).is_relative_to(Path(invoices.__file__).parent)
    assert "Bitstream Vera" in (Path(invoices.__file__).parent / "fonts" / "LICENSE").read_text()


def comparable(path):
    """The PDF's bytes without its creation date and file identifier, which differ every time."""
    return re.sub(rb"/ID \[<[0-9A-F]+><[0-9A-F]+>\]|D:\d{14}Z", b"", Path(path).read_bytes())


def pdf_image(path):
    if not shutil.which("pdftoppm"):
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    return subprocess.run(["pdftoppm", "-r", "40", "-png", "-singlefile", str(path)], capture_output=True,
                          check=True).stdout


def test_documents_drawn_one_after_another_are_each_whole(shop, tmp_path, monkeypatch):
    """The warm child keeps the parsed font between documents: each document still gets
    its own subset, with every glyph it uses and none of the one before's."""
    documents = {}
    for key, title in (("latin", "Field recorder presets"), ("cyrillic", "Кириллица и Ελληνικά"),
                       ("accents", "Śiva — a reader")):
        order = paid_order(shop["customer"], [make_product(shop["sam"], title)])
        documents[key] = (title, invoices.invoice_data(invoices.generate(order.id)))
    alone = {}
    for key, (_title, data) in documents.items():
        monkeypatch.setattr(invoice_pdf, "_parsed_fonts", {})  # as a fresh child
        alone[key] = tmp_path / f"{key}-alone.pdf"
        invoice_pdf.render_pdf(data, str(alone[key]))
    monkeypatch.setattr(invoice_pdf, "_parsed_fonts", {})
    for number, key in enumerate(("latin", "cyrillic", "accents", "latin", "accents")):
        title, data = documents[key]
        path = tmp_path / f"{number}-{key}.pdf"
        assert invoice_pdf.render_pdf(data, str(path)) == path.stat().st_size
        assert comparable(path) == comparable(alone[key]), key
        assert pdf_image(path) == pdf_image(alone[key]), key
        text = pdf_text(path)
        for expected in (title, "Casey Customer", "BILLED TO", data["label"], "Thank you for your purchase."):
            assert expected in text, (key, expected)
        assert {name.split("+")[-1] for name, embedded in pdf_fonts(path) if embedded} == {"DejaVuSansBook",
                                                                                          "DejaVuSansBold"}


def test_a_glyph_the_cut_down_font_lacks_is_drawn_with_the_whole_font(shop, tmp_path, monkeypatch):
    """Text not seen in the data (here: the check on the data told it is all common) still
    gets its glyphs: the document is drawn again with the whole font."""
    order = paid_order(shop["customer"], [make_product(shop["sam"], "Кириллица")])
    data = invoices.invoice_data(invoices.generate(order.id))
    expected = tmp_path / "expected.pdf"
    invoice_pdf.render_pdf(data, str(expected))
    monkeypatch.setattr(invoice_pdf, "COMMON_SET", invoice_pdf.COMMON_SET | set("Кириллица"))
    drawn = tmp_path / "drawn.pdf"
    invoice_pdf.render_pdf(data, str(drawn))
    assert comparable(drawn) == comparable(expected)
    assert "Кириллица" in pdf_text(drawn)


def test_the_document_kept_with_the_number_draws_the_pdf_the_order_draws(shop, tmp_path):
    """What an invoice keeps when it is numbered is plain JSON, and draws the very PDF that
    the order's rows draw while none of them has changed."""
    order = paid_order(shop["customer"], [shop["presets"], shop["ebook"]])
    _, invoice = invoices.number(order.id)
    kept = invoices.invoice_data(Invoice.get_by_id(invoice.id))
    live = {**invoices.numbered(invoices.document_of(order, invoices.issuer_of(invoice)), invoice),
            "fonts": invoices.font_paths()}
    assert kept == live and kept["label"] == invoice.label == FIRST
    amounts = [kept[key] for key in ("subtotal", "discount", "net", "tax", "total")]
    amounts += [item[key] for item in kept["items"] for key in ("net", "tax", "price", "list_price", "discount")]
    assert all(type(amount) is int for amount in amounts) and kept["total"] == 2499
    for name, data in (("kept", kept), ("live", live)):
        invoice_pdf.render_pdf(data, str(tmp_path / f"{name}.pdf"))
    assert comparable(tmp_path / "kept.pdf") == comparable(tmp_path / "live.pdf")


def test_the_chain_generates_and_mails_the_invoice(shop, app_env):
    order = paid_order(shop["customer"], [shop["presets"]])
    tasks.generate_invoice.dispatch(order.id)
    tasks.send_invoice_email.dispatch(order.id)
    tasks.send_invoice_email.dispatch(order.id)
    mails = [m for m in app_env.mails if m["Subject"].startswith("Invoice")]
    assert len(mails) == 1
    attachment = next(mails[0].iter_attachments())
    assert attachment.get_filename() == f"{FIRST}.pdf"
    assert attachment.get_content().startswith(b"%PDF-")


def test_no_invoice_for_an_order_never_paid(shop):
    cart.add(shop["customer"], shop["presets"].id)
    order = orders.create_from_cart(shop["customer"], "test")
    orders.mark_failed(order.id, "Declined.")
    tasks.generate_invoice.dispatch(order.id)
    assert Invoice.select().count() == 0
    assert JobRecord.get(JobRecord.name == "generate_invoice").state == "completed"
    with pytest.raises(invoices.InvoiceNotReady):
        invoices.generate(order.id)


def test_only_the_buyer_and_admins_fetch_the_invoice(client, shop, make_user):
    order = paid_order(shop["customer"], [shop["presets"]])
    invoices.generate(order.id)
    url = f"/orders/{order.id}/invoice"
    login(client, shop["customer"])
    response = client.get(url)
    assert response.content_type == "application/pdf" and response.body.startswith(b"%PDF-")
    # "Download invoice" saves the file; ?view=1 shows it in the browser instead.
    assert response.headers["Content-Disposition"].startswith(f'attachment; filename="{FIRST}.pdf"')
    assert client.get(url + "?view=1").headers["Content-Disposition"].startswith(f'inline; filename="{FIRST}.pdf"')
    for other in (make_user("customer"), shop["sam"]):
        client.reset()
        login(client, other)
        response = client.get(url, expect_errors=True)
        assert response.status_int == 403 and "%PDF" not in response.text
        token = client.get("/").forms[1]["csrf_token"].value
        assert client.post(url, {"csrf_token": token}, expect_errors=True).status_int == 403
    client.reset()
    login(client, make_user("admin"))
    assert client.get(url).content_type == "application/pdf"
    client.reset()
    assert client.get(url).status_int == 303  # anonymous: to the login page


def test_the_button_makes_a_missing_invoice(client, shop):
    order = paid_order(shop["customer"], [shop["presets"]])
    login(client, shop["customer"])
    page = client.get("/purchases")
    form = next(f for f in page.forms.values() if f.action == f"/orders/{order.id}/invoice")
    assert Invoice.select().count() == 0
    response = form.submit()
    assert response.headers["Location"].endswith(f"/orders/{order.id}/invoice")
    assert response.follow().content_type == "application/pdf"
    assert f"Download invoice {FIRST}" in client.get("/purchases").text


def test_while_the_job_runs_a_page_waits_for_the_pdf(client, shop):
    order = paid_order(shop["customer"], [shop["presets"]])
    login(client, shop["customer"])
    job_runtime.huey.immediate = False  # no consumer: the job stays queued
    token = client.get("/").forms[1]["csrf_token"].value
    page = client.post(f"/orders/{order.id}/invoice", {"csrf_token": token}).follow()
    assert "Preparing your invoice" in page.text
    assert f'data-invoice-status-url="/orders/{order.id}/invoice.json"' in page.text
    assert client.get(f"/orders/{order.id}/invoice.json").json == {
        "ready": False, "url": f"/orders/{order.id}/invoice", "view_url": f"/orders/{order.id}/invoice?view=1"}
    assert JobRecord.get(JobRecord.name == "generate_invoice").state == "pending"
    tasks.generate_invoice.run_now(order.id)
    assert client.get(f"/orders/{order.id}/invoice.json").json["ready"] is True


def test_an_unpaid_order_has_no_invoice_page(client, shop):
    cart.add(shop["customer"], shop["presets"].id)
    order = orders.create_from_cart(shop["customer"], "test")
    login(client, shop["customer"])
    response = client.get(f"/orders/{order.id}/invoice", expect_errors=True)
    assert response.status_int == 400 and "has not been paid" in response.text
