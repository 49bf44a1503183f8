"""Guest checkout over HTTP, with the mail going to a real SMTP server: a visitor buys with
an email address and no account; the receipt carries the download links and a signed
link back to the order; the purchase joins the account that later verifies the address
(never one that only typed it); a guest's cart comes along on logging in; bad links and
other people's things are refused; and guests who bought nothing are pruned."""

import datetime
import re

import pytest
from webtest import TestApp

import marketplace
from models import CartItem, DownloadLink, LedgerEntry, Order, Session, TransactionItem, User, utcnow
from shop import config
from shop.accounts import guests
from shop.payouts import balances
from tests.conftest import login
from tests.shop_fixtures import add_to_cart

GUEST = "gus@example.com"
PASSWORD = "guest-later-pass-9"


def guest_checkout(client, email=GUEST, status=303):
    page = client.get("/checkout")
    form = next(f for f in page.forms.values() if f.action == "/checkout")
    form["gateway"] = "test"
    form["country"] = "US"
    form["email"] = email
    return form.submit(status=status)


def pay(response):
    page = response.follow()
    form = next(f for f in page.forms.values() if f.action.startswith("/pay/test/"))
    return form.submit("action", value="pay", status=303)


def csrf_of(page):
    return next(f for f in page.forms.values() if "csrf_token" in f.fields)["csrf_token"].value


def guest_buys(client, *products, email=GUEST):
    for product in products:
        add_to_cart(client, product)
    pay(guest_checkout(client, email=email))
    return Order.select().order_by(Order.id.desc()).get()


def mail_to(inbox, address, subject_start):
    return next(m for m in inbox.messages if m["To"] == address and m["Subject"].startswith(subject_start))


def text_of(message):
    return message.get_body(("plain",)).get_content()


def links_in(message, pattern):
    return re.findall(pattern, text_of(message))


def sign_up_and_verify(client, inbox, email, name="Gus"):
    page = client.get("/register")
    form = next(f for f in page.forms.values() if f.action == "/register")
    form["name"], form["email"], form["password"], form["role"] = name, email, PASSWORD, "customer"
    form.submit(status=303)
    [link] = links_in(mail_to(inbox, email, "Confirm your email address"), r"/email/verify/\S+")
    return link


# ---------------------------------------------------------------------------
# Buying as a guest
# ---------------------------------------------------------------------------


def test_a_guest_buys_with_an_email_address_and_the_receipt_carries_the_links(smtp, client, two_sellers,
                                                                               live_app):
    inbox = smtp()
    product = two_sellers["presets"]
    assert "Add to cart" in client.get(f"/products/{product.slug}").text
    add_to_cart(client, product)
    assert "Cart (1)" in client.get("/").text
    guest = User.get(User.role == "guest")
    assert guest.password_hash == "" and "@" not in guest.email

    # No address, or a bad one, is a form error, and no order is made.
    for bad in ("", "not-an-address", "gus@example.com\r\nBcc: x@example.com"):
        page = guest_checkout(client, email=bad, status=400)
        assert "Enter a valid email address." in page.text
    assert Order.select().count() == 0

    pay(guest_checkout(client, email="  Gus@Example.com "))
    order = Order.get()
    assert (order.status, order.buyer_id, order.guest_email) == ("paid", guest.id, GUEST)
    receipt = mail_to(inbox, GUEST, f"Your order {order.reference} is ready to download")
    [download] = links_in(receipt, r"/download/\S+")
    [order_link] = links_in(receipt, r"/orders/MP-\w+/guest/\w+")
    assert "create an account with gus@example.com" in text_of(receipt)
    invoice_mail = mail_to(inbox, GUEST, f"Invoice INV-{utcnow().year}-000001")
    assert order_link in text_of(invoice_mail)
    assert [part.get_filename() for part in invoice_mail.iter_attachments()] == [f"INV-{utcnow().year}-000001.pdf"]

    # Another browser with nothing but the email: the links work, and the order's page
    # lists the downloads and the invoice.
    elsewhere = TestApp(marketplace.app)
    file_response = elsewhere.get(download)
    assert file_response.status_int == 200 and len(file_response.body) == product.file_size
    page = elsewhere.get(order_link)
    assert f"Order {order.reference}" in page.text and "Bought as a guest with gus@example.com" in page.text
    assert ">Download<" in page.text
    invoice_form = next(f for f in page.forms.values() if f.action.endswith("/invoice"))
    pdf = invoice_form.submit(status=303).follow()
    assert pdf.content_type == "application/pdf" and pdf.body.startswith(b"%PDF")
    # Nothing here made the second browser a guest of its own, or logged it into the first.
    assert User.select().where(User.role == "guest").count() == 1
    assert "/purchases" not in elsewhere.get("/").text


def test_a_returning_guest_types_the_address_again(client, two_sellers, live_app):
    guest_buys(client, two_sellers["presets"])
    add_to_cart(client, two_sellers["ebook"])
    form = next(f for f in client.get("/checkout").forms.values() if f.action == "/checkout")
    assert form["email"].value == ""  # a shared browser does not show the last buyer's address


def test_a_guest_can_correct_the_address_before_paying(client, two_sellers, live_app):
    add_to_cart(client, two_sellers["presets"])
    first = guest_checkout(client, email="typo@exmaple.com")
    typo = Order.get()
    # A double click sends the form twice: one order, whose address is the last one typed.
    client.post("/checkout", {"gateway": "test", "email": "typo2@exmaple.com", "country": "US",
                              "csrf_token": csrf_of(first.follow())}, status=303)
    assert Order.select().count() == 1 and Order.get().guest_email == "typo2@exmaple.com"
    # Cancelling the payment gives the cart back; checking out again with the right address
    # makes the order that is paid.
    page = client.get(f"/orders/{typo.id}/success")
    next(f for f in page.forms.values() if f.action.endswith("/cancel")).submit(status=303)
    pay(guest_checkout(client, email=GUEST))
    paid = Order.get(Order.status == "paid")
    assert paid.guest_email == GUEST and Order.get_by_id(typo.id).status != "paid"


# ---------------------------------------------------------------------------
# Joining an account
# ---------------------------------------------------------------------------


def test_the_purchase_joins_the_account_that_verifies_its_address(smtp, client, two_sellers, live_app):
    inbox = smtp()
    order = guest_buys(client, two_sellers["presets"], two_sellers["ebook"])
    guest_id = order.buyer_id
    receipt = mail_to(inbox, GUEST, f"Your order {order.reference}")
    download = links_in(receipt, r"/download/\S+")[0]
    [order_link] = links_in(receipt, r"/orders/MP-\w+/guest/\w+")
    books_before = sorted((e.seller_id, e.kind, e.gross, e.fee, e.amount) for e in LedgerEntry.select())
    owed_before = {seller.id: b.pending for seller, b in balances.every_seller()}

    account = TestApp(marketplace.app)
    verify_link = sign_up_and_verify(account, inbox, GUEST)
    # Signed up but not verified: the purchase is not the account's yet.
    assert order.reference not in account.get("/purchases").text
    assert Order.get_by_id(order.id).buyer_id == guest_id

    account.get(verify_link, status=303)
    user = User.get(User.email == GUEST)
    page = account.get("/purchases")
    assert order.reference in page.text and page.text.count(">Download<") == 2
    assert Order.get_by_id(order.id).buyer_id == user.id
    assert {row.buyer_id for row in TransactionItem.select()} == {user.id}
    assert {link.buyer_id for link in DownloadLink.select()} == {user.id}
    # The books are as they were: only who bought moved.
    assert sorted((e.seller_id, e.kind, e.gross, e.fee, e.amount) for e in LedgerEntry.select()) == books_before
    assert {seller.id: b.pending for seller, b in balances.every_seller()} == owed_before
    # The account's downloads are the account's now: a browser without it is asked to log in,
    # the account downloads, and the receipt's order link points to the library.
    anonymous = TestApp(marketplace.app)
    assert anonymous.get(download, status=303).headers["Location"].startswith("/login?next=")
    assert account.get(download).status_int == 200
    moved = anonymous.get(order_link, status=303)
    assert moved.headers["Location"] == "/login?next=%2Fpurchases"
    # The account's library offers the invoice (which names the buyer as it was issued: the guest's address).
    assert "Download invoice" in page.text


def test_an_address_typed_at_sign_up_but_never_verified_claims_nothing(smtp, client, two_sellers, live_app):
    inbox = smtp()
    order = guest_buys(client, two_sellers["presets"])
    impostor = TestApp(marketplace.app)
    sign_up_and_verify(impostor, inbox, GUEST)  # the link goes to the real owner's inbox, unopened
    assert order.reference not in impostor.get("/purchases").text
    assert User.get_by_id(Order.get_by_id(order.id).buyer_id).is_guest


def test_logging_in_to_a_verified_account_with_the_address_finds_the_purchase(client, make_user, two_sellers,
                                                                               live_app):
    make_user("customer", email=GUEST)
    order = guest_buys(client, two_sellers["presets"])
    other = TestApp(marketplace.app)
    login(other, GUEST)
    assert order.reference in other.get("/purchases").text


def test_an_address_change_confirmed_later_claims_the_guest_purchases(client, make_user, two_sellers, live_app):
    from shop.accounts import settings

    user = make_user("customer", email="old@example.com")
    order = guest_buys(client, two_sellers["presets"])
    token = settings.change_token(user, GUEST, int(utcnow().replace(tzinfo=datetime.timezone.utc).timestamp()) + 600)
    settings.confirm_email_change(token)
    assert Order.get_by_id(order.id).buyer_id == user.id


def test_logging_in_brings_the_guests_cart_and_ends_the_guest(client, make_user, two_sellers):
    customer = make_user("customer", email="kim@example.com")
    add_to_cart(client, two_sellers["presets"])
    guest = User.get(User.role == "guest")
    guest_cookie = client.cookies["session"]
    login(client, customer)
    assert [item.product_id for item in CartItem.select().where(CartItem.user == customer)] == [two_sellers["presets"].id]
    assert CartItem.select().where(CartItem.user == guest).count() == 0
    assert Session.select().where(Session.user == guest).count() == 0
    assert client.cookies["session"] != guest_cookie
    assert "Cart (1)" in client.get("/").text


# ---------------------------------------------------------------------------
# Refusals
# ---------------------------------------------------------------------------


def test_forged_or_foreign_order_links_are_refused(client, two_sellers, live_app):
    first = guest_buys(client, two_sellers["presets"])
    second = guest_buys(TestApp(marketplace.app), two_sellers["ebook"], email="other@example.com")
    key = guests.order_link_key(first)
    # One hex digit changed: always a different key, whatever the last digit was.
    tampered = key[:-1] + ("1" if key[-1] == "0" else "0")
    anonymous = TestApp(marketplace.app)
    for path in (f"/orders/{first.reference}/guest/forged", f"/orders/{second.reference}/guest/{key}",
                 f"/orders/MP-NOSUCH/guest/{key}", f"/orders/{first.reference}/guest/{'a' * 5000}",
                 f"/orders/{first.reference}/guest/{tampered}/invoice"):
        assert anonymous.get(path, status=404).status_int == 404
    # The first order's page cannot renew a link of the second order.
    other_link = DownloadLink.select().join(DownloadLink.order_item.rel_model).where(
        DownloadLink.order_item.rel_model.order == second).get()
    DownloadLink.update(download_count=DownloadLink.max_downloads).where(DownloadLink.id == other_link.id).execute()
    page = anonymous.get(f"/orders/{first.reference}/guest/{key}")
    token = next(f for f in page.forms.values() if "csrf_token" in f.fields)["csrf_token"].value
    refused = anonymous.post(f"/orders/{first.reference}/guest/{key}/links/{other_link.id}/renew",
                             {"csrf_token": token}, status=404)
    assert "not among your purchases" in refused.text
    assert DownloadLink.get_by_id(other_link.id).download_count == other_link.max_downloads
    # Another guest's order page, and a customer's, are not a guest's to see.
    assert anonymous.get(f"/orders/{first.id}/success", status=303).headers["Location"].startswith("/login")
    stranger = TestApp(marketplace.app)
    add_to_cart(stranger, two_sellers["ebook"])
    assert stranger.get(f"/orders/{first.id}/success", status=403).status_int == 403
    assert stranger.get(f"/orders/{first.id}/invoice", status=403).status_int == 403


def test_a_guest_renews_a_used_up_link_from_the_orders_page(client, two_sellers, live_app, app_env):
    app_env.reload(DOWNLOAD_RENEWALS_PER_DAY=1)
    order = guest_buys(client, two_sellers["presets"], two_sellers["ebook"])
    base = f"/orders/{order.reference}/guest/{guests.order_link_key(order)}"
    DownloadLink.update(download_count=DownloadLink.max_downloads).execute()
    anonymous = TestApp(marketplace.app)
    page = anonymous.get(base)
    forms = [f for f in page.forms.values() if f.action.endswith("/renew")]
    assert len(forms) == 2
    renewed = forms[0].submit(status=303).follow()
    assert "A new download link" in renewed.text and renewed.text.count(">Download<") == 1
    url = re.search(r'href="(/download/[^"]+)"', renewed.text).group(1)
    assert anonymous.get(url).status_int == 200
    # The daily cap holds for a guest as for an account.
    capped = next(f for f in renewed.forms.values() if f.action.endswith("/renew")).submit(status=429)
    assert "the most a day allows" in capped.text


def test_sellers_and_admins_do_not_check_out_as_guests(client, login_as, two_sellers):
    login_as("seller")
    assert client.get("/cart", status=403).status_int == 403
    assert client.get("/checkout", status=403).status_int == 403
    assert User.select().where(User.role == "guest").count() == 0


# ---------------------------------------------------------------------------
# Pruning
# ---------------------------------------------------------------------------


def test_guests_who_bought_nothing_are_pruned_once_their_session_is_over(client, two_sellers, live_app):
    buyer_client, leaver_client = TestApp(marketplace.app), TestApp(marketplace.app)
    order = guest_buys(buyer_client, two_sellers["presets"])
    add_to_cart(leaver_client, two_sellers["ebook"])
    leaver = User.get((User.role == "guest") & (User.id != order.buyer_id))
    assert guests.prune_guests() == 0  # both still have sessions
    later = utcnow() + datetime.timedelta(days=config.SESSION_DAYS + 1)
    assert guests.prune_guests(now=later) == 1
    assert User.get_or_none(User.id == leaver.id) is None and CartItem.select().count() == 0
    assert User.get_by_id(order.buyer_id).is_guest  # the buyer stays with the order
    assert guests.prune_guests(now=later) == 0


@pytest.mark.parametrize("path", ["/cart", "/checkout"])
def test_looking_makes_no_guest(client, path):
    client.get(path, status="*")
    assert User.select().where(User.role == "guest").count() == 0


def test_the_admin_sees_a_guests_address_and_the_order_page_is_never_cached(client, two_sellers, live_app,
                                                                            make_user):
    order = guest_buys(client, two_sellers["presets"])
    page = TestApp(marketplace.app).get(f"/orders/{order.reference}/guest/{guests.order_link_key(order)}")
    assert page.headers["Cache-Control"] == "no-store" and page.headers["Referrer-Policy"] == "no-referrer"
    admin = TestApp(marketplace.app)
    login(admin, make_user("admin"))
    assert "Guest" in admin.get("/admin/orders").text and GUEST in admin.get("/admin/orders").text
    detail = admin.get(f"/admin/orders/{order.id}").text
    assert GUEST in detail and "guest." not in detail
