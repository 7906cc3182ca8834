"""Staff /api/v1/users routes: role permissions, search, filter, sort, pagination, changes."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.helpers import PASSWORD, api_tokens, assert_json_error, bearer, make_key, make_staff
from webapp.auth.models import RefreshToken, Role, User, UserSession
from webapp.extensions import db

USER_ROUTES = [
    ("GET", "/api/v1/users"),
    ("POST", "/api/v1/users"),
    ("GET", "/api/v1/users/{id}"),
    ("PUT", "/api/v1/users/{id}"),
    ("DELETE", "/api/v1/users/{id}"),
]


@pytest.fixture
def admin_key(admin):
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
        ({"offset": "99999999999999999999"}, "offset"),  # past the driver's 64-bit integers: was a 500
        ({"limit": "99999999999999999999"}, "limit"),
        ({"search": "bob\x00"}, "search"),  # PostgreSQL refuses NUL with a DataError: was a 500
        ({"role": "admin\x00"}, "role"),
        ({"search": "x" * 201}, "search"),
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


def test_suspending_revokes_sessions_and_tokens(client, admin_key, make_user, signed_in_client):
    _, key = admin_key
    target = make_user(email="target@example.com")
    browser = signed_in_client(target)
    assert browser.get("/api/v1/profile").status_code == 200
    tokens = api_tokens(client, target.email)

    response = client.put(
        f"/api/v1/users/{target.id}",
        headers=bearer(key),
        json={"is_suspended": True, "suspended_reason": "spam"},
    )
    assert response.status_code == 200 and response.get_json()["data"]["is_suspended"] is True

    assert browser.get("/api/v1/profile").status_code == 401
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


# --- roles:manage, the order of never-signed-in members, the query shape ----------------------------


@pytest.fixture
def editor_key(make_user):
    """A staff member whose role may write members but not manage roles."""
    editor_role = Role(name="editor", permissions=["users:read", "users:write"])
    db.session.add(editor_role)
    editor = make_user(email="editor@example.com")
    editor.role = editor_role
    db.session.commit()
    return editor, make_key(editor, ["users:read", "users:write"])[1]


def test_changing_a_role_needs_roles_manage(client, editor_key, people):
    _, key = editor_key
    target = people[0]
    response = client.put(f"/api/v1/users/{target.id}", headers=bearer(key), json={"role": "admin"})
    assert assert_json_error(response, 403, "forbidden")["details"]["required_permission"] == "roles:manage"
    response = client.post(
        "/api/v1/users", headers=bearer(key), json={"email": "new@example.com", "password": PASSWORD, "role": "admin"}
    )
    assert_json_error(response, 403, "forbidden")
    assert db.session.scalar(sa.select(User).where(User.email == "new@example.com")) is None
    db.session.expire_all()
    assert db.session.get(User, target.id).role.name == "member"

    response = client.put(f"/api/v1/users/{target.id}", headers=bearer(key), json={"role": "member", "plan": "pro"})
    assert response.status_code == 200, response.get_json()  # the same role is no change of role
    response = client.post("/api/v1/users", headers=bearer(key), json={"email": "n2@example.com", "password": PASSWORD})
    assert response.status_code == 201 and response.get_json()["data"]["role"] == "member"


def test_last_login_sorts_never_signed_in_last_both_ways(client, admin_key, people):
    from webapp.timeutil import utcnow

    people[0].last_login = utcnow()
    people[1].last_login = utcnow() - timedelta(days=1)
    db.session.commit()
    signed_in = ["zoe@example.com", "bob@example.com"]
    _, key = admin_key
    ascending = [u["email"] for u in _list(client, key, sort="last_login")["data"]]
    descending = [u["email"] for u in _list(client, key, sort="-last_login")["data"]]
    assert ascending[:2] == signed_in[::-1] and descending[:2] == signed_in
    assert [u["last_login"] for u in _list(client, key, sort="last_login")["data"]][2:] == [None, None]
    assert [u["last_login"] for u in _list(client, key, sort="-last_login")["data"]][2:] == [None, None]


def test_list_joins_profiles_and_roles_once(client, admin_key, people):
    _, key = admin_key
    statements = []

    def record(conn, cursor, statement, *args):
        if "FROM users" in statement:
            statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        body = _list(client, key, search="bob", sort="-last_login")
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    assert {u["display_name"] for u in body["data"]} == {"Bob Builder", "Carla Bobbins"}
    # The page's SELECT (a usage upsert names users too, in its plan subquery, and *_limit columns).
    page = [s for s in statements if s.lstrip().upper().startswith("SELECT") and " LIMIT " in s.upper()]
    assert len(page) == 1
    assert page[0].count("JOIN profiles") == 1 and page[0].count("JOIN roles") == 1, page[0]
    assert "profiles_1" not in page[0] and "roles_1" not in page[0]


def test_staff_deletion_removes_the_avatar_file(app, client, admin_key, people):
    from tests.helpers import png_bytes
    from webapp import storage
    from webapp.accounts import service as accounts

    _, key = admin_key
    target, bystander = people[0], people[1]
    with app.test_request_context():  # the stored avatar's URL is built with url_for
        for person in (target, bystander):
            accounts.set_avatar(person, png_bytes(), max_bytes=5 * 1024 * 1024)
        db.session.commit()  # services flush; this test is their unit of work
    avatar = storage.key_from_url(target.profile.avatar_url)
    kept = storage.key_from_url(bystander.profile.avatar_url)
    assert storage.exists(avatar)
    assert client.delete(f"/api/v1/users/{target.id}", headers=bearer(key)).status_code == 204
    assert not storage.exists(avatar) and storage.exists(kept)
