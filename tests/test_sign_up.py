"""Sign-up tells every field's problem at once (page, API, staff creation)."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from tests.api_helpers import assert_json_error, bearer, make_key, make_staff
from tests.conftest import PASSWORD, csrf_token
from tests.test_passwords import field_error
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
    assert set(error["details"]) == {"email", "password", "phone", "display_name"}
    assert error["details"]["password"] == ["Use at least 10 characters."]
    assert error["details"]["display_name"] == ["At most 100 characters."]
    missing = assert_json_error(client.post(path, json={}), 422, "validation_failed")
    assert missing["details"] == {"email": ["Enter your email address."], "password": ["Enter a password."]}
    assert user_count() == 0


def test_staff_creation_names_every_problem_at_once(client, make_user):
    _, key = make_key(make_staff(make_user(email="admin@example.com", name="Ada Admin")))
    body = {"email": "not-an-email", "password": "short", "plan": "gold", "is_verified": "yes", "is_admin": True}
    error = assert_json_error(client.post("/api/v1/users", headers=bearer(key), json=body), 422, "validation_failed")
    assert set(error["details"]) == {"email", "password", "plan", "is_verified", "is_admin"}
    assert error["details"]["password"] == ["Use at least 10 characters."]
    assert user_count() == 1
