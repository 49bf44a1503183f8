"""The login throttle under real concurrency: attempts sent at once, to a served shop, from one
address or at one account, get at most LOGIN_MAX_FAILURES password checks between them.

30 wrong passwords sent at once from one address once got 12 checks before the first 429:
the failures were counted after the password was checked, so they all passed the check
first. The attempt is now counted before (shop/accounts/users.py).
"""

import http.cookiejar
import re
import threading
import urllib.error
import urllib.parse
import urllib.request

import pytest

from shop import config
from shop import security
from shop.accounts import users
from models import LoginAttempt
from tests.conftest import PASSWORD, login

AT_ONCE = 30


@pytest.fixture
def password_checks(monkeypatch):
    """Counts every password the shop checks (the argon2 verification a guess costs)."""
    checks = []
    lock = threading.Lock()
    verify = security.verify_password

    def counting(password_hash, password):
        with lock:
            checks.append(password)
        return verify(password_hash, password)

    monkeypatch.setattr(security, "verify_password", counting)
    return checks


def browser(live_app):
    """An opener with its own cookies, and the CSRF token of its login form."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    page = opener.open(live_app.url + "/login", timeout=30).read().decode()
    return opener, re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def fire_at_once(live_app, opener, token, attempts):
    """POST /login for each (email, password, address) in `attempts`, all released at once;
    returns the statuses."""
    barrier = threading.Barrier(len(attempts))
    statuses = [None] * len(attempts)

    def attempt(number, email, password, address):
        body = urllib.parse.urlencode({"email": email, "password": password, "csrf_token": token}).encode()
        request = urllib.request.Request(live_app.url + "/login", data=body, headers={"X-Real-IP": address})
        barrier.wait()
        try:
            with opener.open(request, timeout=60) as answer:
                statuses[number] = answer.status
        except urllib.error.HTTPError as error:
            statuses[number] = error.code

    threads = [threading.Thread(target=attempt, args=(number, *fields)) for number, fields in enumerate(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(90)
    return statuses


def test_wrong_passwords_sent_at_once_from_one_address_get_at_most_the_limit_checked(
        live_app, make_user, password_checks):
    make_user("customer", email="victim@example.com")
    opener, token = browser(live_app)
    emails = [f"guess{number}@example.com" for number in range(AT_ONCE - 1)] + ["victim@example.com"]
    statuses = fire_at_once(live_app, opener, token, [(email, "wrong-password", "198.51.100.7") for email in emails])
    assert len(password_checks) <= config.LOGIN_MAX_FAILURES, len(password_checks)
    assert statuses.count(401) == len(password_checks) and statuses.count(429) == AT_ONCE - len(password_checks)
    assert LoginAttempt.get(LoginAttempt.key == "address:198.51.100.7").attempts == AT_ONCE


def test_wrong_passwords_sent_at_once_at_one_account_get_at_most_the_limit_checked(
        live_app, make_user, password_checks):
    make_user("customer", email="victim@example.com")
    opener, token = browser(live_app)
    # Each from an address of its own: only the account's counter can stop them.
    statuses = fire_at_once(live_app, opener, token, [("Victim@Example.com ", f"guess-{number}", f"203.0.113.{number}")
                                                      for number in range(AT_ONCE)])
    assert len(password_checks) <= config.LOGIN_MAX_FAILURES, len(password_checks)
    assert statuses.count(429) == AT_ONCE - len(password_checks)


def test_a_locked_account_answers_the_same_whether_or_not_it_exists(client, make_user):
    make_user("customer", email="real@example.com")
    answers = {}
    for number, email in enumerate(("real@example.com", "nobody@example.com")):
        client.extra_environ["HTTP_X_REAL_IP"] = f"192.0.2.{number}"  # each from an address of its own
        for _ in range(config.LOGIN_MAX_FAILURES):
            client.reset()
            assert login(client, email, "wrong-password").status_int == 401
        client.reset()
        response = login(client, email, "wrong-password")
        answers[email] = (response.status_int, response.html.select_one(".flash, .error, main").text.strip()[:200])
    assert answers["real@example.com"] == answers["nobody@example.com"]
    assert answers["real@example.com"][0] == 429


def test_right_passwords_do_not_use_up_the_address(client, make_user, app_env):
    """A shared address (an office behind one NAT) logs in many times; only wrong guesses count."""
    people = [make_user("customer") for _ in range(config.LOGIN_MAX_FAILURES * 2)]
    for person in people:
        client.reset()
        assert login(client, person).status_int == 303
    assert LoginAttempt.get(LoginAttempt.key == "address:127.0.0.1").attempts == 0


def test_the_owners_login_clears_the_guesses_at_the_account(client, make_user):
    user = make_user("customer")
    for _ in range(config.LOGIN_MAX_FAILURES - 1):
        assert login(client, user, "wrong-password").status_int == 401
    client.reset()
    assert login(client, user, PASSWORD).status_int == 303
    account = users.throttle_keys(user.email, "127.0.0.1")["account"]
    assert LoginAttempt.get_or_none(LoginAttempt.key == account) is None


def test_a_window_that_ended_starts_again(make_user, app_env):
    import datetime

    key = "address:192.0.2.1"
    start = datetime.datetime(2030, 1, 1, 12, 0, 0)
    assert users.count_attempt(key, start)[0] == 1
    assert users.count_attempt(key, start + datetime.timedelta(seconds=1))[0] == 2
    later = start + datetime.timedelta(seconds=config.LOGIN_LOCKOUT_SECONDS + 1)
    assert users.count_attempt(key, later) == (1, later)
