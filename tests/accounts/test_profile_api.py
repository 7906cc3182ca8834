"""The JSON face of profiles, CVs, settings and account deletion, with the browser session."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.helpers import PASSWORD, assert_json_error, png_bytes, table_counts
from webapp.accounts.models import Profile
from webapp.auth.models import User
from webapp.extensions import db


def stored(user) -> Profile:
    db.session.expire_all()
    return db.session.scalar(sa.select(Profile).where(Profile.user_id == user.id))


CV = {
    "headline": "Brand storyteller",
    "experience": [
        {"title": "Founder", "company": "Studio", "start": "2019-03", "end": None, "description": "Campaigns"}
    ],
    "education": [{"school": "Porto Arts", "degree": "BA", "start": "2011-09", "end": "2014-06"}],
    "skills": ["Video", "Photo"],
    "links": [{"label": "Reel", "url": "https://example.com/reel"}],
}


# --- Authentication and CSRF --------------------------------------------------------------


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/api/v1/profile"),
        ("PATCH", "/api/v1/profile"),
        ("GET", "/api/v1/profile/cv"),
        ("POST", "/api/v1/profile/cv"),
        ("PUT", "/api/v1/profile/cv"),
        ("DELETE", "/api/v1/profile/cv"),
        ("GET", "/api/v1/settings"),
        ("PATCH", "/api/v1/settings"),
        ("DELETE", "/api/v1/account"),
        ("POST", "/api/v1/profile/avatar"),
    ],
)
def test_anonymous_gets_json_401(client, method, path):
    response = client.open(path, method=method, json={})
    # Authentication comes first (CSRF matters only to a signed-in cookie): JSON, never a redirect.
    assert response.status_code == 401
    error = assert_json_error(
        response, response.status_code, "unauthorized" if response.status_code == 401 else "csrf_failed"
    )
    assert error


@pytest.mark.parametrize(
    "method, path, body",
    [
        ("PATCH", "/api/v1/profile", {"company": "Hacked"}),
        ("PUT", "/api/v1/profile/cv", {"headline": "Hacked"}),
        ("POST", "/api/v1/profile/cv", {"headline": "Hacked"}),
        ("DELETE", "/api/v1/profile/cv", None),
        ("PATCH", "/api/v1/settings", {"theme": "dark"}),
        ("DELETE", "/api/v1/account", {"password": PASSWORD}),
    ],
)
def test_write_without_csrf_header_is_refused(client, member, method, path, body):
    client.put("/api/v1/profile/cv", json=CV, headers={"X-CSRFToken": "bogus"})  # refused too
    before = table_counts()
    response = client.open(path, method=method, json=body)
    assert_json_error(response, 400, "csrf_failed")
    profile = stored(member)
    assert profile.company is None and profile.profile_data["headline"] == ""
    assert member.settings.theme == "system"
    assert table_counts() == before


def test_avatar_upload_without_csrf_is_refused(client, member):
    response = client.post(
        "/api/v1/profile/avatar",
        data={"avatar": (__import__("io").BytesIO(png_bytes()), "a.png")},
        content_type="multipart/form-data",
    )
    assert_json_error(response, 400, "csrf_failed")
    assert stored(member).avatar_url is None


# --- Profile ------------------------------------------------------------------------------


def test_get_profile(client, member):
    data = client.get("/api/v1/profile").get_json()["data"]
    assert data["user_id"] == str(member.id) and data["email"] == member.email
    assert data["display_name"] == "Test Member" and data["timezone"] == "UTC"
    assert data["profile_data"]["experience"] == []


def test_patch_profile(client, member, auth):
    changes = {
        "first_name": "Ana",
        "phone": "+351912345678",
        "website": "https://ana.example.com",
        "github_username": "@anasilva",
        "timezone": "Europe/Lisbon",
        "language": "pt",
        "categories": ["Fashion", "fashion", "Travel"],
        "budget_min": 10000,
        "budget_max": 20000,
        "slug": "ana-api",
        "public_profile": True,
    }
    response = client.patch("/api/v1/profile", json=changes, headers=auth.headers())
    assert response.status_code == 200
    data = response.get_json()["data"]
    assert data["github_username"] == "anasilva" and data["categories"] == ["Fashion", "Travel"]
    profile = stored(member)
    assert (profile.first_name, profile.phone, profile.timezone, profile.language) == (
        "Ana",
        "+351912345678",
        "Europe/Lisbon",
        "pt",
    )
    assert (profile.budget_min, profile.budget_max, profile.slug, profile.public_profile) == (
        10000,
        20000,
        "ana-api",
        True,
    )


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"website": "ftp://x"}, "website"),
        ({"phone": "004155550123"}, "phone"),
        ({"timezone": "Europe/Atlantis"}, "timezone"),
        ({"language": "klingon"}, "language"),
        ({"twitter_username": "https://twitter.com/ana"}, "twitter_username"),
        ({"budget_min": 500, "budget_max": 100}, "budget_max"),
        ({"budget_min": -1}, "budget_min"),
        ({"budget_min": True}, "budget_min"),
        ({"public_profile": "maybe"}, "public_profile"),
        ({"display_name": None}, "display_name"),
        ({"display_name": 42}, "display_name"),
        ({"categories": "x" * 41}, "categories"),
        ({"email": "new@example.com"}, "email"),
        ({"avatar_url": "https://evil.example/a.png"}, "avatar_url"),
        ({"is_admin": True}, "is_admin"),
    ],
)
def test_patch_profile_refuses_bad_input_atomically(client, member, auth, changes, field):
    response = client.patch("/api/v1/profile", json={"company": "Should not save", **changes}, headers=auth.headers())
    error = assert_json_error(response, 422, "validation_failed")
    assert field in error["details"] and error["details"][field][0]
    assert "company" not in error["details"]
    profile = stored(member)
    assert profile.company is None and profile.avatar_url is None and profile.email == member.email


def test_budget_is_capped_below_the_32_bit_column(client, member, auth):
    """2,000,000,000 cents is the most; one more is a 422 (PostgreSQL would otherwise fail with a 500)."""
    top = {"budget_min": 2_000_000_000, "budget_max": 2_000_000_000}
    assert client.patch("/api/v1/profile", json=top, headers=auth.headers()).status_code == 200
    assert (stored(member).budget_min, stored(member).budget_max) == (2_000_000_000, 2_000_000_000)
    for amount in (2_000_000_001, 2_147_483_648, 10**11):
        response = client.patch("/api/v1/profile", json={"budget_max": amount}, headers=auth.headers())
        error = assert_json_error(response, 422, "validation_failed")
        assert error["details"]["budget_max"] == ["Must be at most 20,000,000 USD (2,000,000,000 cents)."]
    assert stored(member).budget_max == 2_000_000_000


def test_patch_profile_slug_of_another_member(client, member, auth, make_user):
    other = make_user()
    taken = other.profile.slug
    error = assert_json_error(
        client.patch("/api/v1/profile", json={"slug": taken}, headers=auth.headers()), 422, "validation_failed"
    )
    assert "taken" in error["details"]["slug"][0]


@pytest.mark.parametrize(
    "body, content_type",
    [
        ("not json", "application/json"),
        ("[1, 2]", "application/json"),
        ("company=x", "text/plain"),
    ],
)
def test_patch_profile_needs_a_json_object(client, member, auth, body, content_type):
    response = client.patch("/api/v1/profile", data=body, content_type=content_type, headers=auth.headers())
    assert_json_error(response, 422, "validation_failed")


# --- CV -----------------------------------------------------------------------------------


def test_cv_put_get_post_delete(client, member, auth):
    headers = auth.headers()
    response = client.put("/api/v1/profile/cv", json=CV, headers=headers)
    assert response.status_code == 200 and response.get_json()["data"] == CV
    assert stored(member).profile_data == CV
    assert client.get("/api/v1/profile/cv").get_json()["data"] == CV

    # POST merges: given sections replace stored ones, others stay.
    response = client.post("/api/v1/profile/cv", json={"skills": ["Editing"]}, headers=headers)
    assert response.status_code == 200
    assert stored(member).profile_data == {**CV, "skills": ["Editing"]}

    # PUT replaces: missing sections become empty.
    client.put("/api/v1/profile/cv", json={"headline": "Only this"}, headers=headers)
    assert stored(member).profile_data == {
        "headline": "Only this",
        "experience": [],
        "education": [],
        "skills": [],
        "links": [],
    }

    assert client.delete("/api/v1/profile/cv", headers=headers).status_code == 204
    assert stored(member).profile_data["headline"] == ""


@pytest.mark.parametrize(
    "document, section",
    [
        ({"experience": [{"title": "A", "company": "B", "start": "2020-05", "end": "2019-01"}]}, "experience"),
        ({"experience": [{"company": "B", "start": "2020-05"}]}, "experience"),
        ({"experience": [{"title": "A", "company": "B", "start": "2020-05", "salary": 1}]}, "experience"),
        ({"experience": "Founder"}, "experience"),
        ({"education": [{"degree": "BA"}]}, "education"),
        ({"links": [{"label": "x", "url": "javascript:alert(1)"}]}, "links"),
        ({"skills": [1, 2]}, "skills"),
        ({"hobbies": ["chess"]}, "hobbies"),
    ],
)
def test_cv_errors(client, member, auth, document, section):
    client.put("/api/v1/profile/cv", json=CV, headers=auth.headers())
    for method in ("PUT", "POST"):
        response = client.open("/api/v1/profile/cv", method=method, json=document, headers=auth.headers())
        error = assert_json_error(response, 422, "validation_failed")
        assert section in error["details"], method
    assert stored(member).profile_data == CV


# --- Settings -----------------------------------------------------------------------------


def test_settings_get_and_patch(client, member, auth):
    data = client.get("/api/v1/settings").get_json()["data"]
    assert data["theme"] == "system" and data["items_per_page"] == 20 and data["timezone"] == "UTC"
    changes = {
        "theme": "dark",
        "compact_mode": True,
        "default_view": "list",
        "items_per_page": 35,
        "show_thumbnails": False,
        "auto_expand_folders": True,
        "confirm_delete": False,
        "show_activity": False,
        "allow_analytics": False,
        "timezone": "Asia/Tokyo",
        "language": "ja",
        "public_profile": True,
        "email_notifications": False,
        "marketing_emails": True,
    }
    response = client.patch("/api/v1/settings", json=changes, headers=auth.headers())
    assert response.status_code == 200 and response.get_json()["data"] == changes
    assert client.get("/api/v1/settings").get_json()["data"] == changes


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"theme": "neon"}, "theme"),
        ({"items_per_page": 500}, "items_per_page"),
        ({"items_per_page": True}, "items_per_page"),
        ({"items_per_page": "ten"}, "items_per_page"),
        ({"default_view": "table"}, "default_view"),
        ({"timezone": "Nowhere"}, "timezone"),
        ({"language": "xx"}, "language"),
        ({"slug": "x-slug"}, "slug"),
        ({"unknown": 1}, "unknown"),
    ],
)
def test_settings_patch_errors_change_nothing(client, member, auth, changes, field):
    response = client.patch("/api/v1/settings", json={"theme": "dark", **changes}, headers=auth.headers())
    error = assert_json_error(response, 422, "validation_failed")
    assert field in error["details"]
    assert client.get("/api/v1/settings").get_json()["data"]["theme"] == "system"


# --- Avatar and errors --------------------------------------------------------------------


def test_api_avatar_upload(client, member, auth):
    import io

    response = client.post(
        "/api/v1/profile/avatar",
        data={"avatar": (io.BytesIO(png_bytes()), "me.png")},
        headers=auth.headers(),
        content_type="multipart/form-data",
    )
    assert response.status_code == 201
    url = response.get_json()["data"]["avatar_url"]
    assert url.startswith("http://localhost/media/avatars/") and url.endswith(stored(member).avatar_url)
    missing = client.post("/api/v1/profile/avatar", data={}, headers=auth.headers(), content_type="multipart/form-data")
    assert "avatar" in assert_json_error(missing, 422, "validation_failed")["details"]


def test_unknown_api_path_and_method_answer_json(client, member, auth):
    assert_json_error(client.get("/api/v1/profile/nope"), 404, "not_found")
    assert_json_error(client.post("/api/v1/settings", json={}, headers=auth.headers()), 405, "method_not_allowed")


# --- Account deletion ---------------------------------------------------------------------


def test_delete_account_needs_the_password(app, client, member, auth, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_ACCOUNT", "50 per minute")  # six refusals here
    for body in (
        {"password": "wrong-password-123"},
        {},
        None,
        {"password": 12345},
        {"password": None},
        {"password": ["x"]},
    ):
        response = client.delete("/api/v1/account", json=body, headers=auth.headers())
        error = assert_json_error(response, 422, "validation_failed")
        assert "password" in error["details"] or "body" in error["details"]
    assert db.session.get(User, member.id) is not None


def test_delete_account_over_api(client, member, auth, make_user):
    other = make_user()
    client.put("/api/v1/profile/cv", json=CV, headers=auth.headers())
    before = table_counts()
    response = client.delete("/api/v1/account", json={"password": PASSWORD}, headers=auth.headers())
    assert response.status_code == 204
    db.session.expire_all()
    assert db.session.get(User, member.id) is None
    assert db.session.get(User, other.id) is not None
    after = table_counts()
    assert after["users"] == before["users"] - 1 and after["profiles"] == before["profiles"] - 1
    assert after["user_sessions"] == before["user_sessions"] - 1
    # The member is signed out: the session no longer works.
    assert_json_error(client.get("/api/v1/profile"), 401, "unauthorized")


# --- Ownership ----------------------------------------------------------------------------


def test_members_only_see_and_change_their_own_data(client, app, make_user, auth):
    owner = make_user(email="owner@example.com")
    auth.login(owner.email)
    client.patch("/api/v1/profile", json={"company": "Owner Co", "slug": "owner"}, headers=auth.headers())
    client.put("/api/v1/profile/cv", json=CV, headers=auth.headers())
    client.patch("/api/v1/settings", json={"theme": "dark"}, headers=auth.headers())
    auth.logout()

    intruder_client = app.test_client()
    from tests.helpers import AuthActions

    intruder = make_user(email="intruder@example.com")
    intruder_auth = AuthActions(intruder_client)
    intruder_auth.login(intruder.email)
    data = intruder_client.get("/api/v1/profile").get_json()["data"]
    assert data["user_id"] == str(intruder.id) and data["company"] is None
    assert intruder_client.get("/api/v1/profile/cv").get_json()["data"]["headline"] == ""
    assert intruder_client.get("/api/v1/settings").get_json()["data"]["theme"] == "system"
    assert "Owner Co" not in intruder_client.get("/profile").get_data(as_text=True)
    headers = intruder_auth.headers()
    intruder_client.patch("/api/v1/profile", json={"company": "Mine now"}, headers=headers)
    intruder_client.delete("/api/v1/profile/cv", headers=headers)
    intruder_client.patch("/api/v1/settings", json={"theme": "light"}, headers=headers)
    # The owner's slug cannot be taken over either.
    assert intruder_client.patch("/api/v1/profile", json={"slug": "owner"}, headers=headers).status_code == 422

    owner_profile = stored(owner)
    assert owner_profile.company == "Owner Co" and owner_profile.slug == "owner"
    assert owner_profile.profile_data == CV
    assert db.session.get(User, owner.id).settings.theme == "dark"


def test_junk_bearer_header_does_not_bypass_csrf_for_cookie_writes(client, member):
    """CSRF is skipped for bearer requests, so a bearer request must never fall back to the cookie."""
    response = client.patch("/api/v1/profile", json={"company": "Forged"}, headers={"Authorization": "Bearer junk"})
    assert response.status_code == 401
    assert stored(member).company is None


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"bio": "line\x00break"}, "bio"),  # PostgreSQL refuses NUL in text: a 500 unless caught here
        ({"display_name": "\x00"}, "display_name"),
    ],
)
def test_nul_characters_are_refused(client, member, auth, changes, field):
    response = client.patch("/api/v1/profile", json=changes, headers=auth.headers())
    assert field in assert_json_error(response, 422, "validation_failed")["details"]


def test_slug_race_is_a_422_not_a_500(client, member, auth, make_user, monkeypatch):
    """Two members can pass the 'slug free?' check at once; the unique index decides."""
    other = make_user()
    from webapp.accounts import service

    monkeypatch.setattr(service, "_slug_taken", lambda slug, profile_id: False)
    response = client.patch(
        "/api/v1/profile", json={"slug": other.profile.slug, "company": "X"}, headers=auth.headers()
    )
    assert "slug" in assert_json_error(response, 422, "validation_failed")["details"]
    assert stored(member).company is None
