"""What a key may hand out (never more than it holds), how far ahead a key may expire, answers
with a secret that are never cached, buffered uses shown without writing, one lookup per action."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.helpers import assert_json_error, bearer, make_key, make_staff
from webapp.apikeys import keys
from webapp.apikeys.models import ApiKey
from webapp.extensions import db
from webapp.timeutil import utcnow

PAGE = "/settings/api-keys"
HTMX = {"HX-Request": "true"}


def stored(key_id) -> ApiKey:
    db.session.expire_all()
    return db.session.get(ApiKey, key_id)


def key_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(ApiKey))


@pytest.fixture
def narrow(make_user):
    """A member and a key that holds keys:manage and nothing else, at 50 requests an hour."""
    user = make_user()
    key, secret = make_key(user, ["keys:manage"], name="narrow", rate_limit=50)
    return user, key, secret


# --- a key hands out no more than it holds ------------------------------------------------------


def test_key_cannot_grant_itself_a_scope(client, narrow):
    _, key, secret = narrow
    response = client.patch(
        f"/api/v1/api-keys/{key.id}", headers=bearer(secret), json={"permissions": ["profile:write"]}
    )
    error = assert_json_error(response, 403, "insufficient_scope")
    assert "profile:write" in error["message"] and error["details"]["required_scope"] == "profile:write"
    assert stored(key.id).permissions == ["keys:manage"]


def test_key_cannot_create_a_key_with_a_scope_it_lacks(client, narrow):
    _, _, secret = narrow
    before = key_count()
    response = client.post(
        "/api/v1/api-keys", headers=bearer(secret), json={"name": "x", "permissions": ["keys:manage", "profile:write"]}
    )
    assert assert_json_error(response, 403, "insufficient_scope")["details"]["required_scope"] == "profile:write"
    assert key_count() == before


def test_key_cannot_raise_a_rate_limit_above_its_own(client, narrow):
    _, key, secret = narrow
    response = client.patch(f"/api/v1/api-keys/{key.id}", headers=bearer(secret), json={"rate_limit": 51})
    assert "rate_limit" in assert_json_error(response, 403, "forbidden")["details"]
    response = client.post(
        "/api/v1/api-keys",
        headers=bearer(secret),
        json={"name": "x", "permissions": ["keys:manage"], "rate_limit": 5000},
    )
    assert_json_error(response, 403, "forbidden")
    assert stored(key.id).rate_limit == 50


def test_key_may_hand_out_what_it_holds_and_defaults_to_its_own_rate(client, narrow):
    _, key, secret = narrow
    response = client.post(
        "/api/v1/api-keys", headers=bearer(secret), json={"name": "x", "permissions": ["keys:manage"]}
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["data"]["rate_limit"] == 50  # not the usual 1,000 it could not grant
    response = client.patch(f"/api/v1/api-keys/{key.id}", headers=bearer(secret), json={"rate_limit": 20, "name": "n"})
    assert response.status_code == 200 and stored(key.id).rate_limit == 20


def test_key_cannot_regenerate_a_stronger_key(client, narrow):
    user, _, secret = narrow
    strong, strong_secret = make_key(user, ["keys:manage", "profile:write"], name="strong")
    assert_json_error(client.post(f"/api/v1/api-keys/{strong.id}/regenerate", headers=bearer(secret)), 403)
    assert stored(strong.id).key_hash == keys.digest(strong_secret)
    faster, _ = make_key(user, ["keys:manage"], name="faster", rate_limit=500)
    assert_json_error(client.post(f"/api/v1/api-keys/{faster.id}/regenerate", headers=bearer(secret)), 403)


def test_sessions_and_access_tokens_grant_every_scope_of_their_member(client, member, auth):
    response = client.post(
        "/api/v1/api-keys",
        headers=auth.headers(),
        json={"name": "x", "permissions": ["profile:write", "keys:manage"], "rate_limit": 100_000},
    )
    assert response.status_code == 201, response.get_json()


def test_staff_key_grants_staff_scopes_only_if_it_holds_them(client, make_user):
    admin = make_staff(make_user())
    _, secret = make_key(admin, ["keys:manage", "users:read"])
    body = {"name": "x", "permissions": ["users:write"]}
    assert_json_error(client.post("/api/v1/api-keys", headers=bearer(secret), json=body), 403, "insufficient_scope")


# --- expiry at most five years ahead; huge values are a 422, not an OverflowError ------------------


@pytest.mark.parametrize(
    "expires_at",
    ["9999-12-31T23:59:59-05:00", "9999-12-31T23:59:59Z", "0001-01-01T00:00:00+14:00", "six-years"],
)
def test_api_expiry_out_of_range_is_422(client, narrow, expires_at):
    _, key, secret = narrow
    body = {"name": "x", "permissions": ["keys:manage"], "expires_at": expires_at}
    error = assert_json_error(client.post("/api/v1/api-keys", headers=bearer(secret), json=body), 422)
    assert "expires_at" in error["details"]
    error = assert_json_error(
        client.patch(f"/api/v1/api-keys/{key.id}", headers=bearer(secret), json={"expires_at": expires_at}), 422
    )
    assert "expires_at" in error["details"]


def test_api_expiry_is_capped_at_five_years(client, narrow):
    _, _, secret = narrow
    body = {"name": "x", "permissions": ["keys:manage"]}
    too_far = (utcnow() + timedelta(days=5 * 366)).isoformat()
    error = assert_json_error(
        client.post("/api/v1/api-keys", headers=bearer(secret), json={**body, "expires_at": too_far}), 422
    )
    assert "five years" in error["details"]["expires_at"][0]
    near = (utcnow() + timedelta(days=4 * 365)).isoformat()
    assert client.post("/api/v1/api-keys", headers=bearer(secret), json={**body, "expires_at": near}).status_code == 201


@pytest.mark.parametrize("day", ["9999-12-31", f"{utcnow().year + 6}-01-01"])
def test_page_expiry_too_far_is_shown_on_the_field(client, member, auth, day):
    data = {
        "csrf_token": auth.csrf(PAGE),
        "name": "x",
        "permissions": ["profile:read"],
        "rate_limit": "10",
        "expires_on": day,
    }
    response = client.post(PAGE, data=data, headers=HTMX)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "five years" in html and "<html" not in html
    assert key_count() == 0


def test_page_shows_the_service_messages_on_the_fields(client, member, auth):
    data = {"csrf_token": auth.csrf(PAGE), "name": "x" * 201, "permissions": ["users:read"], "rate_limit": "0"}
    html = client.post(PAGE, data=data, headers=HTMX).get_data(as_text=True)
    assert "At most 200 characters" in html and "cannot grant: users:read" in html and "between 1 and 100000" in html
    assert key_count() == 0


# --- secrets are never cached ----------------------------------------------------------------------


def test_json_answers_with_a_secret_are_no_store(client, narrow):
    _, key, secret = narrow
    created = client.post(
        "/api/v1/api-keys", headers=bearer(secret), json={"name": "x", "permissions": ["keys:manage"]}
    )
    assert created.status_code == 201 and created.headers["Cache-Control"] == "no-store"
    regenerated = client.post(f"/api/v1/api-keys/{key.id}/regenerate", headers=bearer(secret))
    assert regenerated.status_code == 200 and regenerated.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("headers", [HTMX, {}], ids=["htmx", "page"])
def test_page_answers_with_a_secret_are_no_store(client, member, auth, headers):
    data = {"csrf_token": auth.csrf(PAGE), "name": "x", "permissions": ["profile:read"], "rate_limit": "10"}
    created = client.post(PAGE, data=data, headers=headers)
    assert created.status_code == 200 and created.headers["Cache-Control"] == "no-store"
    key = db.session.scalar(sa.select(ApiKey).where(ApiKey.user_id == member.id))
    regenerated = client.post(f"{PAGE}/{key.id}/regenerate", data={"csrf_token": data["csrf_token"]}, headers=headers)
    assert regenerated.status_code == 200 and regenerated.headers["Cache-Control"] == "no-store"
    assert "no-store" not in client.get(PAGE, headers=headers).headers.get("Cache-Control", "")


# --- usage shown as of now, without writing -----------------------------------------------------------


def test_listing_shows_buffered_uses_without_flushing(app, client, make_user, monkeypatch):
    from webapp.usage import counter

    monkeypatch.setitem(app.config, "USAGE_FLUSH_SECONDS", 3600)
    counter.flush()  # start the interval now
    user = make_user()
    key, secret = make_key(user, ["profile:read", "keys:read"])
    for _ in range(3):
        assert client.get("/api/v1/profile", headers=bearer(secret)).status_code == 200
    listing = client.get("/api/v1/api-keys", headers=bearer(secret)).get_json()["data"]
    assert listing[0]["usage_count"] == 4  # three calls and the listing itself, all still buffered
    assert listing[0]["last_used_at"] is not None
    assert stored(key.id).usage_count == 0  # reading wrote nothing
    counter.flush()
    assert stored(key.id).usage_count == 4


def test_pending_key_uses_reads_without_draining(make_user):
    from webapp.usage import counter

    user = make_user()
    key, _ = make_key(user, ["profile:read"])
    assert counter.pending_key_uses([key.id, uuid.uuid4()]) == {}
    assert counter.pending_key_uses([]) == {}


# --- the form is the inverse of itself; one lookup per action ------------------------------------------


def test_form_from_key_round_trips_the_expiry(app, make_user):
    from webapp.apikeys.forms import ApiKeyForm

    user = make_user()
    key, _ = make_key(user, ["profile:read"], expires_at=f"{utcnow().year + 1}-03-01T23:00:00Z")
    with app.test_request_context():
        form = ApiKeyForm.from_key(key, "America/New_York", member=user)
        assert str(form.expires_on.data) == f"{utcnow().year + 1}-03-01"  # 18:00 local: that day still works
        changes = form.changes("America/New_York")
    assert changes["expires_at"].isoformat() == f"{utcnow().year + 1}-03-02T00:00:00-05:00"
    assert changes["permissions"] == ["profile:read"] and changes["name"] == key.name


@pytest.mark.parametrize("action", ["status", "delete", "regenerate"])
def test_page_actions_look_the_key_up_once(client, member, auth, action):
    key, _ = make_key(member, ["profile:read"], name="Script")
    csrf = {"csrf_token": auth.csrf(PAGE)}
    lookups = []

    def count(conn, cursor, statement, *args):
        # get_key's query: by id *and* owner (a refresh after a commit asks by id alone)
        if "api_keys.id =" in statement and "api_keys.user_id =" in statement:
            lookups.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        response = client.post(f"{PAGE}/{key.id}/{action}", data=csrf, headers=HTMX)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    assert response.status_code == 200
    assert "Script" in response.get_data(as_text=True)
    assert len(lookups) == 1, lookups


# --- a key's keys do not outlive it --------------------------------------------------------------


@pytest.fixture
def expiring(make_user):
    """A keys:manage key that expires in ten days."""
    user = make_user()
    key, secret = make_key(user, ["keys:manage"], name="expiring")
    key.expires_at = utcnow() + timedelta(days=10)
    db.session.commit()
    return user, key, secret


def test_keys_made_by_an_expiring_key_expire_with_it(client, expiring):
    _, key, secret = expiring
    response = client.post(
        "/api/v1/api-keys", headers=bearer(secret), json={"name": "child", "permissions": ["keys:manage"]}
    )
    assert response.status_code == 201
    child = stored(uuid.UUID(response.get_json()["data"]["id"]))
    assert child.expires_at == stored(key.id).expires_at


def test_expiring_key_cannot_grant_a_longer_life(client, expiring):
    user, key, secret = expiring
    later = (utcnow() + timedelta(days=60)).isoformat()
    refused = client.post(
        "/api/v1/api-keys",
        headers=bearer(secret),
        json={"name": "c", "permissions": ["keys:manage"], "expires_at": later},
    )
    assert "expires_at" in assert_json_error(refused, 403, "forbidden")["details"]
    never = client.patch(f"/api/v1/api-keys/{key.id}", headers=bearer(secret), json={"expires_at": None})
    assert_json_error(never, 403, "forbidden")
    assert stored(key.id).expires_at is not None


def test_token_answers_are_never_cached(client, make_user):
    from tests.helpers import PASSWORD

    user = make_user()
    login = client.post("/api/v1/auth/login", json={"email": user.email, "password": PASSWORD})
    assert login.headers["Cache-Control"] == "no-store"
    refreshed = client.post("/api/v1/auth/refresh", json={"refreshToken": login.get_json()["data"]["refreshToken"]})
    assert refreshed.headers["Cache-Control"] == "no-store"
    signup = client.post("/api/v1/auth/register", json={"email": "new@example.com", "password": PASSWORD})
    assert signup.headers["Cache-Control"] == "no-store"


# --- the list pages at the member's size ----------------------------------------------------------


def test_key_list_pages_follow_items_per_page(client, auth, member):
    from webapp.accounts import service as accounts

    accounts.update_settings(member, {"items_per_page": 5})
    for number in range(7):
        make_key(member, ["profile:read"], name=f"key-{number}")
    first = client.get(PAGE).get_data(as_text=True)
    assert first.count('class="key-item"') == 5 and "Page 1 of 2 · 7 keys" in first
    second = client.get(PAGE + "?page=2", headers=HTMX).get_data(as_text=True)
    assert second.count('class="key-item"') == 2 and "<html" not in second
    assert "<h3>key-0</h3>" in second and "<h3>key-6</h3>" not in second  # newest first
    beyond = client.get(PAGE + "?page=9").get_data(as_text=True)
    assert "Page 2 of 2" in beyond


def test_key_list_api_windows(client, auth, member):
    from webapp.accounts import service as accounts

    accounts.update_settings(member, {"items_per_page": 5})
    for number in range(7):
        make_key(member, ["profile:read"], name=f"key-{number}")
    body = client.get("/api/v1/api-keys").get_json()
    assert len(body["data"]) == 5 and body["meta"] == {"total": 7, "limit": 5, "offset": 0}
    tail = client.get("/api/v1/api-keys?limit=10&offset=5").get_json()
    assert [k["name"] for k in tail["data"]] == ["key-1", "key-0"]
    for query in ("limit=0", "limit=x", "offset=-1", "limit=101"):
        assert_json_error(client.get(f"/api/v1/api-keys?{query}"), 422, "validation_failed")


def test_narrow_key_cannot_revive_or_extend_a_stronger_key(client, narrow):
    """Re-enabling a disabled stronger key, or removing its expiry, would hand out more than
    the calling key holds; disabling it is fine."""
    user, _, secret = narrow
    strong, _ = make_key(user, ["profile:write", "keys:manage"], name="strong", rate_limit=5000)
    strong.status = "disabled"
    strong.expires_at = utcnow() + timedelta(days=30)
    db.session.commit()
    revive = client.patch(f"/api/v1/api-keys/{strong.id}", headers=bearer(secret), json={"status": "active"})
    assert_json_error(revive, 403)
    assert stored(strong.id).status == "disabled"
    strong.status = "active"
    db.session.commit()
    extend = client.patch(f"/api/v1/api-keys/{strong.id}", headers=bearer(secret), json={"expires_at": None})
    assert_json_error(extend, 403)
    assert stored(strong.id).expires_at is not None
    disable = client.patch(f"/api/v1/api-keys/{strong.id}", headers=bearer(secret), json={"status": "disabled"})
    assert disable.status_code == 200
