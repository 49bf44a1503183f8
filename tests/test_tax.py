"""Tax: the arithmetic for any cart, rate and rounding (hypothesis); the EU cases through
checkout (a consumer in Germany, a French business under the reverse charge, a consumer
outside the EU); the evidence of the buyer's country; commission on the net in the ledger;
invoices and credit notes read back from their PDFs; the owner's tax report."""

import csv
import io
import json
import shutil
import subprocess
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, ROUND_DOWN, Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shop import config
from shop.errors import ConfigError, ValidationError
from shop.money import split_sale
from shop.orders import cart, credit_notes, fulfilment, invoices, orders
from shop.tax import calculation, rates, report
from shop.tax import checkout as checkout_tax
from shop.storage import storage
from models import CreditNote, Invoice, LedgerEntry, Order, OrderItem, User, utcnow
from tests.conftest import login
from tests.shop_fixtures import add_to_cart, checkout_form, make_product

SOME = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
TABLE = rates.table(rates.DEFAULT_FILE)
LEGAL = {"SHOP_LEGAL_NAME": "Beispiel Marktplatz GmbH", "SHOP_LEGAL_ADDRESS": "Hauptstraße 1\\n10115 Berlin",
         "SHOP_COUNTRY": "DE", "SHOP_TAX_NUMBER": "DE123456789", "SHOP_REGISTRATION": "HRB 12345 B, Amtsgericht Berlin",
         "CURRENCY": "EUR"}

# ---------------------------------------------------------------------------
# The arithmetic, for any cart
# ---------------------------------------------------------------------------

rates_ = st.decimals(min_value=0, max_value=Decimal("99.99"), places=2)
carts = st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=12)
roundings = st.sampled_from([ROUND_HALF_UP, ROUND_HALF_EVEN, ROUND_DOWN])
modes = st.sampled_from([calculation.INCLUSIVE, calculation.EXCLUSIVE])


@SOME
@given(amounts=carts, rate=rates_, rounding=roundings, mode=modes)
def test_net_and_tax_make_the_gross_on_every_line_and_in_total(amounts, rate, rounding, mode):
    lines = [calculation.split_line(amount, rate, mode, rounding) for amount in amounts]
    for amount, line in zip(amounts, lines):
        assert line.net + line.tax == line.gross and line.net >= 0 and line.tax >= 0
        assert (line.gross if mode == calculation.INCLUSIVE else line.net) == amount
        # The tax is the rate's within one minor unit of rounding, never more.
        assert abs(Decimal(line.tax) - Decimal(line.net) * rate / 100) <= 1 + rate / 100
    result = calculation.OrderTax(country="DE", rate=rate, treatment=calculation.STANDARD, lines=tuple(lines))
    assert result.net + result.tax == result.gross == sum(line.gross for line in lines)


@SOME
@given(amounts=carts, rate=rates_, commission=st.floats(min_value=0, max_value=100), mode=modes)
def test_commission_on_the_net_and_the_shares_add_up_to_what_the_buyer_paid(amounts, rate, commission, mode):
    for line in (calculation.split_line(amount, rate, mode) for amount in amounts):
        fee, share = split_sale(line.net, commission)
        assert fee + share == line.net and fee >= 0 and share >= 0
        assert line.tax + fee + share == line.gross


@SOME
@given(country=st.sampled_from(sorted(TABLE.countries)), amounts=carts, mode=modes,
       vat=st.sampled_from(["", "FR12345678901", "DE123456789", "GB123456789", "EL123456789"]))
def test_any_buyer_is_taxed_at_one_rate_of_the_table_or_not_at_all(country, amounts, mode, vat):
    result = calculation.calculate(amounts, country, vat, mode, TABLE, shop_country="DE")
    assert result.net + result.tax == result.gross
    if result.reverse_charge:
        assert TABLE.is_eu(TABLE.country_of_vat_number(vat)) and result.tax == 0
    elif result.treatment == calculation.STANDARD:
        assert result.rate == TABLE.rate_for(country) > 0
    else:
        assert result.tax == 0 and not TABLE.rate_for(country)


def test_the_rate_file_names_its_source_and_date_and_refuses_a_bad_rate():
    assert TABLE.source and TABLE.date and TABLE.rate_for("DE") == Decimal("19") and TABLE.rate_for("US") is None
    assert TABLE.country_of_vat_number("EL123") == "GR" and len(TABLE.eu) == 27
    with pytest.raises(ConfigError, match="the rate of DE"):
        rates.parse({"source": "x", "date": "2026-01-01", "eu": [], "rates": {"DE": "119"}, "countries": {"DE": "Germany"}})


def test_a_vat_number_must_be_of_the_country_given_and_come_with_a_business_name():
    with pytest.raises(ValidationError) as refused:
        checkout_tax.billing_from_form("DE", "Acme SARL", "", "FR12345678901", table=TABLE)
    assert "not of Germany" in refused.value.errors["tax_number"]
    with pytest.raises(ValidationError) as refused:
        checkout_tax.billing_from_form("FR", "", "", "FR 123.456.789-01", table=TABLE)
    assert "business_name" in refused.value.errors
    with pytest.raises(ValidationError) as refused:
        checkout_tax.billing_from_form("XX", table=TABLE)
    assert "country" in refused.value.errors
    billing = checkout_tax.billing_from_form("fr", "Acme SARL", "1 rue de Rivoli\nParis", "fr 123.456.789-01", table=TABLE)
    assert (billing.country, billing.tax_number) == ("FR", "FR12345678901")


# ---------------------------------------------------------------------------
# The EU cases, through the checkout form
# ---------------------------------------------------------------------------


@pytest.fixture
def eu_shop(app_env, make_user):
    app_env.reload(**LEGAL)
    seller = make_user("seller", name="Sam Seller", email="sam@example.com")
    return {"seller": seller, "presets": make_product(seller, "Field recorder presets", 1190, "EUR"),
            "ebook": make_product(seller, "Night photography e-book", 999, "EUR")}


def buy(client, make_user, products, country, **business):
    client.reset()  # each purchase by a customer of its own
    login(client, make_user("customer", name="Casey Customer"))
    for product in products:
        add_to_cart(client, product)
    form = checkout_form(client, "test", country=country)
    for name, value in business.items():
        form[name] = value
    response = form.submit(expect_errors=True)
    assert response.status_int == 303, response.text
    order = Order.select().order_by(Order.id.desc()).get()
    orders.mark_paid(order.id, payment_ref="pi_tax_1")
    return Order.get_by_id(order.id)


def stored(key):
    """A stored PDF's path on the local disk (these tests run on the default storage)."""
    return storage().local_path(key)


def pdf_text(path):
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) is not installed")
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    # The notes wrap: a sentence is found with its line breaks and the layout's spaces as one space.
    return text + "\n" + " ".join(text.split())


def qpdf_check(path):
    """qpdf's structural check of the file, where qpdf is installed (scripts/install-debian-packages.sh)."""
    if shutil.which("qpdf"):
        result = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True)
        assert result.returncode == 0 and "No syntax or stream encoding errors" in result.stdout, result.stdout


def test_a_consumer_in_germany_pays_german_vat_included_in_the_price(client, make_user, eu_shop, app_env):
    order = buy(client, make_user, [eu_shop["presets"], eu_shop["ebook"]], "DE")
    items = list(OrderItem.select().where(OrderItem.order == order).order_by(OrderItem.id))
    assert [(i.net, i.tax, i.price) for i in items] == [(1000, 190, 1190), (839, 160, 999)]
    assert (order.tax_treatment, order.tax_rate, order.net_total, order.tax_total, order.total) == (
        "standard", "19", 1839, 350, 2189)
    assert checkout_tax.evidence(order) == {"country_given": "DE", "address_country": None,
                                            "vat_number_country": None, "card_country": None}
    # The seller's commission is taken on the net; the tax is kept apart in the ledger.
    sales = list(LedgerEntry.select().where(LedgerEntry.order == order).order_by(LedgerEntry.order_item))
    assert [(e.gross, e.tax, e.fee, e.amount) for e in sales] == [(1190, 190, 100, 900), (999, 160, 84, 755)]
    client.reset()
    login(client, eu_shop["seller"])
    reports_page = client.get("/seller/reports")
    assert "Buyers' tax (the shop's to pay)" in reports_page.text and "€3.50" in reports_page.text

    invoice = invoices.generate(order.id)
    assert invoice.label == f"INV-{utcnow().year}-000001"
    path = stored(invoices.pdf_key(invoice))
    text = pdf_text(path)
    for expected in ("Beispiel Marktplatz GmbH", "Hauptstraße 1", "10115 Berlin", "Germany", "VAT/tax number: DE123456789",
                     "Registration: HRB 12345 B, Amtsgericht Berlin", "INVOICE", invoice.label, "Casey Customer",
                     "Field recorder presets", "Night photography e-book", "€10.00", "€1.90", "€11.90", "€8.39",
                     "€1.60", "€9.99", "19%", "Net total", "€18.39", "Tax (19%)", "€3.50", "Total paid", "€21.89",
                     "in its own name as the seller of record"):
        assert expected in text, expected
    qpdf_check(path)
    # Issued is issued: new legal details in the settings do not change the invoice.
    app_env.reload(SHOP_LEGAL_NAME="Renamed GmbH")
    assert invoices.invoice_data(Invoice.get_by_id(invoice.id))["issuer"]["legal_name"] == "Beispiel Marktplatz GmbH"


def test_a_french_business_with_a_vat_number_pays_no_vat_and_the_invoice_says_reverse_charge(client, make_user, eu_shop):
    order = buy(client, make_user, [eu_shop["presets"]], "FR", business_name="Acme SARL",
                address="1 rue de Rivoli\n75001 Paris", tax_number="FR12345678901")
    assert (order.tax_treatment, order.tax_rate, order.tax_total, order.total) == ("reverse_charge", "0", 0, 1190)
    assert checkout_tax.evidence(order) == {"country_given": "FR", "address_country": "FR",
                                            "vat_number_country": "FR", "card_country": None}
    text = pdf_text(stored(invoices.pdf_key(invoices.generate(order.id))))
    for expected in ("Acme SARL", "1 rue de Rivoli", "75001 Paris", "France", "VAT/tax number: FR12345678901",
                     "Reverse charge", "Tax (0%)", "€11.90"):
        assert expected in text, expected


def test_a_consumer_outside_the_eu_pays_no_vat(client, make_user, eu_shop):
    order = buy(client, make_user, [eu_shop["presets"]], "US")
    assert (order.tax_treatment, order.tax_total, order.net_total, order.total) == ("not_taxed", 0, 1190, 1190)
    assert "No VAT or GST is charged" in pdf_text(stored(invoices.pdf_key(invoices.generate(order.id))))


def test_the_tax_is_worked_out_on_the_price_paid_after_a_discount(client, make_user, eu_shop):
    from models import DiscountCode

    DiscountCode.create(code="SPRING", kind="percent", amount=20)
    client.reset()
    login(client, make_user("customer"))
    add_to_cart(client, eu_shop["presets"])
    page = client.get("/cart")
    form = next(f for f in page.forms.values() if f.action == "/cart/code")
    form["code"] = "SPRING"
    form.submit("action", value="apply")
    assert checkout_form(client, "test", country="DE").submit().status_int == 303
    item = OrderItem.get()
    # 20% off €11.90 is €9.52 paid, of which 19% German VAT is €1.52.
    assert (item.list_price, item.discount, item.price, item.net, item.tax) == (1190, 238, 952, 800, 152)
    assert (Order.get().total, Order.get().tax_total) == (952, 152)


def test_with_prices_before_tax_the_tax_is_added_on_top(client, make_user, eu_shop, app_env):
    app_env.reload(PRICES_INCLUDE_TAX="false")
    order = buy(client, make_user, [eu_shop["presets"]], "DE")
    assert (order.net_total, order.tax_total, order.total) == (1190, 226, 1416)
    assert OrderItem.get(OrderItem.order == order).price == 1416


def test_bad_billing_details_are_a_400_and_make_no_order(client, make_user, eu_shop):
    login(client, make_user("customer"))
    add_to_cart(client, eu_shop["presets"])
    form = checkout_form(client, "test", country="DE")
    form["business_name"], form["tax_number"] = "Acme SARL", "123456789"
    response = form.submit(expect_errors=True)
    assert response.status_int == 400 and "Enter the VAT number with its country prefix" in response.text
    assert Order.select().count() == 0 and OrderItem.select().count() == 0


def test_the_card_country_joins_the_evidence_and_a_conflict_shows(client, make_user, eu_shop):
    order = buy(client, make_user, [eu_shop["presets"]], "DE")
    assert checkout_tax.record_card_country(order.id, "at") is True
    assert checkout_tax.record_card_country(order.id, "AT") is False
    assert checkout_tax.evidence_conflicts(Order.get_by_id(order.id)) == {"card_country": "AT"}
    client.reset()
    login(client, make_user("admin"))
    page = client.get(f"/admin/orders/{order.id}")
    assert "card country: AT, country given: DE" in page.text and "names another country than the one taxed" in page.text


# ---------------------------------------------------------------------------
# Credit notes
# ---------------------------------------------------------------------------


def test_a_partial_refund_has_its_credit_note_and_the_full_refund_credits_the_rest(client, make_user, eu_shop, app_env):
    order = buy(client, make_user, [eu_shop["presets"], eu_shop["ebook"]], "DE")
    invoice = invoices.generate(order.id)
    presets, ebook = OrderItem.select().where(OrderItem.order == order).order_by(OrderItem.id)
    note, created = credit_notes.issue(order.id, [ebook.id], reason="The e-book would not open")
    assert created and credit_notes.issue(order.id, [ebook.id])[1] is False  # asked twice: one note
    assert (note.label, note.net, note.tax, note.gross, note.invoice_id) == (
        f"CN-{utcnow().year}-000001", 839, 160, 999, invoice.id)
    with pytest.raises(ValidationError, match="already credited"):
        credit_notes.issue(order.id, [ebook.id, presets.id])
    assert credit_notes.send_credit_note_email(note.id)
    mail = next(m for m in app_env.mails if m["Subject"] == f"Credit note {note.label} for order {order.reference}")
    attachment = next(mail.iter_attachments())
    assert attachment.get_filename() == f"{note.label}.pdf"
    path = stored(credit_notes.pdf_key(CreditNote.get_by_id(note.id)))
    text = pdf_text(path)
    for expected in ("CREDIT NOTE", note.label, "Credits invoice", "Beispiel Marktplatz GmbH",
                     "VAT/tax number: DE123456789", "Night photography e-book", "€8.39", "€1.60", "€9.99", "19%",
                     "Total credited", f"cancels invoice {invoice.label} in part", "The e-book would not open"):
        assert expected in text, expected
    assert "Field recorder presets" not in text
    qpdf_check(path)
    # In the buyer's library.
    page = client.get("/purchases")
    assert f"Download credit note {note.label}" in page.text
    assert client.get(f"/orders/{order.id}/credit-notes/{note.id}").body == path.read_bytes()

    # The refund of the rest credits only what no note has credited yet.
    assert fulfilment.refund_order(order.id, "Refunded")
    rest = CreditNote.select().where(CreditNote.order == order).order_by(CreditNote.id.desc()).get()
    assert rest.label == f"CN-{utcnow().year}-000002" and (rest.net, rest.tax, rest.gross) == (1000, 190, 1190)
    assert f"cancels invoice {invoice.label} in full" in pdf_text(stored(credit_notes.pdf_key(rest)))
    assert any(m["Subject"] == f"Credit note {rest.label} for order {order.reference}" for m in app_env.mails)
    # The refund reversed the ledger, tax included: nothing is left owed to anyone.
    entries = LedgerEntry.select().where(LedgerEntry.order == order)
    assert sum(e.gross for e in entries) == sum(e.tax for e in entries) == sum(e.amount for e in entries) == 0


def test_a_credit_note_drawn_after_a_rename_says_what_was_issued(client, make_user, eu_shop):
    """A part of an order is credited in the admin's request and drawn by a later job: the
    buyer and seller who renamed themselves in between are named as they were."""
    order = buy(client, make_user, [eu_shop["presets"], eu_shop["ebook"]], "DE")
    invoices.generate(order.id)
    ebook = OrderItem.get((OrderItem.order == order) & (OrderItem.product == eu_shop["ebook"]))
    note, _ = credit_notes.issue(order.id, [ebook.id], reason="The e-book would not open")
    User.update(name="Casey Renamed").where(User.id == order.buyer_id).execute()
    User.update(name="Sam Renamed").where(User.id == eu_shop["seller"].id).execute()
    credit_notes.send_credit_note_email(note.id)
    text = pdf_text(stored(credit_notes.pdf_key(CreditNote.get_by_id(note.id))))
    assert "Casey Customer" in text and "Sam Seller" in text and "in part" in text
    assert "Casey Renamed" not in text and "Sam Renamed" not in text


def test_numbers_run_without_gaps_within_each_year(client, make_user, eu_shop):
    first = invoices.generate(buy(client, make_user, [eu_shop["presets"]], "DE").id)
    Invoice.update(year=first.year - 1).where(Invoice.id == first.id).execute()  # last year's
    second = invoices.generate(buy(client, make_user, [eu_shop["ebook"]], "AT").id)
    assert (second.year, second.number) == (first.year, 1)
    assert invoices.next_number(Invoice, first.year) == 2 and invoices.next_number(Invoice, first.year - 1) == 2


def test_the_old_series_keeps_its_numbers():
    assert Invoice(number=7, year=None).label == "INV-000007"
    assert Invoice(number=7, year=2026).label == "INV-2026-000007"


# ---------------------------------------------------------------------------
# The tax report
# ---------------------------------------------------------------------------


def test_the_tax_report_sums_net_and_tax_per_country_and_rate_less_credit_notes(client, make_user, eu_shop):
    german = buy(client, make_user, [eu_shop["presets"], eu_shop["ebook"]], "DE")
    buy(client, make_user, [eu_shop["presets"]], "FR", business_name="Acme SARL", tax_number="FR12345678901")
    ebook = OrderItem.get((OrderItem.order == german) & (OrderItem.product == eu_shop["ebook"]))
    credit_notes.issue(german.id, [ebook.id])
    today = utcnow().date().isoformat()
    start, end = report.period(today, today)
    client.reset()
    login(client, make_user("admin"))
    response = client.get("/admin/tax.csv", {"from": today, "to": today})
    assert response.content_type == "text/csv" and f"tax-{today}-to-{today}.csv" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert response.text == report.tax_csv(start, end)
    by_country = {row["country"]: row for row in rows}
    assert set(by_country) == {"DE", "FR"}
    de = by_country["DE"]
    assert (de["rate"], de["sales"], de["net"], de["tax"], de["gross"], de["credited_net"], de["credited_tax"],
            de["net_after_credits"], de["tax_after_credits"]) == ("19", "2", "18.39", "3.50", "21.89", "-8.39",
                                                                  "-1.60", "10.00", "1.90")
    assert (by_country["FR"]["treatment"], by_country["FR"]["tax"]) == ("reverse_charge", "0.00")
    assert client.get("/admin/tax.csv", {"from": "yesterday"}, expect_errors=True).status_int == 400


def test_the_owner_sets_the_tax_rates_file(app_env, tmp_path):
    own = tmp_path / "rates.json"
    data = json.loads(rates.DEFAULT_FILE.read_text())
    data["rates"]["DE"] = "7"
    own.write_text(json.dumps(data))
    app_env.reload(TAX_RATES_FILE=str(own))
    assert rates.table().rate_for("DE") == Decimal("7") and config.TAX_RATES_FILE == own
    with pytest.raises(ConfigError, match="TAX_CALCULATION=stripe needs Stripe"):
        config.load_settings({**app_env.environ, "TAX_CALCULATION": "stripe"}, dotenv=False)


# ---------------------------------------------------------------------------
# Stripe Tax instead of the rate table
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("include_tax", [True, False])
def test_with_stripe_tax_stripe_works_the_tax_out_and_the_order_records_it(eu_shop, make_user, app_env, include_tax):
    from shop.payments import stripe_gateway

    app_env.reload(STRIPE_SECRET_KEY="sk_test_tax", STRIPE_WEBHOOK_SECRET="whsec_tax", TAX_CALCULATION="stripe",
                   PRICES_INCLUDE_TAX=str(include_tax).lower())
    buyer = make_user("customer")
    for product in (eu_shop["presets"], eu_shop["ebook"]):
        cart.add(buyer, product.id)
    order = orders.create_from_cart(buyer, "stripe", billing=checkout_tax.Billing(country="DE"))
    assert (order.tax_treatment, order.total) == ("stripe", 2189)
    params = stripe_gateway.session_params(order, orders.items_of(order), buyer)
    assert params["automatic_tax"] == {"enabled": True} and params["billing_address_collection"] == "required"
    assert {line["price_data"]["tax_behavior"] for line in params["line_items"]} == {
        "inclusive" if include_tax else "exclusive"}
    total = 2189 if include_tax else 2189 + 350
    session = {"id": "cs_tax", "payment_status": "paid", "amount_total": total, "currency": "eur",
               "total_details": {"amount_tax": 350}, "customer_details": {"address": {"country": "DE"}},
               "payment_intent": {"id": "pi_tax", "status": "succeeded", "amount": total, "currency": "eur",
                                  "latest_charge": {"payment_method_details": {"card": {"country": "AT"}}}}}
    stripe_gateway.settle_session(order, session)
    order = Order.get_by_id(order.id)
    items = list(OrderItem.select().where(OrderItem.order == order).order_by(OrderItem.id))
    assert order.status == "paid" and (order.tax_total, order.total) == (350, total)
    assert sum(i.tax for i in items) == 350 and all(i.net + i.tax == i.price for i in items)
    assert order.net_total + order.tax_total == order.total == sum(i.price for i in items)
    assert checkout_tax.evidence(order)["card_country"] == "AT"
    # The same session told again (a redelivered event) changes nothing.
    assert stripe_gateway.settle_session(order, session).change.name == "UNCHANGED"
    assert Order.get_by_id(order.id).total == total
    # Stripe charging another amount than the order's is refused, as before.
    other = dict(session, amount_total=total + 1)
    with pytest.raises(stripe_gateway.PaymentMismatch):
        stripe_gateway.settle_session(order, other)


@SOME
@given(total=st.integers(min_value=0, max_value=10**7), weights=st.lists(st.integers(min_value=0, max_value=10**6),
                                                                         min_size=1, max_size=10))
def test_stripes_tax_is_shared_among_the_items_exactly(total, weights):
    parts = checkout_tax.shares(total, weights)
    assert sum(parts) == total and len(parts) == len(weights) and min(parts) >= 0


def test_invoicing_on_the_sellers_behalf_prints_their_legal_details(client, make_user, eu_shop, app_env):
    app_env.reload(INVOICE_ISSUER="seller")
    login(client, eu_shop["seller"])
    page = client.get("/account")
    form = next(f for f in page.forms.values() if f.action == "/account/legal")
    form["legal_name"], form["legal_address"], form["tax_number"] = "Sam Seller Audio UG", "Seestraße 5\n80802 München", "de 987 654 321"
    assert form.submit().status_int == 303
    order = buy(client, make_user, [eu_shop["presets"]], "DE")
    text = pdf_text(stored(invoices.pdf_key(invoices.generate(order.id))))
    for expected in ("Sam Seller Audio UG", "Seestraße 5", "80802 München", "DE987654321",
                     "in the name and on behalf of the sellers named above", "Beispiel Marktplatz GmbH"):
        assert expected in text, expected


def test_the_admin_issues_the_credit_note_of_a_partial_refund_made_in_the_gateway(client, make_user, eu_shop, app_env):
    order = buy(client, make_user, [eu_shop["presets"], eu_shop["ebook"]], "DE")
    ebook = OrderItem.get((OrderItem.order == order) & (OrderItem.product == eu_shop["ebook"]))
    client.reset()
    login(client, make_user("admin"))
    page = client.get(f"/admin/orders/{order.id}")
    form = next(f for f in page.forms.values() if f.action.endswith("/credit-note"))
    assert client.post(f"/admin/orders/{order.id}/credit-note", {"csrf_token": form["csrf_token"].value},
                       status=303).follow().text.count("Choose items of this order to credit") == 1
    assert CreditNote.select().count() == 0
    form["item_id"] = [str(ebook.id)]  # the e-book's checkbox
    form["reason"] = "Refunded the e-book in Stripe"
    page = form.submit().follow()
    note = CreditNote.get()
    assert f"Credit note {note.label} issued for €9.99" in page.text and note.gross == 999
    assert any(m["Subject"] == f"Credit note {note.label} for order {order.reference}" for m in app_env.mails)
    # The credited item is no longer offered; the other still is.
    offered = page.html.select(f"form[action='/admin/orders/{order.id}/credit-note'] input[name=item_id]")
    presets = OrderItem.get((OrderItem.order == order) & (OrderItem.product == eu_shop["presets"]))
    assert [box["value"] for box in offered] == [str(presets.id)]
