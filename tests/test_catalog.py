"""The public shop's routes that the browser tests do not already hold to account."""


def test_favicon_ico_answers_with_the_shops_icon(client):
    # Browsers ask for /favicon.ico on pages that name no icon, such as a PDF in the viewer.
    response = client.get("/favicon.ico")
    assert response.status_int == 200 and response.content_type == "image/svg+xml"
    assert response.body == client.get("/static/favicon.svg").body
