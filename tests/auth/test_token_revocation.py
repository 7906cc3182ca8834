"""Signing out ends API access tokens at once, not when they expire 15 minutes later.

Every way a sign-in ends (API logout and its alias, "sign out everywhere else", a password
change or reset, refresh-token reuse) must make the access tokens issued to it answer 401
``token_revoked`` on the next call, including the call that would mint a ``keys:manage`` key;
sign-ins that did not end keep working.
"""

from __future__ import annotations

import pytest

from tests.helpers import NEW_PASSWORD, PASSWORD, api_tokens, assert_json_error, bearer, count_queries, me


def mint_key(client, access):
    return client.post(
        "/api/v1/api-keys",
        json={"name": "minted", "permissions": ["keys:manage"]},
        headers=bearer(access),
    )


def assert_revoked(client, access) -> None:
    error = assert_json_error(me(client, access), 401, "token_revoked")
    assert "sign in again" in error["message"].lower()
    assert_json_error(mint_key(client, access), 401, "token_revoked")


@pytest.fixture
def owner(make_user):
    return make_user(email="owner@example.com")


@pytest.fixture
def stranger(make_user):
    return make_user(email="stranger@example.com")


@pytest.mark.parametrize("path", ["/api/v1/auth/logout", "/api/v1/auth/signout"])
def test_api_logout_ends_its_access_token_and_only_its_own(client, owner, path):
    phone, laptop = api_tokens(client, owner.email), api_tokens(client, owner.email)
    assert me(client, phone["accessToken"]).status_code == 200

    assert client.post(path, json={"refreshToken": phone["refreshToken"]}).status_code == 204

    assert_revoked(client, phone["accessToken"])
    # Single logout ends one sign-in: the laptop's tokens still work.
    assert me(client, laptop["accessToken"]).status_code == 200
    assert mint_key(client, laptop["accessToken"]).status_code == 201


def test_access_token_from_a_refresh_dies_with_its_family(client, owner):
    first = api_tokens(client, owner.email)
    second = client.post("/api/v1/auth/refresh", json={"refreshToken": first["refreshToken"]}).get_json()["data"]
    assert me(client, second["accessToken"]).status_code == 200
    client.post("/api/v1/auth/logout", json={"refreshToken": second["refreshToken"]})
    assert_revoked(client, second["accessToken"])
    assert_revoked(client, first["accessToken"])


def test_refresh_token_reuse_ends_the_familys_access_tokens(client, owner):
    stolen = api_tokens(client, owner.email)
    other = api_tokens(client, owner.email)
    rotated = client.post("/api/v1/auth/refresh", json={"refreshToken": stolen["refreshToken"]}).get_json()["data"]
    reuse = client.post("/api/v1/auth/refresh", json={"refreshToken": stolen["refreshToken"]})
    assert_json_error(reuse, 401, "refresh_token_reused")

    assert_revoked(client, stolen["accessToken"])
    assert_revoked(client, rotated["accessToken"])  # the thief's fresh one too
    assert me(client, other["accessToken"]).status_code == 200


def test_sign_out_everywhere_else_ends_every_access_token(client, auth, owner, stranger):
    tokens = [api_tokens(client, owner.email) for _ in range(2)]
    theirs = api_tokens(client, stranger.email)
    auth.login(owner.email)

    response = client.post("/settings/security/sessions/revoke-others", data={"csrf_token": auth.csrf()})
    assert response.status_code == 303

    for pair in tokens:
        assert_revoked(client, pair["accessToken"])
    assert me(client, theirs["accessToken"]).status_code == 200  # another member is not touched
    assert client.get("/api/v1/auth/me").status_code == 200  # this browser stays signed in


def test_password_change_ends_every_access_token(client, auth, owner, stranger):
    mine, theirs = api_tokens(client, owner.email), api_tokens(client, stranger.email)
    auth.login(owner.email)
    form = {
        "pw-current_password": PASSWORD,
        "pw-new_password": NEW_PASSWORD,
        "csrf_token": auth.csrf("/settings/security"),
    }
    assert client.post("/settings/security/password", data=form).status_code == 303

    assert_revoked(client, mine["accessToken"])
    assert me(client, theirs["accessToken"]).status_code == 200
    assert me(client, api_tokens(client, owner.email, NEW_PASSWORD)["accessToken"]).status_code == 200


def test_password_reset_ends_every_access_token(client, owner, stranger):
    from webapp.auth import service as auth_service
    from webapp.auth import tokens as mailed_tokens

    mine, theirs = api_tokens(client, owner.email), api_tokens(client, stranger.email)
    link = mailed_tokens.make("reset", auth_service._reset_claims(owner))
    assert client.get(f"/auth/reset/{link}").status_code == 200
    from tests.helpers import csrf_token

    form = {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD, "csrf_token": csrf_token(client, f"/auth/reset/{link}")}
    assert client.post(f"/auth/reset/{link}", data=form).status_code == 303

    assert_revoked(client, mine["accessToken"])
    assert me(client, theirs["accessToken"]).status_code == 200


def test_staff_suspension_then_reinstatement_does_not_revive_old_tokens(client, owner):
    """Suspension signs the member out everywhere: lifting it later does not bring back the
    access tokens of that time."""
    from webapp.auth import service as auth_service
    from webapp.extensions import db

    old = api_tokens(client, owner.email)
    owner.is_suspended = True
    auth_service.sign_out_everywhere(owner.id)
    owner.is_suspended = False
    db.session.commit()
    assert_revoked(client, old["accessToken"])


def test_checking_the_sign_in_costs_no_extra_query(client, owner):
    """The family check rides on the query that loads the member anyway."""
    access = api_tokens(client, owner.email)["accessToken"]
    me(client, access)  # warm up whatever is cached per process
    with count_queries() as statements:
        assert me(client, access).status_code == 200
    # The first statement loads the member and checks the family at once; nothing else
    # reads the refresh tokens.
    assert "FROM users" in statements[0] and "refresh_tokens" in statements[0]
    assert [s for s in statements if "refresh_tokens" in s] == statements[:1]
