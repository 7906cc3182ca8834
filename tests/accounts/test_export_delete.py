"""The account export zip and account deletion (page and API)."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
import sqlalchemy as sa

from tests.helpers import PASSWORD, AuthActions, bearer, csrf_token, make_key, png_bytes, table_counts
from webapp import storage
from webapp.accounts import service as accounts
from webapp.activity.models import ActivityLog
from webapp.auth.models import User
from webapp.extensions import db
from webapp.usage import counter


def fill(client, auth):
    """Give the signed-in member data in every table this issue owns."""
    headers = auth.headers()
    client.patch("/api/v1/profile", json={"company": "Mine Co", "phone": "+14155550123"}, headers=headers)
    client.put("/api/v1/profile/cv", json={"headline": "My headline", "skills": ["Mine"]}, headers=headers)
    client.patch("/api/v1/settings", json={"theme": "dark", "items_per_page": 50}, headers=headers)
    client.post(
        "/api/v1/profile/avatar",
        data={"avatar": (io.BytesIO(png_bytes()), "a.png")},
        headers=headers,
        content_type="multipart/form-data",
    )


@pytest.fixture
def other(app, make_user):
    """A second signed-in member with data of their own, on a separate browser."""
    user = make_user(email="other@example.com", name="Other Member")
    other_client = app.test_client()
    other_auth = AuthActions(other_client)
    assert other_auth.login(user.email).status_code == 303
    fill(other_client, other_auth)
    other_client.patch("/api/v1/profile", json={"company": "Other Co"}, headers=other_auth.headers())
    db.session.expire_all()
    return user


def read_export(client) -> dict:
    response = client.get("/account/export")
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        return {name: json.loads(archive.read(name)) for name in archive.namelist() if name.endswith(".json")}


def test_export_contains_the_members_data_and_nobody_elses(client, member, auth, other):
    fill(client, auth)
    files = read_export(client)
    for name in ("manifest.json", "account.json", "profile.json", "settings.json", "sessions.json", "activity.json"):
        assert name in files, name
    assert set(files["manifest.json"]["files"]) >= set(files) - {"manifest.json"}
    assert files["manifest.json"]["user_id"] == str(member.id)

    account = files["account.json"]
    assert account["email"] == member.email and account["id"] == str(member.id)
    assert "password_hash" not in account and account["role"] == "member"
    profile = files["profile.json"]
    assert profile["user_id"] == str(member.id) and profile["company"] == "Mine Co"
    assert profile["phone"] == "+14155550123" and profile["profile_data"]["headline"] == "My headline"
    assert profile["avatar_url"].startswith("/media/avatars/")
    assert files["settings.json"]["theme"] == "dark" and files["settings.json"]["items_per_page"] == 50
    sessions = files["sessions.json"]
    assert len(sessions) == 1 and sessions[0]["user_id"] == str(member.id)
    assert all("token_hash" not in s for s in sessions)
    activity = files["activity.json"]
    assert any(e["action"] == "login" for e in activity)
    assert all(e["user_id"] == str(member.id) for e in activity)

    everything = json.dumps(files)
    assert str(other.id) not in everything and "Other Co" not in everything
    assert "other@example.com" not in everything
    assert "$argon2" not in everything


def export_files(client) -> dict[str, bytes]:
    """Every file of the member's export, raw."""
    response = client.get("/account/export")
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def fill_everything(client, auth, member) -> dict[str, str]:
    """``fill`` plus an API key, an API sign-in (refresh token), a day of usage, a purchase and a
    spend (ledger rows, an idempotency key); the secrets."""
    fill(client, auth)
    headers = auth.headers()
    bought = client.post(
        "/api/v1/credits/purchase", json={"pack": "starter"}, headers={**headers, "Idempotency-Key": "buy-1"}
    )
    assert bought.status_code == 201, bought.get_json()
    assert client.post("/api/v1/credits/spend", json={"amount": 5}, headers=headers).status_code == 200
    _, key_secret = make_key(member, name="Laptop script")
    sign_in = client.post("/api/v1/auth/login", json={"email": member.email, "password": PASSWORD})
    client.get("/api/v1/profile", headers=bearer(key_secret))
    counter.flush()
    return {"key": key_secret, "refresh": sign_in.get_json()["data"]["refreshToken"]}


def test_export_holds_keys_tokens_usage_and_the_avatar(client, member, auth, other):
    secrets = fill_everything(client, auth, member)
    raw = export_files(client)
    files = {name: json.loads(data) for name, data in raw.items() if name.endswith(".json")}
    for name in ("api_keys.json", "refresh_tokens.json", "usage.json", "avatar.webp"):
        assert name in raw and name in files["manifest.json"]["files"], name

    (key,) = files["api_keys.json"]
    assert key["name"] == "Laptop script" and key["user_id"] == str(member.id)
    assert {"key_prefix", "last_four", "permissions", "rate_limit", "expires_at", "created_at"} <= set(key)
    assert "key_hash" not in key
    (token,) = files["refresh_tokens.json"]
    assert {"device_info", "issued_at", "expires_at", "used_at", "revoked_at"} <= set(token)
    assert "token_hash" not in token and token["user_id"] == str(member.id)
    (day,) = files["usage.json"]
    assert day["user_id"] == str(member.id) and day["api_calls"] >= 1
    # Numeric columns come out exact, as strings, not as floats.
    assert day["storage_used_gb"] == "0.00" and day["storage_limit_gb"] == "1.00"  # the free plan's

    db.session.expire_all()
    avatar_key = storage.key_from_url(member.profile.avatar_url)
    assert raw["avatar.webp"] == storage.read(avatar_key)
    assert raw["avatar.webp"][:4] == b"RIFF" and raw["avatar.webp"][8:12] == b"WEBP"

    everything = b"".join(raw.values())
    for secret in secrets.values():
        assert secret.encode() not in everything
    assert str(other.id).encode() not in everything


def test_export_includes_calls_still_in_the_usage_buffer(client, member, auth, app, monkeypatch):
    """Counts waiting for the next flush are written before the files are built, so the usage
    days and the key's use count are current."""
    monkeypatch.setitem(app.config, "USAGE_FLUSH_SECONDS", 3600)
    counter.flush()  # start with an empty buffer and a fresh flush time
    key, secret = make_key(member, name="Buffered")
    for _ in range(3):
        assert client.get("/api/v1/profile", headers=bearer(secret)).status_code == 200
    assert counter.pending_key_uses([key.id])[key.id].uses == 3  # nothing written yet

    files = {n: json.loads(d) for n, d in export_files(client).items() if n.endswith(".json")}
    (day,) = files["usage.json"]
    assert day["api_calls"] == 3
    (exported_key,) = files["api_keys.json"]
    assert exported_key["usage_count"] == 3 and exported_key["last_used_at"] is not None
    assert counter.pending_key_uses([key.id]) == {}


def test_decimals_are_exported_exactly():
    from decimal import Decimal

    from webapp.export import _json_default

    assert json.loads(json.dumps({"gb": Decimal("12345678.91")}, default=_json_default)) == {"gb": "12345678.91"}


def test_exporters_live_in_their_domains(app):
    """Each file comes from the domain that owns its rows (registered by the domain's init_app)."""
    from webapp.export import _EXPORTERS

    assert _EXPORTERS["account.json"].__module__ == "webapp.auth.export"
    assert _EXPORTERS["sessions.json"].__module__ == "webapp.auth.export"
    assert _EXPORTERS["activity.json"].__module__ == "webapp.activity.export"
    assert _EXPORTERS["profile.json"].__module__ == "webapp.accounts.export"
    assert _EXPORTERS["api_keys.json"].__module__ == "webapp.apikeys.export"
    assert _EXPORTERS["refresh_tokens.json"].__module__ == "webapp.auth.export"
    assert _EXPORTERS["usage.json"].__module__ == "webapp.usage.export"


def test_export_has_every_row_the_member_owns(client, member, auth, other):
    """Each row of each table that points at the member is in the export, by id: a new table
    needs an exporter (``@exporter`` in ``webapp/<domain>/export.py``) or this fails."""
    fill_everything(client, auth, member)
    everything = json.dumps({n: json.loads(d) for n, d in export_files(client).items() if n.endswith(".json")})
    for table in db.metadata.sorted_tables:
        column = table.c.id if table.name == "users" else table.c.get("user_id")
        if column is None:
            continue
        ids = db.session.scalars(sa.select(table.c.id).where(column == member.id)).all()
        assert ids, f"fill_everything puts nothing in {table.name}"
        for row_id in ids:
            assert str(row_id) in everything, f"{table.name} row {row_id} is not exported"


def test_export_without_an_avatar_leaves_the_file_out(client, member):
    raw = export_files(client)
    assert "avatar.webp" not in raw
    assert "avatar.webp" not in json.loads(raw["manifest.json"])["files"]
    assert set(json.loads(raw["manifest.json"])["files"]) == set(raw) - {"manifest.json"}


def test_export_requires_login(client):
    assert client.get("/account/export").status_code == 302


def test_delete_page_offers_the_export_first(client, member):
    html = client.get("/account/delete").get_data(as_text=True)
    assert 'href="/account/export"' in html and 'name="password"' in html


def failed_deletions(user) -> list[ActivityLog]:
    query = sa.select(ActivityLog).where(ActivityLog.user_id == user.id, ActivityLog.action == "account_delete")
    return [entry for entry in db.session.scalars(query) if entry.status == "failure"]


def post_delete(client, password: str, confirm: bool = True):
    data = {"password": password, "csrf_token": csrf_token(client, "/account/delete")}
    if confirm:
        data["confirm"] = "y"
    return client.post("/account/delete", data=data)


@pytest.mark.parametrize(
    "password, confirm, field, message",
    [
        ("wrong-password-42", True, "password", "not your password"),
        ("", True, "password", "required"),
        (PASSWORD, False, "confirm", "Tick the box"),
    ],
)
def test_delete_refused_inline(client, member, password, confirm, field, message):
    before = table_counts()
    response = post_delete(client, password, confirm)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message.lower() in html.lower()
    if field == "password":
        assert '<p class="error" id="password-error">' in html and 'aria-invalid="true"' in html
    else:
        assert 'class="check has-error"' in html
    # Only a wrong password is logged (as a failed deletion); nothing else changes.
    guessed = password == "wrong-password-42"
    assert table_counts() == {**before, "logs": before["logs"] + guessed}
    assert len(failed_deletions(member)) == guessed
    assert client.get("/profile").status_code == 200  # still signed in


def test_delete_removes_every_row_and_file_and_signs_out(client, member, auth, other):
    fill(client, auth)
    db.session.expire_all()
    own_avatar = storage.key_from_url(member.profile.avatar_url)
    other_avatar = storage.key_from_url(other.profile.avatar_url)
    assert storage.exists(own_avatar) and storage.exists(other_avatar)
    before = table_counts()

    response = post_delete(client, PASSWORD)
    assert response.status_code == 303 and response.headers["Location"] == "/"

    after = table_counts()
    db.session.expire_all()
    assert db.session.get(User, member.id) is None
    owned = _rows_owned_by(member.id)
    assert owned == {}, owned
    # Exactly the member's rows went: one user, profile and settings row, their session and logs.
    assert after["users"] == before["users"] - 1
    assert after["profiles"] == before["profiles"] - 1
    assert after["user_settings"] == before["user_settings"] - 1
    assert after["user_sessions"] == before["user_sessions"] - 1
    assert after["roles"] == before["roles"]
    assert not storage.exists(own_avatar)
    # No empty avatars/<user-id>/ folder is left behind; the shared avatars/ folder stays.
    assert not (storage.root() / "avatars" / str(member.id)).exists()
    # The other member is untouched.
    assert storage.exists(other_avatar)
    other_row = db.session.get(User, other.id)
    assert other_row is not None and other_row.profile.company == "Other Co"
    assert other_row.settings.theme == "dark"
    assert _rows_owned_by(other.id)["user_sessions"] == 1
    # Signed out: the browser's session no longer works, and the email can sign up again.
    assert client.get("/profile").status_code == 302
    assert client.get("/api/v1/profile").status_code == 401


def _rows_owned_by(user_id) -> dict[str, int]:
    """Rows in every table with a ``user_id`` (or the users row itself) for ``user_id``."""
    counts = {}
    for table in db.metadata.sorted_tables:
        column = table.c.get("user_id") if table.name != "users" else table.c.id
        if column is None:
            continue
        count = db.session.scalar(sa.select(sa.func.count()).select_from(table).where(column == user_id))
        if count:
            counts[table.name] = count
    return counts


def test_every_table_with_a_member_is_covered():
    """A new table that points at users must cascade, or deletion would fail or leave rows."""
    users = db.metadata.tables["users"]
    for table in db.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table is users:
                assert fk.ondelete == "CASCADE" or fk.parent.nullable and fk.ondelete == "SET NULL", (
                    f"{table.name}.{fk.parent.name} does not cascade"
                )


def test_api_delete_removes_every_row_and_file(client, member, auth, other):
    fill(client, auth)
    db.session.expire_all()
    own_avatar = storage.key_from_url(member.profile.avatar_url)
    response = client.delete("/api/v1/account", json={"password": PASSWORD}, headers=auth.headers())
    assert response.status_code == 204
    db.session.expire_all()
    assert _rows_owned_by(member.id) == {}
    assert not storage.exists(own_avatar)
    assert db.session.get(User, other.id).profile.company == "Other Co"
    assert client.get("/api/v1/settings").status_code == 401


def test_deleted_member_can_register_again(client, member, auth):
    email = member.email
    assert post_delete(client, PASSWORD).status_code == 303
    token = csrf_token(client, "/auth/register")
    data = {"display_name": "Back Again", "email": email, "password": PASSWORD, "confirm": PASSWORD}
    response = client.post("/auth/register", data={**data, "csrf_token": token})
    assert response.status_code == 303


# --- Guessing the password through deletion ----------------------------------------------


def api_delete(client, auth, password: str):
    return client.delete("/api/v1/account", json={"password": password}, headers=auth.headers())


def test_page_refuses_after_too_many_wrong_passwords(app, client, member):
    limit = int(app.config["LOGIN_LIMIT_PER_ACCOUNT"].split()[0])
    for _ in range(3):
        assert client.get("/account/delete").status_code == 200  # looking costs nothing
    for _ in range(limit):
        assert post_delete(client, "wrong-password-42").status_code == 422
    response = post_delete(client, PASSWORD)  # even the right one, until the wait is over
    assert response.status_code == 429
    html = response.get_data(as_text=True)
    assert "Too many wrong passwords. Please wait" in html
    assert 'role="alert"' in html and 'name="password"' in html  # the form, with the reason
    db.session.expire_all()
    assert db.session.get(User, member.id) is not None
    entries = failed_deletions(member)
    assert len(entries) == limit and all(e.message == "wrong password" and e.ip_address for e in entries)


def test_api_refuses_after_too_many_wrong_passwords_in_the_error_format(app, client, member, auth):
    limit = int(app.config["LOGIN_LIMIT_PER_ACCOUNT"].split()[0])
    for _ in range(limit):
        assert api_delete(client, auth, "wrong-password-42").status_code == 422
    response = api_delete(client, auth, PASSWORD)
    assert response.status_code == 429 and "Retry-After" in response.headers
    error = response.get_json()["error"]
    assert error["code"] == "rate_limited"
    assert "Too many wrong passwords" in error["message"]
    assert db.session.get(User, member.id) is not None
    assert len(failed_deletions(member)) == limit


def test_page_and_api_share_one_budget_per_member(app, client, member, auth, make_user, signed_in_client):
    limit = int(app.config["LOGIN_LIMIT_PER_ACCOUNT"].split()[0])
    for n in range(limit):
        guess = post_delete(client, "wrong-password-42") if n % 2 else api_delete(client, auth, "wrong-password-42")
        assert guess.status_code == 422
    assert api_delete(client, auth, "wrong-password-42").status_code == 429
    assert post_delete(client, "wrong-password-42").status_code == 429
    # Another member's budget is their own.
    someone = make_user(email="someone@example.com")
    assert post_delete(signed_in_client(someone), PASSWORD).status_code == 303


def test_api_delete_with_the_session_revokes_it_and_clears_the_cookies(client, make_user, auth):
    user = make_user()
    assert auth.login(user.email, remember=True).status_code == 303
    assert client.get_cookie("folio_session") and client.get_cookie("folio_remember")
    assert api_delete(client, auth, PASSWORD).status_code == 204
    assert client.get_cookie("folio_session") is None and client.get_cookie("folio_remember") is None


def test_remove_account_takes_rows_and_files_without_a_password(client, member, auth, other):
    """The one removal every caller shares (the member's own deletion, staff deletion)."""
    fill(client, auth)
    db.session.expire_all()
    avatar = storage.key_from_url(member.profile.avatar_url)
    accounts.remove_account(db.session.get(User, member.id))
    db.session.commit()  # the files go once the removal commits (services only flush)
    db.session.expire_all()
    assert _rows_owned_by(member.id) == {} and not storage.exists(avatar)
    assert storage.exists(storage.key_from_url(other.profile.avatar_url))


# --- storage.delete tidies up -------------------------------------------------------------


@pytest.fixture
def request_context(app):
    """``storage.save`` answers a URL, which needs a request."""
    with app.test_request_context():
        yield


def test_storage_delete_removes_empty_folders_up_to_the_root(request_context):
    storage.save("a/b/c/one.bin", b"1")
    storage.save("a/two.bin", b"2")
    storage.delete("a/b/c/one.bin")
    root = storage.root()
    assert not (root / "a" / "b").exists()  # c, then b, were left empty
    assert (root / "a" / "two.bin").is_file()  # a still holds a file
    storage.delete("a/two.bin")
    assert not (root / "a").exists()
    assert root.is_dir()  # never the root itself, even once empty


def test_storage_delete_keeps_folders_that_still_hold_files(request_context):
    storage.save("keep/x/first.bin", b"1")
    storage.save("keep/x/second.bin", b"2")
    storage.delete("keep/x/first.bin")
    assert storage.exists("keep/x/second.bin")
    storage.delete("keep/x/missing.bin")  # a missing file is not an error, and prunes nothing
    assert storage.exists("keep/x/second.bin")
    storage.delete("keep/x/second.bin")
    assert not (storage.root() / "keep").exists()


def test_replacing_and_removing_the_avatar_leaves_no_empty_folder(client, member):
    folder = storage.root() / "avatars" / str(member.id)
    for color in ((1, 2, 3), (4, 5, 6)):
        client.post(
            "/profile/avatar",
            data={
                "avatar": (io.BytesIO(png_bytes(color=color)), "a.png"),
                "csrf_token": csrf_token(client, "/profile"),
            },
            content_type="multipart/form-data",
        )
    assert len(list(folder.iterdir())) == 1  # the replaced photo went, the folder stays in use
    client.post("/profile/avatar/delete", data={"csrf_token": csrf_token(client, "/profile")})
    assert not folder.exists()
