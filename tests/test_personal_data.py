"""Personal data over HTTP: a customer downloads everything the shop holds about them, and
deleting the account anonymises it while the orders, invoices and ledger stay and balance."""

import json
import threading

from webtest import TestApp

import marketplace
from models import (CartItem, CreditNote, DownloadLink, Invoice, LedgerEntry, Notification, Order, OrderItem, OutboundMail,
                    Session, User, db, utcnow)
from shop.accounts import personal_data
from shop import config
from shop.orders import credit_notes, invoices, orders
from tests.conftest import PASSWORD, login
from tests.test_invoices import pdf_text
from tests.shop_fixtures import add_to_cart, checkout, live_app, make_product  # noqa: F401  (live_app: the fixture)


def buy(client, product):
    add_to_cart(client, product)
    page = checkout(client, "test").follow()
    next(f for f in page.forms.values() if f.action.startswith("/pay/test/")).submit("action", value="pay")
    return Order.select().order_by(Order.id.desc()).get()


def settings_form(client, action):
    return next(f for f in client.get("/account").forms.values() if f.action == action)


def ledger_totals():
    return [(e.seller_id, e.kind, e.gross, e.fee, e.amount) for e in LedgerEntry.select().order_by(LedgerEntry.id)]


def test_a_customer_downloads_everything_held_about_them(client, login_as, make_user, live_app):
    seller = make_user("seller", name="Sam Seller")
    customer = login_as(email="dana@example.com", name="Dana")
    order = buy(client, make_product(seller, "Synth patches", 1200))
    add_to_cart(client, make_product(seller, "Drum kit", 800))
    response = client.get("/account/data")
    assert response.content_type == "application/json"
    assert response.headers["Content-Disposition"] == 'attachment; filename="my-account-data.json"'
    data = json.loads(response.body)
    assert data["account"]["email"] == "dana@example.com" and data["account"]["name"] == "Dana"
    [exported] = data["orders"]
    assert exported["reference"] == order.reference and exported["status"] == "paid"
    assert exported["items"] == [{"title": "Synth patches", "price": 1200, "list_price": 1200, "discount": 0}]
    assert exported["invoice"]["label"].startswith("INV-")
    assert [link["product"] for link in data["download_links"]] == ["Synth patches"]
    assert [item["product"] for item in data["cart"]] == ["Drum kit"]
    assert len(data["sessions"]) == 1 and data["emails"]
    # Nothing of anyone else, and no secret of its own.
    text = response.text
    assert "Sam Seller" not in text and "password" not in text and "token" not in text
    assert customer.id


def test_deleting_the_account_anonymises_it_and_keeps_the_books(client, login_as, make_user, live_app):
    seller = make_user("seller", name="Sam Seller")
    customer = login_as(email="erin@example.com", name="Erin Example")
    order = buy(client, make_product(seller, "Brush set", 1500))
    phone = TestApp(marketplace.app, extra_environ={"REMOTE_ADDR": "127.0.0.1"})
    login(phone, customer)
    books = ledger_totals()
    assert books and Invoice.get(Invoice.order == order).pdf_path
    assert invoices.invoice_data(Invoice.get(Invoice.order == order))["buyer"]["name"] == "Erin Example"

    Order.update(buyer_address="1 Quay Street, Dublin").where(Order.id == order.id).execute()
    note = credit_notes.generate(credit_notes.issue(order.id, reason="Goodwill")[0].id)
    assert "Erin Example" in pdf_text(config.INVOICES_DIR / note.pdf_path)
    form = settings_form(client, "/account/delete")
    form["current_password"] = "not-my-password"
    assert "That is not your current password." in form.submit(status=400).text
    assert User.get_by_id(customer.id).email == "erin@example.com"

    form["current_password"] = PASSWORD
    assert "Your account is deleted" in form.submit(status=303).follow().text
    gone = User.get_by_id(customer.id)
    assert gone.name == personal_data.DELETED_NAME and gone.email == f"deleted-{customer.id}@deleted.invalid"
    assert personal_data.is_deleted(gone)
    # The books: the order, its items, invoice and ledger entries as they were.
    kept = Order.get_by_id(order.id)
    assert (kept.status, kept.total, kept.buyer_id) == ("paid", 1500, customer.id)
    assert kept.buyer_address is None and kept.tax_country == "US"  # the address goes, the tax evidence stays
    assert OrderItem.select().where(OrderItem.order == order).count() == 1
    assert ledger_totals() == books
    balance = sum(e.amount for e in LedgerEntry.select()) + sum(e.fee for e in LedgerEntry.select())
    assert balance == sum(o.total for o in Order.select().where(Order.status == "paid"))
    invoice = Invoice.get(Invoice.order == order)
    assert invoice.pdf_path, "the PDF is drawn again"
    assert invoices.invoice_data(invoice)["buyer"] == {"name": personal_data.DELETED_NAME, "email": gone.email,
                                                       "business_name": "", "address": "",
                                                       "country": "United States", "tax_number": ""}
    # So is the credit note's, from its kept document.
    note = CreditNote.get_by_id(note.id)
    assert note.pdf_path
    shown = pdf_text(config.INVOICES_DIR / note.pdf_path)
    assert personal_data.DELETED_NAME in shown and "Erin Example" not in shown and "Quay Street" not in shown
    # The name and address are nowhere else: no session, cart, notification; the mail log is anonymised.
    assert Session.select().where(Session.user == customer.id).count() == 0
    assert CartItem.select().where(CartItem.user == customer.id).count() == 0
    assert Notification.select().where(Notification.user == customer.id).count() == 0
    assert OutboundMail.select().where(OutboundMail.to == "erin@example.com").count() == 0
    assert all(link.revoked_at for link in DownloadLink.select().where(DownloadLink.buyer == customer.id))
    # No way back in: not with the password, not from the phone, and the address is free again.
    assert login(TestApp(marketplace.app, extra_environ={"REMOTE_ADDR": "127.0.0.1"}),
                 "erin@example.com").status_int == 401
    assert phone.get("/account", status=303)
    assert make_user(email="erin@example.com").id != customer.id


def test_sellers_and_admins_cannot_delete_their_accounts_here(client, login_as):
    seller = login_as("seller")
    assert "closed by the shop" in client.get("/account").text
    token = next(f for f in client.get("/account").forms.values() if f.action == "/account/name")["csrf_token"].value
    refused = client.post("/account/delete", {"csrf_token": token, "current_password": PASSWORD}, status=403)
    assert "cannot be deleted here" in refused.text
    assert User.get_by_id(seller.id).email == seller.email


def test_deleting_needs_a_login_and_the_csrf_token(client, login_as):
    customer = login_as()
    client.post("/account/delete", {"current_password": PASSWORD}, status=403)
    assert User.get_by_id(customer.id).email == customer.email
    client.reset()
    assert client.get("/account/data", status=303).location.startswith("/login")


def test_an_invoice_numbered_while_the_account_is_being_deleted_names_the_deleted_buyer(make_user, monkeypatch):
    # The deletion's transaction is held open after it anonymised everything; an invoice
    # numbered meanwhile waits for it and keeps the anonymised buyer, not the old name.
    seller = make_user("seller", name="Sam Seller")
    buyer = make_user("customer", email="erin@example.com", name="Erin Example")
    product = make_product(seller, "Brush set", 1500)
    order = Order.create(reference=orders.new_reference(), buyer=buyer, gateway="test", total=1500, currency="USD",
                         status="paid", paid_at=utcnow(), buyer_address="1 Quay Street, Dublin")
    OrderItem.create(order=order, product=product, seller=seller.id, title=product.title, price=1500,
                     currency="USD")
    anonymised, finish = threading.Event(), threading.Event()
    forget = personal_data.forget_buyer

    def forget_then_hold(user, anonymous_email):
        forget(user, anonymous_email)
        anonymised.set()
        finish.wait(30)

    monkeypatch.setattr(personal_data, "forget_buyer", forget_then_hold)

    def in_a_thread(work):
        def run():
            try:
                work()
            finally:
                db.close()
        thread = threading.Thread(target=run)
        thread.start()
        return thread

    deleting = in_a_thread(lambda: personal_data.delete_account(User.get_by_id(buyer.id), PASSWORD))
    try:
        assert anonymised.wait(30)
        numbering = in_a_thread(lambda: invoices.number(order.id))
        numbering.join(0.5)
        assert numbering.is_alive(), "the number waits for the deletion's transaction"
    finally:
        finish.set()
        deleting.join(30)
    numbering.join(30)
    buyer_shown = json.loads(Invoice.get(Invoice.order == order).document)["buyer"]
    assert buyer_shown["name"] == personal_data.DELETED_NAME and buyer_shown["email"] == f"deleted-{buyer.id}@deleted.invalid"
    assert buyer_shown["address"] == ""
