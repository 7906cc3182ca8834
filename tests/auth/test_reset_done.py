"""After a password reset: the confirmation page lists the member's active API keys (keys
outlive a password change, and whoever knew the old password may have made or copied one),
with one button to revoke them all; the member is told."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
import time_machine

from tests.helpers import NEW_PASSWORD, assert_json_error, bearer, csrf_token, make_key
from webapp.apikeys.models import ApiKey
from webapp.extensions import db
from webapp.timeutil import utcnow

DONE = "/auth/reset/done"
REVOKE = "/auth/reset/done/revoke-keys"


def reset(client, user) -> None:
    """Reset ``user``'s password through the page, as from the mailed link."""
    from webapp.auth import service as auth_service
    from webapp.auth import tokens

    path = f"/auth/reset/{tokens.make('reset', auth_service._reset_claims(user))}"
    form = {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD, "csrf_token": csrf_token(client, path)}
    response = client.post(path, data=form)
    assert response.status_code == 303 and response.headers["Location"] == DONE


def statuses(user) -> dict[str, str]:
    db.session.expire_all()
    return dict(db.session.execute(sa.select(ApiKey.name, ApiKey.status).where(ApiKey.user_id == user.id)).all())


def revoke(client):
    return client.post(REVOKE, data={"csrf_token": csrf_token(client, DONE)})


@pytest.fixture
def owner(make_user):
    user = make_user(email="owner@example.com")
    for name in ("Zapier sync", "Backup script"):
        make_key(user, name=name)
    make_key(user, name="Old laptop")
    key = db.session.scalar(sa.select(ApiKey).where(ApiKey.name == "Old laptop"))
    key.status = "disabled"
    db.session.commit()
    return user


@pytest.fixture
def neighbour(make_user):
    user = make_user(email="neighbour@example.com")
    make_key(user, name="Neighbour's importer")
    return user


def test_the_page_lists_only_this_members_active_keys(client, owner, neighbour):
    with time_machine.travel(utcnow() - timedelta(days=400), tick=False):
        make_key(owner, name="Expired one", expires_at=(utcnow() + timedelta(days=1)).isoformat())
    reset(client, owner)
    html = client.get(DONE).get_data(as_text=True)
    assert "Your password is changed" in html
    assert "Zapier sync" in html and "Backup script" in html
    assert "Old laptop" not in html and "Expired one" not in html  # they no longer work anyway
    assert "Neighbour" not in html
    assert 'action="/auth/reset/done/revoke-keys"' in html and 'name="csrf_token"' in html


def test_the_button_revokes_exactly_this_members_keys(client, owner, neighbour, notices):
    _, secret = make_key(owner, name="Scripted")
    _, theirs = make_key(neighbour, name="Theirs")
    reset(client, owner)

    response = revoke(client)
    assert response.status_code == 303 and response.headers["Location"] == DONE

    assert set(statuses(owner).values()) == {"disabled"}
    assert set(statuses(neighbour).values()) == {"active"}
    assert_json_error(client.get("/api/v1/profile", headers=bearer(secret)), 401, "key_revoked")
    assert client.get("/api/v1/profile", headers=bearer(theirs)).status_code == 200
    html = client.get(DONE).get_data(as_text=True)
    assert "Revoked 3 API keys" in html and "Zapier sync" not in html
    told = notices(owner)
    assert any("API keys revoked" in n and "category=security" in n for n in told), told
    assert not [n for n in notices(neighbour) if "revoked" in n]


def test_the_reset_itself_notifies_the_member(client, owner, notices):
    reset(client, owner)
    told = notices(owner)
    assert len(told) == 1 and "password was reset" in told[0].lower() and "category=security" in told[0]


def test_the_button_needs_csrf(client, owner):
    reset(client, owner)
    assert client.post(REVOKE).status_code == 400
    assert set(statuses(owner).values()) == {"active", "disabled"}


def test_only_the_browser_that_reset_may_revoke(app, client, owner):
    reset(client, owner)
    elsewhere = app.test_client()
    assert elsewhere.get(DONE).status_code == 302
    response = elsewhere.post(REVOKE, data={"csrf_token": csrf_token(elsewhere, "/auth/login")})
    assert response.status_code == 303 and response.headers["Location"].startswith("/auth/login")
    assert "active" in statuses(owner).values()


def test_the_page_ends_with_the_hour_or_a_newer_password(app, client, owner):
    from webapp.auth import service as auth_service

    reset(client, owner)
    with time_machine.travel(utcnow() + timedelta(hours=1, minutes=1), tick=False):
        assert client.get(DONE).status_code == 302
    assert client.get(DONE).status_code == 200
    auth_service._set_password(owner, "yet-another-long-passphrase-7")
    db.session.commit()
    assert client.get(DONE).status_code == 302
    response = client.post(REVOKE, data={"csrf_token": csrf_token(client, "/auth/login")})
    assert response.status_code == 303 and response.headers["Location"].startswith("/auth/login")
    assert "active" in statuses(owner).values()


def test_a_member_without_keys_is_told_so(client, make_user):
    user = make_user()
    reset(client, user)
    html = client.get(DONE).get_data(as_text=True)
    assert "You have no active API keys" in html and "revoke-keys" not in html
