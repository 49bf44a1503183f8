"""INVOICE_DELIVERY=link over HTTP, with the mail going to a real SMTP server: at payment the
invoice is numbered in sale order and its email carries the link to it, not the PDF; the
PDF is drawn on the first download (a page waits for it meanwhile), from the purchases
page, a guest's signed order page or the admin's order page; a job run twice sends one
email. attach (the default) is tests/test_invoices.py's."""

import pytest
from webtest import TestApp

import job_runtime
import marketplace
import tasks
from job_runtime.models import JobRecord
from models import Invoice, Order, User, utcnow
from shop import config
from shop.accounts import settings
from shop.orders import invoices
from shop.storage import storage
from tests.conftest import login
from tests.shop_fixtures import add_to_cart, checkout_form
from tests.test_guest_checkout import guest_buys, links_in, mail_to, text_of
from tests.test_invoices import paid_order, pdf_text

YEAR = utcnow().year
FIRST, SECOND = f"INV-{YEAR}-000001", f"INV-{YEAR}-000002"


@pytest.fixture
def link_mode(smtp, live_app, app_env):
    """A shop on a real port and a real SMTP server, with INVOICE_DELIVERY=link; the inbox."""
    inbox = smtp()
    app_env.reload(INVOICE_DELIVERY="link")
    return inbox


def buy(client, product):
    """The logged-in customer buys `product` with the test gateway, over HTTP."""
    add_to_cart(client, product)
    page = checkout_form(client, "test").submit(status=303).follow()
    form = next(f for f in page.forms.values() if f.action.startswith("/pay/test/"))
    form.submit("action", value="pay", status=303)
    return Order.select().order_by(Order.id.desc()).get()


def invoice_form(page, action_end="/invoice"):
    return next(f for f in page.forms.values() if f.action.endswith(action_end))


def test_the_email_links_to_an_invoice_numbered_at_payment_and_drawn_on_first_download(
        link_mode, client, two_sellers, make_user):
    casey = make_user("customer", name="Casey Customer", email="casey@example.com")
    login(client, casey)
    first = buy(client, two_sellers["presets"])
    second = buy(client, two_sellers["ebook"])
    assert (first.status, second.status) == ("paid", "paid")

    # Numbered at payment, in sale order; no PDF drawn, and no generate_invoice ran.
    numbered = {i.order_id: i for i in Invoice.select()}
    assert (numbered[first.id].label, numbered[second.id].label) == (FIRST, SECOND)
    assert all(i.pdf_path is None and invoices.pdf_key(i) is None for i in numbered.values())
    assert not JobRecord.select().where(JobRecord.name == "generate_invoice").exists()

    message = mail_to(link_mode, "casey@example.com", f"Invoice {SECOND} for order {second.reference}")
    assert list(message.iter_attachments()) == []
    assert f"{config.APP_URL}/purchases" in text_of(message) and SECOND in text_of(message)
    assert len([m for m in link_mode.messages if m["Subject"].startswith("Invoice")]) == 2

    # The link's page: "Download invoice" asks for the PDF; with no consumer at hand the
    # page waits for it, and once the job ran the same address is the PDF.
    purchases = client.get("/purchases")
    job_runtime.huey.immediate = False
    waiting = invoice_form(purchases, f"/orders/{second.id}/invoice").submit(status=303).follow()
    assert "Preparing your invoice" in waiting.text
    assert client.get(f"/orders/{second.id}/invoice.json").json["ready"] is False
    assert JobRecord.get(JobRecord.name == "generate_invoice").state == "pending"
    tasks.generate_invoice.run_now(second.id)
    assert client.get(f"/orders/{second.id}/invoice.json").json["ready"] is True
    pdf = client.get(f"/orders/{second.id}/invoice")
    assert pdf.content_type == "application/pdf" and pdf.body.startswith(b"%PDF-")
    assert pdf.headers["Content-Disposition"].startswith(f'attachment; filename="{SECOND}.pdf"')
    # Drawing the later sale first took no number: the first keeps its own, undrawn.
    assert Invoice.get(Invoice.order == first.id).label == FIRST
    assert invoices.pdf_key(Invoice.get(Invoice.order == first.id)) is None
    assert Invoice.select().count() == 2


def test_the_admins_order_page_draws_a_missing_invoice(link_mode, client, two_sellers, make_user):
    login(client, make_user("customer"))
    order = buy(client, two_sellers["presets"])
    client.reset()
    login(client, make_user("admin"))
    assert f'href="/orders/{order.id}/invoice"' in client.get(f"/admin/orders/{order.id}").text
    pdf = client.get(f"/orders/{order.id}/invoice")  # jobs run at once here: drawn in the request
    assert pdf.content_type == "application/pdf" and pdf.body.startswith(b"%PDF-")


def test_a_guests_email_links_to_the_order_page_whose_button_draws_the_invoice(link_mode, client, two_sellers):
    order = guest_buys(client, two_sellers["presets"])
    receipt = mail_to(link_mode, "gus@example.com", f"Your order {order.reference} is ready to download")
    [order_link] = links_in(receipt, r"/orders/MP-\w+/guest/\w+")
    message = mail_to(link_mode, "gus@example.com", f"Invoice {FIRST}")
    assert list(message.iter_attachments()) == []
    assert order_link in text_of(message) and "/purchases" not in text_of(message)
    assert invoices.pdf_key(Invoice.get(Invoice.order == order.id)) is None

    elsewhere = TestApp(marketplace.app)  # nothing but the email
    page = elsewhere.get(order_link)
    assert "Download invoice" in page.text
    pdf = invoice_form(page).submit(status=303).follow()
    assert pdf.content_type == "application/pdf" and pdf.body.startswith(b"%PDF-")
    assert invoices.pdf_key(Invoice.get(Invoice.order == order.id)) is not None
    assert User.select().where(User.role == "guest").count() == 1


def test_a_job_run_twice_numbers_once_and_mails_once(app_env, make_user, two_sellers):
    app_env.reload(INVOICE_DELIVERY="link")
    order = paid_order(make_user("customer", email="casey@example.com"), [two_sellers["presets"]])
    tasks.invoice_chain(order.id).dispatch()
    tasks.invoice_chain(order.id).dispatch()
    tasks.send_invoice_email.dispatch(order.id)
    mails = [m for m in app_env.mails if m["Subject"].startswith("Invoice")]
    assert len(mails) == 1 and list(mails[0].iter_attachments()) == []
    assert [i.label for i in Invoice.select()] == [FIRST]
    assert not JobRecord.select().where(JobRecord.name == "generate_invoice").exists()
    # The first download draws it once; asking again draws nothing new.
    tasks.generate_invoice.dispatch(order.id)
    drawn = Invoice.get(Invoice.order == order.id)
    tasks.generate_invoice.dispatch(order.id)
    assert Invoice.get(Invoice.order == order.id).generated_at == drawn.generated_at is not None


def test_a_pdf_drawn_after_a_rename_says_what_the_issued_invoice_said(app_env, make_user, two_sellers):
    """Numbered at payment, drawn on the first download: a buyer and a seller who renamed
    themselves in between are named on it as they were when it was issued."""
    app_env.reload(INVOICE_DELIVERY="link")
    casey = make_user("customer", name="Casey Customer", email="casey@example.com")
    order = paid_order(casey, [two_sellers["presets"], two_sellers["ebook"]])
    tasks.invoice_chain(order.id).dispatch()
    invoice = Invoice.get(Invoice.order == order.id)
    assert invoices.pdf_key(invoice) is None
    settings.change_name(User.get_by_id(casey.id), "Casey Renamed")
    settings.change_name(User.get_by_id(two_sellers["sam"].id), "Sam Renamed")
    User.update(email="sam-new@example.com").where(User.id == two_sellers["sam"].id).execute()

    tasks.generate_invoice.dispatch(order.id)
    text = pdf_text(storage().local_path(invoices.pdf_key(Invoice.get_by_id(invoice.id))))
    for expected in (FIRST, "Casey Customer", "casey@example.com", "Sam Seller", two_sellers["sam"].email,
                     "Priya Patel"):
        assert expected in text, expected
    for renamed in ("Casey Renamed", "Sam Renamed", "sam-new@example.com"):
        assert renamed not in text, renamed
    # Drawn again (its file lost), it still says the same.
    Invoice.update(pdf_path=None).where(Invoice.id == invoice.id).execute()
    assert pdf_text(storage().local_path(invoices.pdf_key(invoices.generate(order.id)))) == text


def test_attach_is_the_default_and_its_chain_draws_the_pdf(app_env, make_user, two_sellers):
    assert config.INVOICE_DELIVERY == "attach"
    order = paid_order(make_user("customer"), [two_sellers["presets"]])
    tasks.invoice_chain(order.id).dispatch()
    [mail] = [m for m in app_env.mails if m["Subject"].startswith("Invoice")]
    assert [part.get_filename() for part in mail.iter_attachments()] == [f"{FIRST}.pdf"]
    assert invoices.pdf_key(Invoice.get(Invoice.order == order.id)) is not None


def test_a_bad_value_stops_start_up_with_one_line():
    with pytest.raises(config.ConfigError) as error:
        config.load_settings({"INVOICE_DELIVERY": "email"}, dotenv=False)
    assert str(error.value) == "INVOICE_DELIVERY must be one of attach, link; got 'email'"
