"""Registration, login, logout, sessions, CSRF and login throttling."""

import re

from shop import config
from models import LoginAttempt, Session, User
from tests.conftest import PASSWORD, login


def register(client, **fields):
    page = client.get("/register")
    form = page.forms[1]
    values = {"name": "Rita Reader", "email": "rita@example.com", "password": "a-long-password", "role": "customer"}
    values.update(fields)
    for key, value in values.items():
        form[key].force_value(value)
    return form.submit(expect_errors=True)


def test_register_logs_the_new_user_in(client):
    response = register(client)
    assert response.status_int == 303
    page = response.follow()
    assert "Welcome, Rita Reader" in page.text
    assert "Log out" in page.text
    user = User.get(User.email == "rita@example.com")
    assert user.role == "customer"
    assert user.password_hash.startswith("$argon2id$")


def test_register_rerenders_with_clear_messages(client, make_user):
    make_user("customer", email="taken@example.com")
    response = register(client, email="taken@example.com", password="short", name="")
    assert response.status_int == 400
    assert "An account with this email already exists." not in response.text  # password error comes first
    assert "Use at least 8 characters." in response.text
    assert "Enter your name." in response.text
    response = register(client, email="TAKEN@example.com")
    assert "An account with this email already exists." in response.text
    assert User.select().count() == 1


def test_nobody_registers_as_admin(client):
    response = register(client, role="admin")
    assert response.status_int == 400
    assert not User.select().where(User.role == "admin").exists()


def test_session_cookie_is_httponly_and_lax(client, make_user):
    user = make_user()
    response = login(client, user)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
    assert "Secure" not in cookie
    token = re.search(r"session=([^;]+)", cookie).group(1)
    stored = Session.get()
    assert stored.token_hash != token and len(stored.token_hash) == 64


def test_secure_cookie_when_app_url_is_https(client, app_env):
    app_env.reload(APP_URL="https://shop.example.com")
    response = client.get("/login")
    assert "Secure" in response.headers["Set-Cookie"]


def test_wrong_password_is_refused(client, make_user):
    user = make_user()
    response = login(client, user, "not-the-password")
    assert response.status_int == 401
    assert "Wrong email or password." in response.text


def test_repeated_failures_from_one_address_are_slowed_down(client, make_user):
    user = make_user()
    for _ in range(config.LOGIN_MAX_FAILURES):
        assert login(client, user, "nope-nope-nope").status_int == 401
    response = login(client, user, PASSWORD)  # even the right password waits now
    assert response.status_int == 429
    assert "Too many failed logins" in response.text
    assert int(response.headers["Retry-After"]) > 0
    assert LoginAttempt.get(LoginAttempt.key == "address:127.0.0.1").attempts == config.LOGIN_MAX_FAILURES + 1


def test_logout_ends_the_session(client, login_as):
    login_as("customer")
    page = client.get("/")
    page.forms[1].submit().follow()
    assert Session.select().count() == 0
    assert "Log in" in client.get("/").text


def test_post_without_csrf_token_is_refused(client, make_user):
    user = make_user()
    response = client.post("/login", {"email": user.email, "password": PASSWORD}, expect_errors=True)
    assert response.status_int == 403
    assert "did not come from this site" in response.text
    assert Session.select().count() == 0


def test_csrf_token_of_another_visitor_is_refused(client, make_user):
    from webtest import TestApp

    import marketplace

    user = make_user()
    other = TestApp(marketplace.app)
    token = other.get("/login").forms[1]["csrf_token"].value
    client.get("/login")
    response = client.post("/login", {"email": user.email, "password": PASSWORD, "csrf_token": token},
                           expect_errors=True)
    assert response.status_int == 403


def test_login_next_only_goes_to_this_site(client, make_user):
    user = make_user()
    page = client.get("/login?next=//evil.example.com/")
    form = page.forms[1]
    form["email"], form["password"] = user.email, PASSWORD
    location = form.submit().headers["Location"]
    assert location.endswith("/") and "evil" not in location
