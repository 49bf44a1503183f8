"""Properties that hold for any input (hypothesis): the webhook parsers, the money arithmetic and
the download tokens. Examples are kept moderate so the file runs in seconds."""

import dataclasses
import json
import time

import stripe
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from paytmchecksum import PaytmChecksum

from shop.orders import cart
from shop import config
from shop.orders import downloads
from shop.orders import orders
from shop.payments import paytm_gateway
from shop.payments import stripe_gateway
from shop.errors import ValidationError, WebhookError
from models import DownloadLink
from shop.money import MAX_PRICE_MAJOR, exponent, format_money, parse_money, split_sale
from tests.shop_fixtures import PAYTM_KEY, make_product

SECRET = "whsec_property_tests"
SOME = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20)
events = st.fixed_dictionaries({"id": st.text(max_size=30) | st.integers(), "type": st.sampled_from(
    [*stripe_gateway.HANDLED_EVENTS, "customer.created", ""]) | json_values,
    "data": st.fixed_dictionaries({"object": json_values | st.fixed_dictionaries(
        {"id": st.text(max_size=20), "metadata": json_values, "client_reference_id": json_values,
         "payment_status": st.sampled_from(["paid", "unpaid"])})})}) | json_values


def signed(body, secret=SECRET, timestamp=None):
    return stripe.WebhookSignature.generate_signature_header(body, secret, timestamp=timestamp)


# ---------------------------------------------------------------------------
# Stripe
# ---------------------------------------------------------------------------


@SOME
@given(event=events, secret=st.text(min_size=1, max_size=30).filter(lambda s: s != SECRET))
def test_any_event_signed_with_another_secret_is_refused(event, secret):
    body = json.dumps(event)
    try:
        stripe_gateway.parse_signed_event(body, signed(body, secret), SECRET)
    except WebhookError:
        return
    raise AssertionError("a forged signature was accepted")


@SOME
@given(event=events)
def test_any_signed_event_is_parsed_or_refused_never_crashes(event):
    body = json.dumps(event)
    try:
        parsed = stripe_gateway.parse_signed_event(body.encode(), signed(body), SECRET)
    except WebhookError:
        return
    assert parsed is None or (isinstance(parsed[0], str) and "\x00" not in parsed[0]
                              and parsed[1] in stripe_gateway.HANDLED_EVENTS)


@SOME
@given(body=st.binary(max_size=300), age=st.integers(min_value=301, max_value=10**6))
def test_any_bytes_or_stale_signature_are_refused(body, age):
    text = body.decode("latin-1")
    for signature in ("", "t=1,v1=" + "0" * 64, signed(text, timestamp=int(time.time()) - age)):
        try:
            stripe_gateway.parse_signed_event(body, signature, SECRET)
        except WebhookError:
            continue
        raise AssertionError(f"accepted {body!r} with {signature!r}")


@SOME
@given(offset=st.integers(min_value=-10**7, max_value=10**7))
def test_a_signature_is_accepted_only_within_the_tolerance_either_way(offset):
    """Stripe's own signing, dated `offset` seconds from now: the shop holds the tolerance
    both ways (a few seconds of slack at the edges, for the time the test itself takes)."""
    body = json.dumps({"id": "evt_1", "type": "customer.created", "data": {"object": {"id": "cus_1"}}})
    tolerance = stripe_gateway.TOLERANCE_SECONDS
    assume(abs(abs(offset) - tolerance) > 5)
    try:
        stripe_gateway.parse_signed_event(body.encode(), signed(body, timestamp=int(time.time()) + offset), SECRET)
    except WebhookError:
        assert abs(offset) > tolerance, offset
        return
    assert abs(offset) < tolerance, offset


# ---------------------------------------------------------------------------
# Paytm checksums
# ---------------------------------------------------------------------------

# paytmchecksum joins the values in key order with "|" and reads "null" (any case) as
# empty: keys and values stay within what Paytm's fields look like. CHECKSUMHASH is the
# checksum's own field, left out of what it signs.
field_names = st.text(alphabet=st.characters(whitelist_categories=("Lu", "Nd")), min_size=1, max_size=12).filter(
    lambda name: name != "CHECKSUMHASH")
field_values = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="|"),
                       max_size=30).filter(lambda value: value.lower() != "null")
forms = st.dictionaries(field_names, field_values, min_size=1, max_size=8)


@SOME
@given(fields=forms, data=st.data())
def test_a_paytm_checksum_accepts_its_form_and_refuses_any_single_change(app_env, fields, data):
    config.use(dataclasses.replace(config.current(), PAYTM_MERCHANT_KEY=PAYTM_KEY))
    checksum = PaytmChecksum.generateSignature(dict(fields), PAYTM_KEY)
    assert paytm_gateway.verify(dict(fields), checksum)
    key = data.draw(st.sampled_from(sorted(fields)))
    changed = data.draw(field_values.filter(lambda value: value != fields[key]))
    assert not paytm_gateway.verify({**fields, key: changed}, checksum)
    assert not paytm_gateway.verify(dict(fields), checksum[:-1] + ("A" if checksum[-1] != "A" else "B"))
    assert not paytm_gateway.verify(dict(fields), PaytmChecksum.generateSignature(dict(fields), "B" * 16))


@SOME
@given(checksum=st.text(max_size=200) | st.binary(max_size=100).map(lambda b: b.decode("latin-1")))
def test_any_forged_paytm_checksum_is_refused(app_env, checksum):
    config.use(dataclasses.replace(config.current(), PAYTM_MERCHANT_KEY=PAYTM_KEY))
    assert not paytm_gateway.verify({"ORDERID": "ORD-1", "STATUS": "TXN_SUCCESS"}, checksum)


# ---------------------------------------------------------------------------
# Money
# ---------------------------------------------------------------------------

CURRENCIES = ["USD", "EUR", "INR", "JPY", "KWD", "CHF", "BHD"]


@SOME
@given(prices=st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=20),
       percent=st.decimals(min_value=0, max_value=100, places=2).map(float))
def test_fees_and_shares_of_any_order_sum_to_its_total(prices, percent):
    splits = [split_sale(price, percent) for price in prices]
    assert all(0 <= fee <= price and share >= 0 for (fee, share), price in zip(splits, prices))
    assert sum(fee for fee, _ in splits) + sum(share for _, share in splits) == sum(prices)


@SOME
@given(sellers=st.lists(st.lists(st.integers(min_value=1, max_value=10**7), min_size=1, max_size=5),
                        min_size=1, max_size=4),
       percent=st.integers(min_value=0, max_value=100))
def test_every_sellers_share_plus_the_platforms_fees_is_the_order_total(sellers, percent):
    shares = [sum(split_sale(price, percent)[1] for price in items) for items in sellers]
    fees = sum(split_sale(price, percent)[0] for items in sellers for price in items)
    assert sum(shares) + fees == sum(price for items in sellers for price in items)


@SOME
@given(currency=st.sampled_from(CURRENCIES), data=st.data())
def test_any_price_reads_back_from_its_formatted_text(currency, data):
    largest = int(MAX_PRICE_MAJOR) * 10 ** exponent(currency) - 1
    minor = data.draw(st.integers(min_value=1, max_value=largest))
    text = format_money(minor, currency)
    assert parse_money(text, currency) == minor, text


@SOME
@given(text=st.text(max_size=20))
def test_parse_money_answers_any_text_with_an_amount_or_a_form_error(text):
    try:
        minor = parse_money(text, "USD")
    except ValidationError as exc:
        assert set(exc.errors) == {"price"}
        return
    assert 0 < minor < int(MAX_PRICE_MAJOR) * 100


@SOME
@given(units=st.integers(min_value=0, max_value=99_999), cents=st.integers(min_value=0, max_value=99),
       currency=st.sampled_from(["USD", "EUR", "INR", "KWD"]))
def test_a_decimal_comma_is_refused_never_read_as_thousands(units, cents, currency):
    """"12,50" was stored as 1,250.00: a comma before one or two digits is a decimal comma."""
    for text in (f"{units},{cents:02d}", f"{units},{cents % 10}", f"{currency} {units},{cents:02d}"):
        try:
            parse_money(text, currency)
        except ValidationError as exc:
            assert set(exc.errors) == {"price"}
            continue
        raise AssertionError(f"{text!r} was read as an amount")


@SOME
@given(text=st.text(alphabet="0123456789,.", min_size=1, max_size=14),
       currency=st.sampled_from(["USD", "JPY", "KWD"]))
def test_an_accepted_comma_only_ever_groups_thousands(text, currency):
    """Whatever is accepted with a comma reads as the same digits without it, and the comma
    could have meant nothing else: whole groups of three, before a decimal point (or in a
    currency without minor units)."""
    try:
        minor = parse_money(text, currency)
    except ValidationError:
        return
    if "," in text:
        whole, point, _ = text.partition(".")
        assert point or exponent(currency) == 0, text
        groups = whole.split(",")
        assert 1 <= len(groups[0]) <= 3 and all(len(group) == 3 for group in groups[1:]), text
    assert minor == parse_money(text.replace(",", ""), currency)


def test_prices_with_commas_are_read_only_when_unambiguous():
    assert parse_money("12.50", "USD") == 1250
    assert parse_money("12", "USD") == 1200
    assert parse_money("1,250.00", "USD") == 125000
    assert parse_money("$1,299.99", "USD") == 129999
    assert parse_money("¥1,250", "JPY") == 1250
    for text in ("12,50", "0,99", "1,2,3", "1,250", "1,25.00", ",99", "12,5", "1,250,5.00"):
        try:
            parse_money(text, "USD")
        except ValidationError as exc:
            assert "Use a point for the decimals" in exc.errors["price"], text
        else:
            raise AssertionError(f"{text!r} was read as an amount")


# ---------------------------------------------------------------------------
# Download tokens
# ---------------------------------------------------------------------------


def test_a_download_token_opens_its_own_link_for_its_own_buyer_only(make_user):
    seller = make_user("seller")
    buyers = [make_user("customer"), make_user("customer")]
    for buyer in buyers:
        cart.add(buyer, make_product(seller, f"Product for {buyer.id}").id)
        orders.mark_paid(orders.create_from_cart(buyer, "test").id)
    links = list(DownloadLink.select().order_by(DownloadLink.id))
    tokens = [downloads.token_for(link.nonce) for link in links]
    assert len(set(tokens)) == 2

    @SOME
    @given(index=st.integers(0, 1), data=st.data())
    def check(index, data):
        token, owner, other = tokens[index], buyers[index], buyers[1 - index]
        try:
            downloads.claim(token, other, count=False)
            raise AssertionError("another buyer's token was accepted")
        except downloads.DownloadRefused as exc:
            assert exc.status == 403
        position = data.draw(st.integers(0, len(token) - 1))
        replacement = data.draw(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"))
        assume(replacement != token[position])
        for mutated in (token[:position] + replacement + token[position + 1:], token[:position], token + replacement,
                        token.upper() if token.upper() != token else token.lower()):
            if mutated == token or mutated in tokens:
                continue
            try:
                downloads.claim(mutated, owner, count=False)
                raise AssertionError(f"a mutated token was accepted: {mutated}")
            except downloads.DownloadRefused as exc:
                assert exc.status == 404
        assert downloads.claim(token, owner, count=False)[0].buyer_id == owner.id

    check()


@SOME
@given(first=st.text(min_size=1, max_size=30), second=st.text(min_size=1, max_size=30))
def test_tokens_of_different_nonces_differ(first, second):
    first, second = first.encode("ascii", "ignore").decode() or "a", second.encode("ascii", "ignore").decode() or "b"
    assume(first != second)
    assert downloads.token_for(first) != downloads.token_for(second)
