"""API keys: shown once, stored as a hash, checked without the database when malformed,
regenerated, disabled, expired, counted and announced; over JSON and on /settings/api-keys."""

from __future__ import annotations

import logging
import re
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa
import time_machine

from tests.helpers import assert_json_error, bearer, make_key, make_staff
from webapp.apikeys import keys
from webapp.apikeys.models import ApiKey
from webapp.extensions import db
from webapp.timeutil import utcnow

SECRET = re.compile(r"pk_live_[0-9A-Za-z]{49}")
PAGE = "/settings/api-keys"


def stored(key_id) -> ApiKey:
    db.session.expire_all()
    return db.session.get(ApiKey, key_id)


@pytest.fixture
def manager(make_user):
    """A member and a key that may manage keys."""
    user = make_user()
    key, secret = make_key(user, ["keys:read", "keys:manage", "profile:read", "profile:write"], name="manager")
    return user, key, secret


# --- format ----------------------------------------------------------------------------------


def test_key_format_and_checksum():
    secret = keys.generate()
    assert SECRET.fullmatch(secret) and keys.looks_valid(secret)
    assert len(secret) - len("pk_live_") >= 43  # 32 random bytes in base62, plus a checksum
    assert keys.generate() != secret
    assert not keys.looks_valid(secret[:-1])
    assert not keys.looks_valid(secret + "0")
    assert not keys.looks_valid("pk_test_" + secret[8:])
    for i in range(8, len(secret)):  # any one-character typo breaks the checksum (CRC-32)
        typo = secret[:i] + ("A" if secret[i] != "A" else "B") + secret[i + 1 :]
        assert not keys.looks_valid(typo), i


# --- shown once, stored as a hash --------------------------------------------------------------


def test_create_over_api_shows_the_secret_once(client, manager):
    user, _, secret = manager
    response = client.post(
        "/api/v1/api-keys",
        headers=bearer(secret),
        json={"name": "Zapier", "permissions": ["profile:read"], "rate_limit": 50},
    )
    assert response.status_code == 201, response.get_json()
    data = response.get_json()["data"]
    new_secret = data["key"]
    assert SECRET.fullmatch(new_secret)
    assert data["last_four"] == new_secret[-4:] and data["key_prefix"] == "pk_live_"
    assert data["permissions"] == ["profile:read"] and data["rate_limit"] == 50 and data["status"] == "active"

    listing = client.get("/api/v1/api-keys", headers=bearer(secret))
    assert listing.status_code == 200
    assert new_secret not in listing.get_data(as_text=True)
    assert all("key" not in k for k in listing.get_json()["data"])
    assert {k["name"] for k in listing.get_json()["data"]} == {"Zapier", "manager"}

    row = stored(uuid.UUID(data["id"]))
    assert row.key_hash == keys.digest(new_secret) and row.key_prefix == "pk_live_"
    for column in ApiKey.__table__.columns:  # no column holds the secret or its random body
        value = str(getattr(row, column.key))
        assert new_secret not in value and new_secret[8:-6] not in value
    assert client.get("/api/v1/profile", headers=bearer(new_secret)).status_code == 200


@pytest.mark.parametrize("bad", ["truncated", "typo", "wrong_prefix", "too_long"])
def test_malformed_key_is_refused_before_any_query(app, client, make_user, bad):
    user = make_user()
    _, secret = make_key(user)
    variant = {
        "truncated": secret[:-3],
        "typo": secret[:20] + ("x" if secret[20] != "x" else "y") + secret[21:],
        "wrong_prefix": "pk_test_" + secret[8:],
        "too_long": secret + "a",
    }[bad]
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        response = client.get("/api/v1/profile", headers=bearer(variant))
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    assert_json_error(response, 401, "unauthorized")
    assert statements == []


def test_valid_key_does_query(client, make_user):
    """The counter above counts real statements: a good key is looked up."""
    _, secret = make_key(make_user())
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    sa.event.listen(db.engine, "before_cursor_execute", listener)
    try:
        assert client.get("/api/v1/profile", headers=bearer(secret)).status_code == 200
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", listener)
    assert any("api_keys" in s for s in statements)


# --- regenerate, disable, expire, delete -------------------------------------------------------


def test_regenerate_kills_the_old_secret_at_once(client, manager):
    user, _, manage = manager
    key, old = make_key(user, ["profile:read"], name="script")
    assert client.get("/api/v1/profile", headers=bearer(old)).status_code == 200
    response = client.post(f"/api/v1/api-keys/{key.id}/regenerate", headers=bearer(manage))
    assert response.status_code == 200
    data = response.get_json()["data"]
    new = data["key"]
    assert new != old and SECRET.fullmatch(new) and data["id"] == str(key.id)
    assert_json_error(client.get("/api/v1/profile", headers=bearer(old)), 401, "unauthorized")
    assert client.get("/api/v1/profile", headers=bearer(new)).status_code == 200
    assert stored(key.id).key_hash == keys.digest(new)
    assert new not in client.get("/api/v1/api-keys", headers=bearer(manage)).get_data(as_text=True)


def test_disabled_key_is_key_revoked_and_can_be_enabled(client, manager):
    user, _, manage = manager
    key, secret = make_key(user, ["profile:read"], name="script")
    response = client.patch(f"/api/v1/api-keys/{key.id}", headers=bearer(manage), json={"status": "disabled"})
    assert response.get_json()["data"]["status"] == "disabled"
    assert_json_error(client.get("/api/v1/profile", headers=bearer(secret)), 401, "key_revoked")
    client.patch(f"/api/v1/api-keys/{key.id}", headers=bearer(manage), json={"status": "active"})
    assert client.get("/api/v1/profile", headers=bearer(secret)).status_code == 200


def test_expired_key_is_key_expired(client, make_user):
    user = make_user()
    _, secret = make_key(user, ["profile:read"], expires_at=(utcnow() + timedelta(days=30)).isoformat())
    assert client.get("/api/v1/profile", headers=bearer(secret)).status_code == 200
    with time_machine.travel(utcnow() + timedelta(days=30, seconds=1), tick=False):
        assert_json_error(client.get("/api/v1/profile", headers=bearer(secret)), 401, "key_expired")
        listing = make_key(user, ["keys:read"], name="reader")[1]
        statuses = {
            k["name"]: k["status"] for k in client.get("/api/v1/api-keys", headers=bearer(listing)).get_json()["data"]
        }
        assert statuses["Test key"] == "expired"


def test_delete_key(client, manager):
    user, _, manage = manager
    key, secret = make_key(user, ["profile:read"], name="script")
    assert client.delete(f"/api/v1/api-keys/{key.id}", headers=bearer(manage)).status_code == 204
    assert stored(key.id) is None
    assert_json_error(client.get("/api/v1/profile", headers=bearer(secret)), 401, "unauthorized")
    assert_json_error(client.delete(f"/api/v1/api-keys/{key.id}", headers=bearer(manage)), 404, "not_found")


# --- what a key may do to keys -------------------------------------------------------------------


def test_key_without_keys_manage_cannot_create_or_regenerate(client, make_user):
    user = make_user()
    key, secret = make_key(user, ["keys:read", "profile:read", "profile:write"])
    before = db.session.scalar(sa.select(sa.func.count()).select_from(ApiKey))
    error = assert_json_error(
        client.post("/api/v1/api-keys", headers=bearer(secret), json={"name": "x", "permissions": ["keys:manage"]}),
        403,
        "insufficient_scope",
    )
    assert "keys:manage" in error["message"]
    assert_json_error(
        client.post(f"/api/v1/api-keys/{key.id}/regenerate", headers=bearer(secret)),
        403,
        "insufficient_scope",
    )
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiKey)) == before
    assert stored(key.id).key_hash == keys.digest(secret)


def test_member_cannot_grant_staff_scopes(client, manager):
    _, _, manage = manager
    error = assert_json_error(
        client.post("/api/v1/api-keys", headers=bearer(manage), json={"name": "x", "permissions": ["users:read"]}),
        422,
    )
    assert "permissions" in error["details"]


def test_staff_can_grant_staff_scopes(client, make_user):
    admin = make_staff(make_user())
    _, manage = make_key(admin, ["keys:manage", "users:read"])
    response = client.post(
        "/api/v1/api-keys", headers=bearer(manage), json={"name": "x", "permissions": ["users:read"]}
    )
    assert response.status_code == 201, response.get_json()


@pytest.mark.parametrize(
    "body, field",
    [
        ({"permissions": ["profile:read"]}, "name"),
        ({"name": "x"}, "permissions"),
        ({"name": "x", "permissions": []}, "permissions"),
        ({"name": "x", "permissions": ["nope:read"]}, "permissions"),
        ({"name": "x", "permissions": "profile:read"}, "permissions"),
        ({"name": " ", "permissions": ["profile:read"]}, "name"),
        ({"name": "x" * 201, "permissions": ["profile:read"]}, "name"),
        ({"name": "x", "permissions": ["profile:read"], "rate_limit": 0}, "rate_limit"),
        ({"name": "x", "permissions": ["profile:read"], "rate_limit": 100001}, "rate_limit"),
        ({"name": "x", "permissions": ["profile:read"], "rate_limit": True}, "rate_limit"),
        ({"name": "x", "permissions": ["profile:read"], "expires_at": "tomorrow"}, "expires_at"),
        ({"name": "x", "permissions": ["profile:read"], "expires_at": "2020-01-01T00:00:00Z"}, "expires_at"),
        ({"name": "x", "permissions": ["profile:read"], "expires_at": "2099-01-01T00:00:00"}, "expires_at"),
        ({"name": "x", "permissions": ["profile:read"], "expires_at": 5}, "expires_at"),
        ({"name": "x", "permissions": ["profile:read"], "status": "active"}, "status"),
        ({"name": "x", "permissions": ["profile:read"], "key_hash": "abc"}, "key_hash"),
    ],
)
def test_create_validation(client, manager, body, field):
    _, _, manage = manager
    error = assert_json_error(
        client.post("/api/v1/api-keys", headers=bearer(manage), json=body), 422, "validation_failed"
    )
    assert field in error["details"]


def test_update_fields(client, manager):
    user, _, manage = manager
    next_year = utcnow().year + 1
    key, _ = make_key(user, ["profile:read"], name="script")
    response = client.patch(
        f"/api/v1/api-keys/{key.id}",
        headers=bearer(manage),
        json={
            "name": "Renamed",
            "permissions": ["profile:write", "profile:read"],
            "rate_limit": 10,
            "expires_at": f"{next_year}-01-31T00:00:00-05:00",
        },
    )
    assert response.status_code == 200, response.get_json()
    data = response.get_json()["data"]
    assert data["name"] == "Renamed" and data["permissions"] == ["profile:read", "profile:write"]
    assert data["rate_limit"] == 10 and data["expires_at"] == f"{next_year}-01-31T05:00:00+00:00"
    assert_json_error(
        client.patch(f"/api/v1/api-keys/{key.id}", headers=bearer(manage), json={"status": "revoked"}),
        422,
        "validation_failed",
    )
    assert_json_error(
        client.patch(f"/api/v1/api-keys/{key.id}", headers=bearer(manage), json={"expires_at": None, "usage_count": 5}),
        422,
        "validation_failed",
    )
    assert stored(key.id).usage_count == 0


def test_key_limit_per_member(client, manager, monkeypatch):
    from webapp.apikeys import service

    monkeypatch.setattr(service, "MAX_KEYS_PER_MEMBER", 2)
    user, _, manage = manager
    make_key(user, ["profile:read"])
    assert_json_error(
        client.post("/api/v1/api-keys", headers=bearer(manage), json={"name": "x", "permissions": ["profile:read"]}),
        422,
    )


# --- usage and announcements ---------------------------------------------------------------------


def test_usage_count_and_last_used_become_current(client, make_user):
    user = make_user()
    key, secret = make_key(user, ["profile:read"])
    assert stored(key.id).usage_count == 0 and stored(key.id).last_used_at is None
    start = utcnow()
    for _ in range(3):
        assert client.get("/api/v1/profile", headers=bearer(secret)).status_code == 200
    row = stored(key.id)
    assert row.usage_count == 3
    assert start - timedelta(seconds=1) <= row.last_used_at <= utcnow()
    updated = row.updated_at
    with time_machine.travel(utcnow() + timedelta(hours=1), tick=False):
        client.get("/api/v1/profile", headers=bearer(secret))
        row = stored(key.id)
        assert row.usage_count == 4
        assert row.last_used_at >= utcnow() - timedelta(seconds=1)
        assert row.updated_at == updated  # use is not a settings change


def _notices(caplog, title):
    return [r for r in caplog.records if r.name == "folio.notify" and title in r.getMessage()]


def test_first_use_is_announced_once(client, make_user, caplog):
    caplog.set_level(logging.INFO, logger="folio.notify")
    user = make_user()
    _, secret = make_key(user, ["profile:read"], name="Zapier")
    assert _notices(caplog, "first time") == []
    for _ in range(3):
        client.get("/api/v1/profile", headers=bearer(secret))
    notices = _notices(caplog, "first time")
    assert len(notices) == 1
    assert str(user.id) in notices[0].getMessage() and "Zapier" in notices[0].getMessage()


def test_near_expiry_is_announced_once(client, make_user, caplog):
    caplog.set_level(logging.INFO, logger="folio.notify")
    user = make_user()
    _, secret = make_key(user, ["profile:read"], name="Script", expires_at=(utcnow() + timedelta(days=30)).isoformat())
    client.get("/api/v1/profile", headers=bearer(secret))
    assert _notices(caplog, "expires soon") == []  # a month away: nothing yet
    with time_machine.travel(utcnow() + timedelta(days=25), tick=False):
        for _ in range(3):
            assert client.get("/api/v1/profile", headers=bearer(secret)).status_code == 200
    notices = _notices(caplog, "expires soon")
    assert len(notices) == 1 and str(user.id) in notices[0].getMessage()
    assert len(_notices(caplog, "first time")) == 1


def test_expiry_announcement_job_is_idempotent(make_user, caplog):
    from webapp.apikeys import service

    caplog.set_level(logging.INFO, logger="folio.notify")
    user = make_user()
    make_key(user, ["profile:read"], expires_at=(utcnow() + timedelta(days=2)).isoformat())
    make_key(user, ["profile:read"], expires_at=(utcnow() + timedelta(days=60)).isoformat())
    assert service.announce_expiring() == 1
    assert service.announce_expiring() == 0
    assert len(_notices(caplog, "expires soon")) == 1


# --- the /settings/api-keys page ---------------------------------------------------------------


def _form(csrf: str, **fields):
    data = {
        "csrf_token": csrf,
        "name": "Reporting",
        "permissions": ["profile:read", "keys:read"],
        "rate_limit": "100",
        "expires_on": "",
    }
    data.update(fields)
    return data


HTMX = {"HX-Request": "true"}


def test_page_needs_sign_in(client):
    response = client.get(PAGE)
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_page_lists_keys_without_secrets(client, member, auth):
    key, secret = make_key(member, ["profile:read"], name="Zapier")
    html = client.get(PAGE).get_data(as_text=True)
    assert "<html" in html and "Zapier" in html and key.masked in html
    assert secret not in html and secret[8:-6] not in html
    assert "profile:read" in html and "Active" in html and "never" in html.lower()


def test_create_on_the_page_with_htmx_shows_the_secret_once(client, member, auth):
    response = client.post(PAGE, data=_form(auth.csrf(PAGE)), headers=HTMX)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<html" not in html and 'id="api-keys"' in html
    secrets = set(SECRET.findall(html))
    assert len(secrets) == 1
    secret = secrets.pop()
    assert "data-copy" in html and "only time" in html
    row = db.session.scalar(sa.select(ApiKey).where(ApiKey.user_id == member.id))
    assert row.name == "Reporting" and row.permissions == ["profile:read", "keys:read"] and row.rate_limit == 100
    assert row.key_hash == keys.digest(secret)
    assert secret not in client.get(PAGE).get_data(as_text=True)
    assert secret not in client.get(PAGE, headers=HTMX).get_data(as_text=True)
    assert client.get("/api/v1/profile", headers=bearer(secret)).status_code == 200


def test_create_without_htmx_renders_the_page(client, member, auth):
    response = client.post(PAGE, data=_form(auth.csrf(PAGE), expires_on=f"{utcnow().year + 2}-03-01"))
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" in html and len(SECRET.findall(html)) >= 1
    row = db.session.scalar(sa.select(ApiKey).where(ApiKey.user_id == member.id))
    assert row.expires_at is not None and row.expires_at > utcnow()


def test_create_with_errors_shows_them_and_stores_nothing(client, member, auth):
    response = client.post(PAGE, data=_form(auth.csrf(PAGE), name="", permissions=[]), headers=HTMX)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "<html" not in html and "Choose at least one permission" in html
    assert SECRET.search(html) is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiKey)) == 0


def test_member_is_not_offered_staff_scopes(client, member):
    html = client.get(PAGE).get_data(as_text=True)
    assert 'value="profile:read"' in html and 'value="users:read"' not in html


def test_edit_rename_and_permissions_on_the_page(client, member, auth):
    key, _ = make_key(member, ["profile:read"], name="Old")
    form = client.get(f"{PAGE}/{key.id}/edit", headers=HTMX)
    assert form.status_code == 200 and "<html" not in form.get_data(as_text=True)
    prefix = f"k{key.id.hex[:8]}-"
    assert f'name="{prefix}name"' in form.get_data(as_text=True)
    data = {f"{prefix}{k}": v for k, v in _form("", name="New", permissions=["profile:write"]).items()}
    data["csrf_token"] = auth.csrf(PAGE)
    response = client.post(f"{PAGE}/{key.id}", data=data, headers=HTMX)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "Saved" in response.get_data(as_text=True)
    row = stored(key.id)
    assert row.name == "New" and row.permissions == ["profile:write"] and row.rate_limit == 100


def test_disable_enable_regenerate_delete_on_the_page(client, member, auth):
    key, secret = make_key(member, ["profile:read"], name="Script")
    csrf = {"csrf_token": auth.csrf(PAGE)}
    response = client.post(f"{PAGE}/{key.id}/status", data=csrf, headers=HTMX)
    assert response.status_code == 200 and "Disabled" in response.get_data(as_text=True)
    assert stored(key.id).status == "disabled"
    assert_json_error(client.get("/api/v1/profile", headers=bearer(secret)), 401, "key_revoked")
    client.post(f"{PAGE}/{key.id}/status", data=csrf, headers=HTMX)
    assert stored(key.id).status == "active"

    response = client.post(f"{PAGE}/{key.id}/regenerate", data=csrf, headers=HTMX)
    new = set(SECRET.findall(response.get_data(as_text=True)))
    assert len(new) == 1 and secret not in new and "data-copy" in response.get_data(as_text=True)
    assert_json_error(client.get("/api/v1/profile", headers=bearer(secret)), 401, "unauthorized")
    assert client.get("/api/v1/profile", headers=bearer(new.pop())).status_code == 200

    response = client.post(f"{PAGE}/{key.id}/delete", data=csrf, headers=HTMX)
    assert response.status_code == 200 and "Deleted" in response.get_data(as_text=True)
    assert stored(key.id) is None


def test_delete_asks_for_confirmation(client, member):
    make_key(member, ["profile:read"], name="Script")
    assert "hx-confirm" in client.get(PAGE).get_data(as_text=True)


def _page_routes(app):
    """Every id-taking route of the keys page, found in the URL map."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("apikeys.") and "key_id" in rule.arguments:
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                yield method, rule.rule


def test_page_routes_answer_404_for_another_members_key(app, client, member, auth, make_user):
    other = make_user(email="other@example.com")
    key, secret = make_key(other, ["profile:read"], name="Theirs")
    routes = list(_page_routes(app))
    assert len(routes) >= 5
    csrf = auth.csrf(PAGE)
    for method, rule in routes:
        path = rule.replace("<key_id>", str(key.id))
        response = client.open(
            path,
            method=method,
            data={"csrf_token": csrf, "name": "Mine", "permissions": ["profile:read"]},
            headers=HTMX,
        )
        assert response.status_code == 404, (method, rule)
    row = stored(key.id)
    assert row is not None and row.name == "Theirs" and row.status == "active"
    assert row.key_hash == keys.digest(secret)


def test_page_posts_without_csrf_are_400(app, client, member):
    key, _ = make_key(member, ["profile:read"], name="Mine")
    posts = [r for m, r in _page_routes(app) if m == "POST"] + [PAGE]
    for rule in posts:
        response = client.post(rule.replace("<key_id>", str(key.id)), data=_form(""), headers=HTMX)
        assert response.status_code == 400, rule
    row = stored(key.id)
    assert row.name == "Mine" and row.status == "active"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiKey)) == 1
