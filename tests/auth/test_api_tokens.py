"""Signing in without a browser: register/login/refresh/logout/me, their seed-001 aliases,
refresh rotation and family revocation, access-token expiry, suspended members, rate limits."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
import time_machine

from tests.helpers import PASSWORD, api_tokens, assert_json_error, assert_rate_headers, bearer, me
from webapp.auth.models import RefreshToken
from webapp.extensions import db
from webapp.timeutil import utcnow


def login(client, email, password=PASSWORD, path="/api/v1/auth/login"):
    return client.post(path, json={"email": email, "password": password})


def refresh(client, token):
    return client.post("/api/v1/auth/refresh", json={"refreshToken": token})


@pytest.fixture
def user(make_user):
    return make_user(email="api@example.com", name="Api Person")


# --- shapes and aliases ------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/auth/login", "/api/v1/auth/signin"])
def test_login_returns_seed_004_shape(client, user, path):
    response = login(client, user.email, path=path)
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"data"}
    data = body["data"]
    assert set(data) == {"user", "accessToken", "refreshToken", "expiresIn"}
    assert data["expiresIn"] == 15 * 60
    assert data["user"]["id"] == str(user.id) and data["user"]["email"] == "api@example.com"
    assert data["user"]["displayName"] == "Api Person" and data["user"]["role"] == "member"
    assert data["accessToken"].count(".") == 2 and data["refreshToken"] != data["accessToken"]
    assert me(client, data["accessToken"]).get_json()["data"]["user"]["id"] == str(user.id)


def test_refresh_token_is_stored_hashed(client, user):
    raw = api_tokens(client, user.email)["refreshToken"]
    rows = db.session.scalars(sa.select(RefreshToken).where(RefreshToken.user_id == user.id)).all()
    assert len(rows) == 1
    assert rows[0].token_hash != raw and raw not in rows[0].token_hash and len(rows[0].token_hash) == 64


@pytest.mark.parametrize("path", ["/api/v1/auth/register", "/api/v1/auth/signup"])
def test_register_and_alias(client, path):
    response = client.post(
        path, json={"email": "New@Example.com", "password": PASSWORD, "firstName": "Ana", "lastName": "Lima"}
    )
    assert response.status_code == 201, response.get_json()
    data = response.get_json()["data"]
    assert data["user"]["email"] == "new@example.com" and data["user"]["displayName"] == "Ana Lima"
    assert me(client, data["accessToken"]).status_code == 200
    again = client.post(path, json={"email": "new@example.com", "password": PASSWORD})
    assert_json_error(again, 409)


@pytest.mark.parametrize(
    "body, field",
    [
        ({"password": PASSWORD}, "email"),
        ({"email": "a@example.com"}, "password"),
        ({"email": "not-an-email", "password": PASSWORD}, "email"),
        ({"email": "a@example.com", "password": "short"}, "password"),
        ({"email": "a@example.com", "password": PASSWORD, "phone": "call me maybe"}, "phone"),
    ],
)
def test_register_validation_creates_nothing(client, body, field):
    from webapp.auth.models import User

    error = assert_json_error(client.post("/api/v1/auth/register", json=body), 422, "validation_failed")
    assert field in error["details"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


@pytest.mark.parametrize("path", ["/api/v1/auth/logout", "/api/v1/auth/signout"])
def test_logout_and_alias_revoke_the_refresh_token(client, user, path):
    data = api_tokens(client, user.email)
    assert client.post(path, json={"refreshToken": data["refreshToken"]}).status_code == 204
    assert_json_error(refresh(client, data["refreshToken"]), 401)
    # Logging out an unknown token says nothing about whether it existed.
    assert client.post(path, json={"refreshToken": "rt_unknown"}).status_code == 204


# --- rotation and reuse ------------------------------------------------------------------------


def test_refresh_rotates(client, user):
    first = api_tokens(client, user.email)
    response = refresh(client, first["refreshToken"])
    assert response.status_code == 200
    second = response.get_json()["data"]
    assert set(second) == {"accessToken", "refreshToken", "expiresIn"}
    assert second["refreshToken"] != first["refreshToken"]
    assert me(client, second["accessToken"]).status_code == 200
    assert refresh(client, second["refreshToken"]).status_code == 200


def test_reusing_an_old_refresh_token_revokes_the_family(client, user):
    first = api_tokens(client, user.email)
    second = refresh(client, first["refreshToken"]).get_json()["data"]
    third = refresh(client, second["refreshToken"]).get_json()["data"]

    error = assert_json_error(refresh(client, first["refreshToken"]), 401, "refresh_token_reused")
    assert "sign in again" in error["message"].lower()
    assert_json_error(refresh(client, third["refreshToken"]), 401)  # the newest one dies too
    assert_json_error(refresh(client, second["refreshToken"]), 401)


def test_family_revocation_leaves_other_sign_ins_alone(client, user):
    phone = api_tokens(client, user.email)
    laptop = api_tokens(client, user.email)
    refresh(client, phone["refreshToken"])
    refresh(client, phone["refreshToken"])  # reuse: the phone's family is revoked
    assert refresh(client, laptop["refreshToken"]).status_code == 200


def test_expired_refresh_token_is_refused(client, user):
    data = api_tokens(client, user.email)
    with time_machine.travel(utcnow() + timedelta(days=31), tick=False):
        assert_json_error(refresh(client, data["refreshToken"]), 401, "refresh_token_expired")


@pytest.mark.parametrize("body", [{}, {"refreshToken": ""}, {"refreshToken": 5}, {"refreshToken": None}])
def test_refresh_needs_a_token(client, body):
    assert_json_error(client.post("/api/v1/auth/refresh", json=body), 422, "validation_failed")


def test_unknown_refresh_token_is_401(client):
    assert_json_error(refresh(client, "rt_nope"), 401, "invalid_refresh_token")


# --- access tokens -----------------------------------------------------------------------------


def test_expired_access_token_is_refused(client, user):
    data = api_tokens(client, user.email)
    assert me(client, data["accessToken"]).status_code == 200
    with time_machine.travel(utcnow() + timedelta(minutes=15, seconds=10), tick=False):
        error = assert_json_error(me(client, data["accessToken"]), 401)
        assert error["code"] in ("token_expired", "unauthorized")
    with time_machine.travel(utcnow() + timedelta(minutes=14), tick=False):
        assert me(client, data["accessToken"]).status_code == 200


def test_tampered_or_foreign_access_token_is_refused(app, client, user):
    from joserfc import jwt
    from joserfc.jwk import OctKey

    access = api_tokens(client, user.email)["accessToken"]
    header, payload, signature = access.split(".")
    assert_json_error(me(client, f"{header}.{payload}.{signature[:-2]}xx"), 401, "unauthorized")
    family = db.session.scalar(sa.select(RefreshToken.family_id).where(RefreshToken.user_id == user.id))
    claims = {
        "iss": "folio",
        "sub": str(user.id),
        "sid": str(family),
        "exp": int(utcnow().timestamp()) + 600,
        "typ": "access",
    }
    forged = jwt.encode({"alg": "HS256"}, claims, OctKey.import_key("another-secret"))
    assert_json_error(me(client, forged), 401, "unauthorized")
    wrong_type = jwt.encode(
        {"alg": "HS256"}, {**claims, "typ": "refresh"}, OctKey.import_key(app.config["JWT_SECRET_KEY"])
    )
    assert_json_error(me(client, wrong_type), 401, "unauthorized")
    key = OctKey.import_key(app.config["JWT_SECRET_KEY"])
    no_sign_in = jwt.encode({"alg": "HS256"}, {k: v for k, v in claims.items() if k != "sid"}, key)
    assert_json_error(me(client, no_sign_in), 401, "unauthorized")  # bound to no sign-in
    genuine = jwt.encode({"alg": "HS256"}, claims, key)
    assert me(client, genuine).status_code == 200  # the control: a correctly signed token works


def test_access_token_of_a_deleted_member_is_refused(client, user):
    access = api_tokens(client, user.email)["accessToken"]
    db.session.delete(user)
    db.session.commit()
    assert_json_error(me(client, access), 401, "unauthorized")


def test_access_token_holds_every_member_scope(client, user):
    access = api_tokens(client, user.email)["accessToken"]
    headers = bearer(access)
    assert client.patch("/api/v1/settings", json={"theme": "dark"}, headers=headers).status_code == 200
    assert (
        client.post(
            "/api/v1/api-keys", json={"name": "x", "permissions": ["profile:read"]}, headers=headers
        ).status_code
        == 201
    )
    assert_json_error(client.get("/api/v1/users", headers=headers), 403, "forbidden")  # not staff


# --- members who may not ----------------------------------------------------------------------


def test_suspended_member_gets_403_with_a_live_access_token(client, user):
    access = api_tokens(client, user.email)["accessToken"]
    user.is_suspended = True
    db.session.commit()
    assert_json_error(me(client, access), 403, "account_suspended")


def test_suspended_member_cannot_sign_in_or_refresh(client, user):
    data = api_tokens(client, user.email)
    user.is_suspended = True
    db.session.commit()
    assert_json_error(login(client, user.email), 403)
    assert_json_error(refresh(client, data["refreshToken"]), 401)


def test_wrong_password_and_unknown_email_get_the_same_answer(client, user):
    wrong = login(client, user.email, password="wrong-password-123")
    unknown = login(client, "nobody@example.com", password="wrong-password-123")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.get_json() == unknown.get_json()
    assert wrong.get_json()["error"]["code"] == "invalid_credentials"


@pytest.mark.parametrize("body", [{}, {"email": "a@example.com"}, {"email": 5, "password": "x"}])
def test_login_validation(client, body):
    assert_json_error(client.post("/api/v1/auth/login", json=body), 422, "validation_failed")


# --- rate limits -------------------------------------------------------------------------------


def test_auth_routes_are_limited_more_strictly_than_the_api(app, client, user):
    auth_limit = int(app.config["API_AUTH_LIMIT"].split()[0])
    member_limit = int(app.config["API_LIMIT_PER_MEMBER"].split()[0])
    assert auth_limit < member_limit
    for n in range(auth_limit):  # different accounts: this is the per-address limit
        response = login(client, f"guess{n}@example.com", password="wrong-password-123")
        assert response.status_code == 401
        assert int(response.headers["X-RateLimit-Limit"]) <= auth_limit  # the tightest limit in play
    response = login(client, user.email)  # even the right password waits now
    assert_json_error(response, 429, "rate_limited")
    assert int(response.headers["Retry-After"]) > 0
    assert_rate_headers(response)
    for path in ("/api/v1/auth/refresh", "/api/v1/auth/register", "/api/v1/auth/signout"):
        assert_json_error(client.post(path, json={}), 429, "rate_limited")
    other_ip = client.post(
        "/api/v1/auth/login",
        json={"email": user.email, "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "10.9.9.9"},
    )
    assert other_ip.status_code == 200


def test_failed_api_logins_are_capped_per_account_across_addresses(app, client, user, monkeypatch):
    """Spreading guesses over many addresses does not buy unlimited guesses at one account."""
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_ACCOUNT_WIDE", "6 per hour")
    for n in range(6):
        response = client.post(
            "/api/v1/auth/login",
            json={"email": user.email, "password": "wrong-password-1"},
            environ_base={"REMOTE_ADDR": f"10.0.0.{n + 1}"},
        )
        assert response.status_code == 401
    response = client.post(
        "/api/v1/auth/login",
        json={"email": user.email.upper(), "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "10.0.1.1"},
    )
    assert_json_error(response, 429, "rate_limited")
    other = client.post(
        "/api/v1/auth/login",
        json={"email": "someone@example.com", "password": "x"},
        environ_base={"REMOTE_ADDR": "10.0.1.2"},
    )
    assert other.status_code == 401


def test_successful_logins_do_not_use_up_the_account_limit(app, client, user):
    per_account = int(app.config["LOGIN_LIMIT_PER_ACCOUNT"].split()[0])
    for n in range(per_account + 2):
        response = client.post(
            "/api/v1/auth/login",
            json={"email": user.email, "password": PASSWORD},
            environ_base={"REMOTE_ADDR": f"10.1.0.{n + 1}"},
        )
        assert response.status_code == 200


def test_password_change_signs_out_api_clients(client, auth, user):
    """A refresh token issued before a password change is refused afterwards."""
    issued = api_tokens(client, user.email)
    auth.login(user.email)
    form = {
        "pw-current_password": PASSWORD,
        "pw-new_password": "an-entirely-new-passphrase-42",
        "csrf_token": auth.csrf("/settings/security"),
    }
    assert client.post("/settings/security/password", data=form).status_code == 303
    assert_json_error(refresh(client, issued["refreshToken"]), 401)


def test_password_reset_signs_out_api_clients(client, user):
    from webapp.auth import service as auth_service
    from webapp.auth import tokens as mailed_tokens

    issued = api_tokens(client, user.email)
    token = mailed_tokens.make("reset", auth_service._reset_claims(user))
    auth_service.reset_password(
        token, {"password": "an-entirely-new-passphrase-42", "confirm": "an-entirely-new-passphrase-42"}
    )
    assert_json_error(refresh(client, issued["refreshToken"]), 401)


def test_sign_in_with_a_nul_in_the_email_is_a_plain_refusal(client):
    """PostgreSQL refuses NUL bytes in text: the documented pattern refuses them too, so the
    answer is a 422 naming the field (it was once a 500)."""
    response = login(client, "a\x00@example.com", "whatever-password")
    error = assert_json_error(response, 422, "validation_failed")
    assert error["details"] == {"email": ["Contains a character that is not allowed."]}


def test_the_newest_token_of_a_revoked_family_says_the_sign_in_ended(client, user):
    first = api_tokens(client, user.email)
    second = refresh(client, first["refreshToken"]).get_json()["data"]
    assert_json_error(refresh(client, first["refreshToken"]), 401, "refresh_token_reused")
    error = assert_json_error(refresh(client, second["refreshToken"]), 401, "refresh_token_revoked")
    assert "ended" in error["message"]


def test_401_answers_carry_a_bearer_challenge(client):
    response = client.get("/api/v1/profile", headers={"Authorization": "Bearer pk_live_nope"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith('Bearer realm="folio"')
