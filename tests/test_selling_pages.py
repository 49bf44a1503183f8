"""The selling tools' pages: sellers and the owner make and disable discount codes, each
seeing only their own; the seller sees the keys sold with their activations, and disables,
resets or replaces one."""

from shop.orders import cart, orders
from shop.selling import licenses
from models import DiscountCode, LicenseKey
from tests.conftest import login
from tests.shop_fixtures import make_product


def discount_form(page, action):
    return next(f for f in page.forms.values() if f.action == action)


def test_a_seller_makes_a_code_for_chosen_products_and_disables_it(client, login_as, make_user):
    seller = login_as("seller")
    mine = make_product(seller, "My presets", 1500)
    make_product(make_user("seller"), "Their presets", 1500)
    page = client.get("/seller/discounts")
    assert "My presets" in page.text and "Their presets" not in page.text
    form = discount_form(page, "/seller/discounts")
    form["code"] = "launch"
    form["kind"] = "percent"
    form["amount"] = "150"
    response = form.submit(expect_errors=True)
    assert response.status_int == 400 and "Enter a percentage from 1 to 100." in response.text
    form = discount_form(response, "/seller/discounts")
    form["amount"] = "15"
    form["products"] = [str(mine.id)]
    form["max_uses"] = "100"
    form["ends_on"] = "2030-01-31"
    page = form.submit().follow()
    assert "Discount code LAUNCH created: 15% off." in page.text
    assert "/?code=LAUNCH" in page.text and "0 of 100" in page.text
    code = DiscountCode.get()
    assert (code.seller_id, code.all_products, code.ends_at.isoformat()) == (seller.id, 0, "2030-02-01T00:00:00")
    discount_form(page, f"/seller/discounts/{code.id}/disable").submit()
    assert DiscountCode.get_by_id(code.id).disabled_at is not None
    # A code of the same name is refused, whoever owns it.
    form = discount_form(client.get("/seller/discounts"), "/seller/discounts")
    form["code"], form["kind"], form["amount"] = "LAUNCH", "fixed", "5"
    assert "That code is taken" in form.submit(expect_errors=True).text


def test_another_sellers_code_answers_404_and_the_owner_makes_shop_wide_codes(client, login_as, make_user):
    other = make_user("seller")
    theirs = DiscountCode.create(code="THEIRS", seller=other, kind="percent", amount=10)
    login_as("seller")
    page = client.get("/seller/discounts")
    assert "THEIRS" not in page.text
    response = client.post(f"/seller/discounts/{theirs.id}/disable",
                           {"csrf_token": discount_form(page, "/seller/discounts")["csrf_token"].value},
                           expect_errors=True)
    assert response.status_int == 404 and DiscountCode.get_by_id(theirs.id).disabled_at is None
    client.reset()
    login_as("admin")
    form = discount_form(client.get("/admin/discounts"), "/admin/discounts")
    form["code"], form["kind"], form["amount"] = "SHOP5", "fixed", "5"
    assert "$5.00 off" in form.submit().follow().text
    assert DiscountCode.get(DiscountCode.code == "SHOP5").seller_id is None
    assert client.get("/seller/discounts", expect_errors=True).status_int == 403


def test_the_seller_sees_keys_and_activations_and_changes_them(client, login_as, make_user):
    seller = login_as("seller")
    product = make_product(seller, "Synth plugin", 2900)
    product.license_activations = 2
    product.save()
    buyer = make_user("customer", name="Casey Buyer")
    cart.add(buyer, product.id)
    assert orders.mark_paid(orders.create_from_cart(buyer, "test").id)
    key = LicenseKey.get()
    licenses.activate(key.key, "studio-mac")
    page = client.get("/seller/licenses")
    assert key.key in page.text and "Casey Buyer" in page.text and "studio-mac" in page.text and "1 of 2" in page.text
    assert key.key in client.get("/seller/licenses", {"q": key.key[6:11].lower()}).text
    assert "No key of yours contains" in client.get("/seller/licenses", {"q": "ZZZZZZZZZZ"}).text
    page = discount_form(page, f"/seller/licenses/{key.id}/reset").submit().follow()
    assert "1 activation(s) forgotten" in page.text and LicenseKey.get_by_id(key.id).activation_count == 0
    page = discount_form(page, f"/seller/licenses/{key.id}/replace").submit().follow()
    replacement = LicenseKey.get(LicenseKey.id != key.id)
    assert f"replaced by {replacement.key}" in page.text
    discount_form(page, f"/seller/licenses/{replacement.id}/disable").submit()
    assert licenses.state(LicenseKey.get_by_id(replacement.id)) == "disabled"
    # Another seller's key is not theirs to change.
    stranger = make_user("seller")
    client.reset()
    login(client, stranger)
    assert key.key not in client.get("/seller/licenses").text
    csrf = discount_form(client.get("/seller/discounts"), "/seller/discounts")["csrf_token"].value
    assert client.post(f"/seller/licenses/{key.id}/reset", {"csrf_token": csrf}, expect_errors=True).status_int == 404
