"""Sign-in limits (OWASP ASVS v4 2.2.1 / v5 6.3): one budget per account whatever the path,
a tight limit per account and client, a loose one per account, and no lock-out of the owner
on a device that has signed in before.

The limits are read from the config at request time, so tests shrink them. Nothing here
travels in time: the limits also run on Redis, whose windows follow the real clock.
"""

from __future__ import annotations

import itertools

import pytest
import sqlalchemy as sa

from tests.helpers import PASSWORD, assert_json_error, csrf_token
from webapp.activity.models import ActivityLog
from webapp.config import Config
from webapp.extensions import db

WRONG = "wrong-password-123"
PAGE, API, ALIAS = "/auth/login", "/api/v1/auth/login", "/api/v1/auth/signin"
_addresses = (f"10.{a}.{b}.1" for a, b in itertools.product(range(1, 200), range(1, 250)))


def attempt(client, path: str, email: str, password: str = WRONG):
    """One sign-in attempt on the page or the API."""
    if path == PAGE:
        data = {"email": email, "password": password, "csrf_token": csrf_token(client)}
        return client.post(PAGE, data=data)
    return client.post(path, json={"email": email, "password": password})


def stranger(app):
    """A client from an address nobody used yet, without any cookie."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = next(_addresses)
    return client


def signed_in(response) -> bool:
    """The sign-in worked: the page redirects (303), the API answers the tokens (200)."""
    return response.status_code == (303 if response.request.path == PAGE else 200)


def failures_until_refused(client, paths, email: str, cap: int = 20) -> int:
    """How many wrong passwords (cycling over ``paths``) are answered before the first 429."""
    for n, path in enumerate(itertools.islice(itertools.cycle(paths), cap)):
        response = attempt(client, path, email)
        if response.status_code == 429:
            return n
        assert response.status_code == 401, (path, response.status_code)
    return cap


def limit_entries(user) -> int:
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(ActivityLog)
        .where(ActivityLog.user_id == user.id, ActivityLog.action == "login_limit")
    )


@pytest.fixture
def owner(make_user):
    return make_user(email="owner@example.com")


@pytest.fixture
def small_limits(app, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_ACCOUNT", "3 per 10 minutes")
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_ACCOUNT_WIDE", "8 per hour")
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_IP", "100 per 10 minutes")


def known_device(app, email: str, path: str = PAGE):
    """A client that signed in to ``email`` once (and so holds its known-device cookie), then
    moved to another address, as phones and laptops do."""
    client = stranger(app)
    assert signed_in(attempt(client, path, email, PASSWORD))
    if path == PAGE:  # signed out again, so that the next sign-in is a real one
        client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/settings")})
    client.environ_base["REMOTE_ADDR"] = next(_addresses)
    return client


# --- one budget per account, whatever the path -----------------------------------------------


@pytest.mark.parametrize("paths", [(PAGE,), (API,), (ALIAS,), (PAGE, API, ALIAS), (API, ALIAS)])
def test_every_path_draws_from_one_budget(app, owner, paths):
    per_account = int(app.config["LOGIN_LIMIT_PER_ACCOUNT"].split()[0])
    client = stranger(app)
    assert failures_until_refused(client, paths, owner.email) == per_account
    for path in (PAGE, API, ALIAS):  # every path is closed now, the right password included
        assert attempt(client, path, owner.email, PASSWORD).status_code == 429


def test_the_refusal_is_told_on_each_face(app, owner, small_limits):
    client = stranger(app)
    failures_until_refused(client, (API,), owner.email)
    page = attempt(client, PAGE, owner.email, PASSWORD)
    assert page.status_code == 429 and int(page.headers["Retry-After"]) > 0
    assert "Too many failed sign-in attempts for this account. Please wait 10 minutes" in page.get_data(as_text=True)
    api = attempt(client, ALIAS, owner.email, PASSWORD)
    assert_json_error(api, 429, "rate_limited")
    assert int(api.headers["Retry-After"]) > 0


# --- per account and client ------------------------------------------------------------------


def test_per_account_and_client_limit_trips_at_its_number(app, make_user, owner, small_limits):
    attacker = stranger(app)
    assert failures_until_refused(attacker, (PAGE, API), owner.email) == 3
    # The owner elsewhere is not locked out, nor is another account from the attacker's address.
    assert signed_in(attempt(stranger(app), PAGE, owner.email, PASSWORD))
    other = make_user()
    assert attempt(attacker, PAGE, other.email).status_code == 401
    assert signed_in(attempt(attacker, API, other.email, PASSWORD))


def test_unknown_accounts_are_limited_alike(app, small_limits):
    """Whether an account exists cannot be told from the limits."""
    assert failures_until_refused(stranger(app), (PAGE, API), "nobody@example.com") == 3


def test_successes_do_not_use_up_the_budget(app, owner, small_limits):
    client = stranger(app)
    for _ in range(5):
        assert signed_in(attempt(client, API, owner.email, PASSWORD))


# --- the owner's known device ----------------------------------------------------------------


@pytest.mark.parametrize("path", [PAGE, API])
def test_a_strangers_guesses_do_not_lock_the_owner_out_of_a_known_device(app, owner, small_limits, path):
    phone = known_device(app, owner.email, path)
    for _ in range(5):  # 15 wrong guesses from five addresses: beyond the account-wide cap of 8
        failures_until_refused(stranger(app), (PAGE, API), owner.email)
    assert attempt(stranger(app), PAGE, owner.email, PASSWORD).status_code == 429  # a new device waits
    assert attempt(stranger(app), API, owner.email, PASSWORD).status_code == 429
    for face in (PAGE, API, ALIAS):
        response = attempt(phone, face, owner.email, PASSWORD)
        assert signed_in(response), (face, response.status_code)
        if face == PAGE:
            phone.post("/auth/logout", data={"csrf_token": csrf_token(phone, "/settings")})


def test_a_known_device_keeps_a_tight_budget_of_its_own(app, owner, small_limits):
    laptop, phone = known_device(app, owner.email), known_device(app, owner.email)
    assert failures_until_refused(laptop, (PAGE, API), owner.email) == 3
    assert attempt(laptop, API, owner.email, PASSWORD).status_code == 429
    assert signed_in(attempt(phone, API, owner.email, PASSWORD))  # each device has its own


def test_the_device_cookie_is_signed_and_bound_to_the_member(app, make_user, owner, small_limits):
    other = make_user()
    theirs, mine = known_device(app, other.email), known_device(app, owner.email)
    for _ in range(3):
        failures_until_refused(stranger(app), (API,), owner.email)
    assert attempt(theirs, API, owner.email, PASSWORD).status_code == 429  # known to another member only
    value = mine.get_cookie("folio_device").value
    tampered = stranger(app)
    tampered.set_cookie("folio_device", value[:-2] + ("yy" if value.endswith("xx") else "xx"))
    assert attempt(tampered, API, owner.email, PASSWORD).status_code == 429
    assert attempt(mine, API, owner.email, PASSWORD).status_code == 200


def test_one_device_can_be_known_to_several_members(app, make_user, owner, small_limits):
    partner = make_user()
    device = known_device(app, owner.email, API)
    assert attempt(device, API, partner.email, PASSWORD).status_code == 200
    for email in (owner.email, partner.email):
        for _ in range(3):
            failures_until_refused(stranger(app), (API,), email)
        assert attempt(device, API, email, PASSWORD).status_code == 200, email


@pytest.mark.parametrize("path", [PAGE, API])
def test_the_known_device_cookie(app, owner, path, monkeypatch):
    monkeypatch.setitem(app.config, "SESSION_COOKIE_SECURE", True)  # as in production
    response = attempt(stranger(app), path, owner.email, PASSWORD)
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("folio_device="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie and "Path=/" in cookie
    assert f"Max-Age={app.config['KNOWN_DEVICE_DAYS'] * 86400}" in cookie
    assert str(owner.id) not in cookie and owner.email not in cookie
    failed = attempt(stranger(app), path, owner.email)
    assert not [c for c in failed.headers.getlist("Set-Cookie") if c.startswith("folio_device=")]


# --- account-wide cap -----------------------------------------------------------------------


def test_account_wide_cap_trips_at_its_number_and_tells_the_owner_once(app, owner, small_limits, notices):
    # One wrong guess from each of eight addresses: no address reaches its own limit of 3.
    for n in range(8):
        assert attempt(stranger(app), (PAGE, API, ALIAS)[n % 3], owner.email).status_code == 401
    assert notices(owner) == []
    for path in (PAGE, API, ALIAS, PAGE, API):  # the right password from a new device waits now
        assert attempt(stranger(app), path, owner.email, PASSWORD).status_code == 429
    told = notices(owner)
    assert len(told) == 1 and "category=security" in told[0] and "/settings/security" in told[0]
    assert limit_entries(owner) == 1
    response = attempt(stranger(app), PAGE, owner.email, PASSWORD)
    assert "from devices that have not signed in to it before" in response.get_data(as_text=True)


def test_the_cap_of_one_account_leaves_others_alone(app, make_user, owner, small_limits):
    other = make_user()
    for _ in range(3):
        failures_until_refused(stranger(app), (API,), owner.email)
    assert attempt(stranger(app), API, owner.email, PASSWORD).status_code == 429
    assert attempt(stranger(app), API, other.email, PASSWORD).status_code == 200


def test_default_limits_follow_asvs():
    assert Config.LOGIN_LIMIT_PER_ACCOUNT == "5 per 10 minutes"
    assert Config.LOGIN_LIMIT_ACCOUNT_WIDE == "100 per hour"
