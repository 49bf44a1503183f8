"""The seller's reports: sales per day as a chart, per product, refunds, fees, payouts, and CSV files."""

import csv
import datetime
import io

from shop.orders import fulfilment
from shop.payouts import chart
from shop.payouts import reports
from models import LedgerEntry, utcnow
from tests.conftest import login
from tests.shop_fixtures import make_product
from tests.test_ledger import paid_order
from tests.test_payouts import age, pay


def history(make_user):
    """Sam: presets sold 40 days ago and paid out, loops sold today and one refunded; Priya: a book."""
    sam, priya, customer = make_user("seller"), make_user("seller"), make_user("customer")
    presets, loops = make_product(sam, "Presets", 2000), make_product(sam, "=Loops+1", 1000)
    age(paid_order(customer, [presets]), 40)
    pay(sam, 1800, "key-1", reference="BANK-9")
    paid_order(customer, [loops])
    refunded = paid_order(make_user("customer"), [loops])
    fulfilment.refund_order(refunded.id)
    paid_order(customer, [make_product(priya, "Book", 700)])
    return sam


def test_sales_per_day_fill_every_day_of_the_period(make_user):
    sam = history(make_user)
    days = reports.daily_sales(sam, 30)
    assert len(days) == 30 and days[-1][0] == utcnow().date()
    assert days[-1][1:] == (2000, 2) and sum(gross for _, gross, _ in days) == 2000
    year = reports.daily_sales(sam, 365)
    assert len(year) == 365 and sum(gross for _, gross, _ in year) == 4000
    forty_days_ago = (utcnow() - datetime.timedelta(days=40)).date()
    assert dict((day, gross) for day, gross, _ in year)[forty_days_ago] == 2000


def test_the_summary_counts_sales_refunds_fees_and_payouts_of_the_period(make_user):
    sam = history(make_user)
    month = reports.summary(sam, 30)
    assert month["totals"] == {"sold": 2, "gross": 2000, "refunded": 1, "refunds": 1000, "tax": 0, "fees": 100,
                               "net": 900, "payouts": 1800}
    assert [row["title"] for row in month["products"]] == ["=Loops+1"]
    year = reports.summary(sam, 90)
    assert [(row["title"], row["net"]) for row in year["products"]] == [("=Loops+1", 900), ("Presets", 1800)]  # equal gross: by title


def test_the_chart_draws_one_bar_per_day_with_a_tooltip():
    today = utcnow().date()
    days = [(today - datetime.timedelta(days=2), 0, 0), (today - datetime.timedelta(days=1), 1500, 1),
            (today, 300, 2)]
    drawn = chart.sales_per_day(days, "USD")
    assert drawn["svg"].count('class="chart-bar-ok"') == 2 and drawn["svg"].count("<title>") == 3
    assert drawn["y_top"] == "$20.00" and drawn["summary"] == "$18.00 in 3 days"
    assert f"{today:%d %b %Y}: $3.00, 2 items" in drawn["svg"]


def test_the_sales_csv_has_one_row_per_item_in_the_columns_an_accountant_expects(client, make_user):
    sam = history(make_user)
    login(client, sam)
    response = client.get("/seller/reports/sales.csv?days=365")
    assert response.content_type == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert list(rows[0]) == list(reports.SALES_COLUMNS)
    assert [(r["product"], r["type"], r["gross"], r["commission"], r["net"]) for r in rows] == [
        ("Presets", "sale", "20.00", "2.00", "18.00"),
        ("'=Loops+1", "sale", "10.00", "1.00", "9.00"),
        ("'=Loops+1", "sale", "10.00", "1.00", "9.00"),
        ("'=Loops+1", "refund", "-10.00", "-1.00", "-9.00"),
    ]
    assert len(rows) == LedgerEntry.select().where((LedgerEntry.seller == sam) & (LedgerEntry.kind != "payout")).count()
    assert {r["currency"] for r in rows} == {"USD"} and all(r["order"].startswith("MP-") for r in rows)
    # The last 30 days leave out the sale of 40 days ago.
    assert len(list(csv.DictReader(io.StringIO(client.get("/seller/reports/sales.csv?days=30").text)))) == 3


def test_the_payouts_csv_lists_each_payout(client, make_user):
    sam = history(make_user)
    login(client, sam)
    rows = list(csv.DictReader(io.StringIO(client.get("/seller/reports/payouts.csv").text)))
    assert [(r["method"], r["reference"], r["currency"], r["amount"]) for r in rows] == [("bank", "BANK-9", "USD",
                                                                                          "18.00")]


def test_the_reports_page_shows_the_chart_the_products_and_the_files(client, make_user):
    sam = history(make_user)
    login(client, sam)
    page = client.get("/seller/reports?days=90")
    assert page.html.select_one("figure.chart svg") is not None
    assert [a.get_text() for a in page.html.select(".tabs a")] == ["30 days", "90 days", "365 days"]
    assert "Presets" in page.html.select_one("table.per-product").get_text()
    assert page.html.select_one("a[href='/seller/reports/sales.csv?days=90']") is not None
    # An unknown period falls back to 30 days; the page is for sellers only.
    assert "last 30 days" in client.get("/seller/reports?days=7").text
    client.reset()
    login(client, make_user("customer"))
    assert client.get("/seller/reports", expect_errors=True).status_int == 403
    assert client.get("/seller/reports/sales.csv", expect_errors=True).status_int == 403
