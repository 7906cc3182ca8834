"""Sign-up tells every field's problem at once (page, API, staff creation), and simultaneous
sign-ups with one name each get their own portfolio slug."""

from __future__ import annotations

import re
import threading

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from tests.helpers import (
    PASSWORD,
    assert_json_error,
    bearer,
    csrf_token,
    field_error,
    is_postgres,
    make_key,
)
from webapp.accounts.models import Profile
from webapp.auth import service as auth_service
from webapp.auth.models import User
from webapp.extensions import db


def user_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(User))


# --- Every field's error at once ----------------------------------------------------------


def test_sign_up_page_shows_every_fields_error_at_once(client):
    data = {
        "display_name": "",
        "email": "not-an-email",
        "password": "short",
        "confirm": "shorter",
        "csrf_token": csrf_token(client, "/auth/register"),
    }
    response = client.post("/auth/register", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert field_error(page, "display_name") == "Enter your name."
    assert field_error(page, "email") == "An email address must have an @-sign."
    assert field_error(page, "password") == "Use at least 10 characters."
    assert field_error(page, "confirm") == "The passwords differ."
    # The summary above the form counts them and links to each field.
    assert "Please fix 4 fields" in page
    links = re.findall(r'<li><a href="#(\w+)">', page)
    assert links == ["display_name", "email", "password", "confirm"]
    # What was typed stays (but passwords are not sent back).
    assert 'value="not-an-email"' in page and "shorter" not in page
    assert user_count() == 0


def test_sign_up_page_asks_for_the_repetition(client):
    data = {"display_name": "Ana", "email": "ana@example.com", "password": PASSWORD, "confirm": ""}
    response = client.post("/auth/register", data={**data, "csrf_token": csrf_token(client, "/auth/register")})
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "confirm") == "Repeat the password."
    assert user_count() == 0


@pytest.mark.parametrize("path", ["/api/v1/auth/register", "/api/v1/auth/signup"])
def test_sign_up_api_names_every_problem_at_once(client, path):
    body = {"email": "not-an-email", "password": "short", "phone": "call me maybe", "displayName": "x" * 101}
    error = assert_json_error(client.post(path, json=body), 422, "validation_failed")
    assert error["message"] == "Some fields need your attention."
    # Each problem is named as the field was sent (seed 004's camelCase).
    assert set(error["details"]) == {"email", "password", "phone", "displayName"}
    assert error["details"]["password"] == ["Use at least 10 characters."]
    assert error["details"]["displayName"] == ["At most 100 characters."]
    missing = assert_json_error(client.post(path, json={}), 422, "validation_failed")
    assert missing["details"] == {"email": ["Enter your email address."], "password": ["Enter a password."]}
    assert user_count() == 0


def test_staff_creation_names_every_problem_at_once(client, admin):
    _, key = make_key(admin)
    body = {"email": "not-an-email", "password": "short", "plan": "gold", "is_verified": "yes", "is_admin": True}
    error = assert_json_error(client.post("/api/v1/users", headers=bearer(key), json=body), 422, "validation_failed")
    assert set(error["details"]) == {"email", "password", "plan", "is_verified", "is_admin"}
    assert error["details"]["password"] == ["Use at least 10 characters."]
    assert user_count() == 1


# --- Simultaneous sign-ups ----------------------------------------------------------------


def test_unique_violations_are_told_apart_by_constraint(make_user):
    """The name of the broken constraint, on either backend, is what tells a taken email from
    a taken slug."""
    from webapp.accounts.service import set_up_member

    user = make_user("ana@example.com", name="Ana Lima")
    same_email = User(email="ana@example.com", password_hash="x", role=user.role)
    same_slug = User(email="other@example.com", password_hash="x", role=user.role)
    set_up_member(same_slug, "Other", {})
    same_slug.profile.slug = user.profile.slug
    for row, constraint in ((same_email, "uq_users_email"), (same_slug, "uq_profiles_slug")):
        with pytest.raises(IntegrityError) as caught, db.session.begin_nested():
            db.session.add(row)
            db.session.flush()
        assert auth_service.violated_constraint(caught.value) == constraint
    db.session.rollback()


def _in_parallel(app, count: int, request) -> list:
    """Run ``request(client, index)`` from ``count`` threads at once, each with its own app
    context (so its own database session and connection) and its own test client."""
    barrier, results, lock = threading.Barrier(count), [], threading.Lock()

    def run(index: int):
        with app.app_context():
            client = app.test_client()
            # Each caller has its own address, as separate people do: the per-address
            # sign-up limits are not what this test is about.
            client.environ_base["REMOTE_ADDR"] = f"10.0.{index // 250}.{index % 250 + 1}"
            barrier.wait()
            try:
                response = request(client, index)
                with lock:
                    results.append((response.status_code, response.get_json()))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == count
    return results


def _needs_postgres():
    # SQLite's in-memory test database is one connection shared by every thread: there is no
    # concurrency there to test.
    if not is_postgres():
        pytest.skip("needs PostgreSQL (TEST_DATABASE_URL)")


def test_thirty_simultaneous_sign_ups_with_one_name_all_succeed(app):
    _needs_postgres()

    def sign_up(client, index):
        body = {"email": f"ana{index}@example.com", "password": PASSWORD, "firstName": "Ana", "lastName": "Lima"}
        return client.post("/api/v1/auth/register", json=body)

    results = _in_parallel(app, 30, sign_up)
    assert [status for status, _ in results] == [201] * 30, [body for status, body in results if status != 201]
    slugs = db.session.scalars(sa.select(Profile.slug)).all()
    assert len(slugs) == len(set(slugs)) == 30
    assert set(slugs) == {"ana-lima", *(f"ana-lima-{n}" for n in range(2, 31))}


def test_simultaneous_sign_ups_with_one_email_and_name_give_one_account_and_409s(app):
    _needs_postgres()

    def sign_up(client, index):
        body = {"email": "ana@example.com", "password": PASSWORD, "firstName": "Ana", "lastName": "Lima"}
        return client.post("/api/v1/auth/register", json=body)

    results = _in_parallel(app, 8, sign_up)
    assert sorted(status for status, _ in results) == [201] + [409] * 7
    for status, body in results:
        if status == 409:
            assert body["error"]["code"] == "conflict"
            assert body["error"]["details"] == {
                "email": ["An account with this email already exists. Sign in instead?"]
            }
    assert user_count() == 1


def test_nul_in_the_display_name_is_refused_not_a_500(client):
    """PostgreSQL cannot store NUL; the name once reached it and answered 500."""
    body = {"email": "nul@example.com", "password": "a-long-unusual-passphrase-x", "displayName": "Ana\u0000"}
    response = client.post("/api/v1/auth/register", json=body)
    assert response.status_code == 422
    assert response.get_json()["error"]["details"]["displayName"] == ["Contains a character that is not allowed."]
