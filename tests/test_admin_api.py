"""Staff /api/v1/users routes: role permissions, search, filter, sort, pagination, changes."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from tests.api_helpers import assert_json_error, bearer, make_key, make_staff
from tests.conftest import PASSWORD
from webapp.auth.models import RefreshToken, User, UserSession
from webapp.extensions import db

USER_ROUTES = [
    ("GET", "/api/v1/users"),
    ("POST", "/api/v1/users"),
    ("GET", "/api/v1/users/{id}"),
    ("PUT", "/api/v1/users/{id}"),
    ("DELETE", "/api/v1/users/{id}"),
]


@pytest.fixture
def admin_key(make_user):
    admin = make_staff(make_user(email="admin@example.com", name="Ada Admin"))
    return admin, make_key(admin)[1]


@pytest.fixture
def people(make_user):
    """Three members with distinct names, emails and creation order."""
    return [
        make_user(email="zoe@example.com", name="Zoe Zed"),
        make_user(email="bob@example.com", name="Bob Builder"),
        make_user(email="carla@studio.io", name="Carla Bobbins"),
    ]


def _list(client, key, **params):
    response = client.get("/api/v1/users", query_string=params, headers=bearer(key))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


@pytest.mark.parametrize("method, path", USER_ROUTES)
def test_plain_member_with_a_session_is_403(client, auth, member, method, path):
    response = client.open(path.format(id=member.id), method=method, json={}, headers=auth.headers())
    assert_json_error(response, 403, "forbidden")
    assert db.session.get(User, member.id) is not None


def test_support_reads_but_does_not_write(client, auth, make_user, people):
    support = make_staff(make_user(email="support@example.com"), "support")
    auth.login(support.email)
    assert client.get("/api/v1/users").status_code == 200
    assert client.get(f"/api/v1/users/{people[0].id}").status_code == 200
    headers = auth.headers()
    assert_json_error(
        client.post("/api/v1/users", json={"email": "n@example.com", "password": PASSWORD}, headers=headers),
        403,
        "forbidden",
    )
    assert_json_error(client.put(f"/api/v1/users/{people[0].id}", json={"plan": "pro"}, headers=headers), 403)
    assert_json_error(client.delete(f"/api/v1/users/{people[0].id}", headers=headers), 403)
    db.session.expire_all()
    assert db.session.get(User, people[0].id).plan == "free"


def test_support_cannot_put_write_scopes_on_a_key(client, make_user):
    support = make_staff(make_user(email="support@example.com"), "support")
    _, manage = make_key(support, ["keys:manage"])
    response = client.post(
        "/api/v1/api-keys", json={"name": "x", "permissions": ["users:write"]}, headers=bearer(manage)
    )
    assert_json_error(response, 422, "validation_failed")


def test_list_search_filter_sort_paginate(client, admin_key, people):
    admin, key = admin_key
    body = _list(client, key)
    assert body["meta"] == {"total": 4, "limit": 20, "offset": 0}
    assert [u["email"] for u in body["data"]][0] == "carla@studio.io"  # newest first by default

    assert {u["email"] for u in _list(client, key, search="bob")["data"]} == {
        "bob@example.com",
        "carla@studio.io",
    }
    assert [u["email"] for u in _list(client, key, search="STUDIO")["data"]] == ["carla@studio.io"]
    assert [u["email"] for u in _list(client, key, role="admin")["data"]] == ["admin@example.com"]
    assert _list(client, key, role="support")["data"] == []

    by_email = [u["email"] for u in _list(client, key, sort="email")["data"]]
    assert by_email == sorted(by_email)
    assert [u["email"] for u in _list(client, key, sort="-email")["data"]] == sorted(by_email, reverse=True)

    page = _list(client, key, sort="email", limit=2, offset=1)
    assert [u["email"] for u in page["data"]] == by_email[1:3]
    assert page["meta"] == {"total": 4, "limit": 2, "offset": 1}
    assert _list(client, key, offset=10)["data"] == []
    assert set(body["data"][0]) >= {
        "id",
        "email",
        "display_name",
        "role",
        "plan",
        "is_suspended",
        "created_at",
    }


def test_search_treats_wildcards_literally(client, admin_key, people):
    _, key = admin_key
    assert _list(client, key, search="%")["data"] == []
    assert _list(client, key, search="_")["data"] == []


@pytest.mark.parametrize(
    "params, field",
    [
        ({"sort": "password_hash"}, "sort"),
        ({"sort": "-nope"}, "sort"),
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"offset": -1}, "offset"),
        ({"offset": "x"}, "offset"),
    ],
)
def test_bad_list_parameters_are_422(client, admin_key, params, field):
    _, key = admin_key
    response = client.get("/api/v1/users", query_string=params, headers=bearer(key))
    assert field in assert_json_error(response, 422, "validation_failed")["details"]


def test_admin_creates_a_member(client, admin_key):
    _, key = admin_key
    response = client.post(
        "/api/v1/users",
        headers=bearer(key),
        json={
            "email": "New@Example.com",
            "password": PASSWORD,
            "display_name": "Newbie",
            "role": "support",
            "plan": "pro",
            "is_verified": True,
        },
    )
    assert response.status_code == 201, response.get_json()
    data = response.get_json()["data"]
    assert data["email"] == "new@example.com" and data["role"] == "support" and data["plan"] == "pro"
    assert data["is_verified"] is True and data["display_name"] == "Newbie"
    assert client.post("/api/v1/auth/login", json={"email": "new@example.com", "password": PASSWORD}).status_code == 200
    assert_json_error(
        client.post("/api/v1/users", headers=bearer(key), json={"email": "new@example.com", "password": PASSWORD}),
        409,
    )


@pytest.mark.parametrize(
    "body, field",
    [
        ({"password": PASSWORD}, "email"),
        ({"email": "a@example.com"}, "password"),
        ({"email": "a@example.com", "password": PASSWORD, "role": "emperor"}, "role"),
        ({"email": "a@example.com", "password": PASSWORD, "plan": "gold"}, "plan"),
        ({"email": "a@example.com", "password": PASSWORD, "is_verified": "yes"}, "is_verified"),
        ({"email": "a@example.com", "password": PASSWORD, "is_admin": True}, "is_admin"),
        ({"email": "a@example.com", "password": PASSWORD, "role": 5}, "role"),
        ({"email": "a@example.com", "password": PASSWORD, "display_name": 5}, "display_name"),
    ],
)
def test_create_validation_creates_nothing(client, admin_key, body, field):
    _, key = admin_key
    error = assert_json_error(client.post("/api/v1/users", headers=bearer(key), json=body), 422, "validation_failed")
    assert field in error["details"]
    assert db.session.scalar(sa.select(User).where(User.email == "a@example.com")) is None


def test_admin_updates_a_member(client, admin_key, people):
    _, key = admin_key
    target = people[0]
    response = client.put(
        f"/api/v1/users/{target.id}",
        headers=bearer(key),
        json={"role": "support", "plan": "business", "is_verified": True},
    )
    assert response.status_code == 200, response.get_json()
    data = response.get_json()["data"]
    assert data["role"] == "support" and data["plan"] == "business"
    for body, field in (
        ({"plan": "gold"}, "plan"),
        ({"role": 7}, "role"),
        ({"email": "x@example.com"}, "email"),
        ({"is_suspended": "true"}, "is_suspended"),
        ({"suspended_reason": 5}, "suspended_reason"),
    ):
        error = assert_json_error(client.put(f"/api/v1/users/{target.id}", headers=bearer(key), json=body), 422)
        assert field in error["details"]


def test_suspending_revokes_sessions_and_tokens(app, client, admin_key, make_user):
    _, key = admin_key
    target = make_user(email="target@example.com")
    browser = app.test_client()
    from tests.conftest import AuthActions

    assert AuthActions(browser).login(target.email).status_code == 303
    assert browser.get("/api/v1/profile").status_code == 200
    tokens = client.post("/api/v1/auth/login", json={"email": target.email, "password": PASSWORD}).get_json()["data"]

    response = client.put(
        f"/api/v1/users/{target.id}",
        headers=bearer(key),
        json={"is_suspended": True, "suspended_reason": "spam"},
    )
    assert response.status_code == 200 and response.get_json()["data"]["is_suspended"] is True

    assert browser.get("/api/v1/profile").status_code in (401, 403)
    assert client.get("/api/v1/auth/me", headers=bearer(tokens["accessToken"])).status_code == 403
    assert_json_error(client.post("/api/v1/auth/refresh", json={"refreshToken": tokens["refreshToken"]}), 401)
    db.session.expire_all()
    assert all(
        s.revoked_at is not None
        for s in db.session.scalars(sa.select(UserSession).where(UserSession.user_id == target.id))
    )
    assert all(
        t.revoked_at is not None
        for t in db.session.scalars(sa.select(RefreshToken).where(RefreshToken.user_id == target.id))
    )


def test_admin_deletes_a_member(client, admin_key, people):
    _, key = admin_key
    target = people[1]
    member_key, secret = make_key(target, ["profile:read"])
    assert client.delete(f"/api/v1/users/{target.id}", headers=bearer(key)).status_code == 204
    db.session.expire_all()
    assert db.session.get(User, target.id) is None
    assert_json_error(client.get("/api/v1/profile", headers=bearer(secret)), 401)
    assert_json_error(client.get(f"/api/v1/users/{target.id}", headers=bearer(key)), 404, "not_found")
    assert_json_error(client.delete(f"/api/v1/users/{uuid.uuid4()}", headers=bearer(key)), 404, "not_found")
