"""Product previews: images a seller adds, and the first page of a PDF product file drawn for
it, each made into WebP sizes by the preview job and shown on the product page."""

from fpdf import FPDF
from webtest import Upload

from models import Product, ProductPreview
from tests.catalog_helpers import form_for, jpeg_bytes, png_bytes


def pdf_bytes():
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=28)
    pdf.cell(text="Chapter one")
    return bytes(pdf.output())


def new_product(client, file):
    form = form_for(client.get("/seller/products/new"), "/seller/products")
    form["title"], form["description"], form["price"] = "Night photography", "A book.", "9"
    form["file"] = Upload(*file)
    form.submit().follow()
    return Product.get()


def test_a_pdf_gets_its_first_page_as_a_preview_and_images_can_be_added(client, login_as):
    login_as("seller")
    product = new_product(client, ("book.pdf", pdf_bytes()))
    page = ProductPreview.get()
    assert (page.kind, page.state, sorted(page.images)) == ("pdf_page", "ready", ["480", "960"])
    assert client.get(page.url(480)).content_type == "image/webp"
    form = form_for(client.get(f"/seller/products/{product.id}/edit"), f"/seller/products/{product.id}/previews")
    fields = dict(form.submit_fields())
    client.post(f"/seller/products/{product.id}/previews", fields,
                upload_files=[("previews", "a.jpg", jpeg_bytes()), ("previews", "b.png", png_bytes())]).follow()
    assert ProductPreview.select().where(ProductPreview.state == "ready").count() == 3
    Product.update(status="approved").where(Product.id == product.id).execute()
    shown = client.get(f"/products/{product.slug}").html.select(".product-previews img")
    assert [img["alt"].split(" of ")[0] for img in shown] == ["First page", "Preview", "Preview"]
    # A fifth image is refused; a removed one is gone from the page.
    response = client.post(f"/seller/products/{product.id}/previews", fields,
                           upload_files=[("previews", f"{n}.jpg", jpeg_bytes()) for n in range(3)],
                           expect_errors=True)
    assert response.status_int == 400 and "at most 4 preview images" in response.text
    image = ProductPreview.get(ProductPreview.kind == "image")
    form = form_for(client.get(f"/seller/products/{product.id}/edit"),
                    f"/seller/products/{product.id}/previews/{image.id}/delete")
    form.submit().follow()
    assert ProductPreview.select().count() == 2


def test_a_file_that_is_no_pdf_has_no_page_preview_and_a_new_file_replaces_it(client, login_as):
    login_as("seller")
    product = new_product(client, ("presets.zip", b"PK not a pdf" * 20))
    assert ProductPreview.select().count() == 0
    form = form_for(client.get(f"/seller/products/{product.id}/edit"), f"/seller/products/{product.id}/edit")
    form["file"] = Upload("book.pdf", pdf_bytes())
    form.submit().follow()
    assert ProductPreview.get().kind == "pdf_page" and ProductPreview.get().state == "ready"
    form = form_for(client.get(f"/seller/products/{product.id}/edit"), f"/seller/products/{product.id}/edit")
    form["file"] = Upload("presets.zip", b"PK again" * 20)
    form.submit().follow()
    assert ProductPreview.select().count() == 0


def test_an_upload_that_is_not_an_image_is_refused(client, login_as):
    login_as("seller")
    product = new_product(client, ("presets.zip", b"PK" * 20))
    form = form_for(client.get(f"/seller/products/{product.id}/edit"), f"/seller/products/{product.id}/previews")
    response = client.post(f"/seller/products/{product.id}/previews", dict(form.submit_fields()),
                           upload_files=[("previews", "x.jpg", b"not an image")], expect_errors=True)
    assert response.status_int == 400 and ProductPreview.select().count() == 0
