"""The public shop's routes that the browser tests do not already hold to account."""

from tests.shop_fixtures import make_product


def test_favicon_ico_answers_with_the_shops_icon(client):
    # Browsers ask for /favicon.ico on pages that name no icon, such as a PDF in the viewer.
    response = client.get("/favicon.ico")
    assert response.status_int == 200 and response.content_type == "image/svg+xml"
    assert response.body == client.get("/static/favicon.svg").body


def test_the_product_page_writes_small_file_sizes_exactly(client, make_user):
    seller = make_user("seller")
    for content, shown in ((b"x" * 605, "605 bytes"), (b"x" * 1229, "1.2 KB"), (b"x" * 3_250_000, "3.1 MB")):
        product = make_product(seller, f"A file of {len(content)} bytes", content=content)
        page = client.get(f"/products/{product.slug}")
        assert f"Digital download · {shown} ·" in " ".join(page.html.select_one("main").get_text(" ").split())
