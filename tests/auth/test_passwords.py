"""The password rule on every path that takes a new password: sign-up (page, API and its
alias), reset, the security page's change, and staff creating a member. Any length up to 128
works, longer ones are refused with one clear message, and every path words the rule alike."""

from __future__ import annotations

import hashlib
import html
import re

import pytest
import sqlalchemy as sa

from tests.helpers import PASSWORD, assert_json_error, bearer, csrf_token, field_error, make_key, path_of
from webapp.auth import passwords
from webapp.auth import service as auth_service
from webapp.auth.models import User
from webapp.extensions import db

LENGTHS = [73, 100, 128]
# Two unrelated hex digests: no word, pattern or repetition for zxcvbn to find at any length.
STRONG = (hashlib.sha256(b"folio-long-1").hexdigest() + hashlib.sha256(b"folio-long-2").hexdigest()) * 2

TOO_SHORT = "Use at least 10 characters."
TOO_LONG = "Use at most 128 characters."
MISSING = "Enter a password."
MISMATCH = "The passwords differ."
HINT = "10 to 128 characters; avoid common passwords."


def strong(length: int) -> str:
    return STRONG[:length]


def field_hint(page: str, field_id: str) -> str | None:
    match = re.search(rf'<p class="hint" id="{re.escape(field_id)}-hint">(.*?)</p>', page)
    return html.unescape(match.group(1)) if match else None


def sign_up_page(client, password: str, confirm: str | None = None, email: str = "long@example.com"):
    data = {
        "display_name": "Lena Long",
        "email": email,
        "password": password,
        "confirm": password if confirm is None else confirm,
        "csrf_token": csrf_token(client, "/auth/register"),
    }
    return client.post("/auth/register", data=data)


def sign_up_api(client, password: str, path: str = "/api/v1/auth/register", email: str = "long@example.com"):
    return client.post(path, json={"email": email, "password": password, "firstName": "Lena", "lastName": "Long"})


def reset_path(make_user, mailbox) -> tuple[User, str]:
    """A member and the path of the reset link mailed to them."""
    user = make_user()
    auth_service.send_password_reset(user.email)
    return user, path_of(mailbox.last_link(user.email, "/auth/reset/"))


def reset_page(client, path: str, password: str, confirm: str | None = None):
    data = {"password": password, "confirm": password if confirm is None else confirm}
    return client.post(path, data={**data, "csrf_token": csrf_token(client, path)})


def change_password(client, new_password: str, current: str = PASSWORD):
    token = csrf_token(client, "/settings/security")
    data = {"pw-current_password": current, "pw-new_password": new_password, "csrf_token": token}
    return client.post("/settings/security/password", data=data)


def can_sign_in(app, email: str, password: str) -> bool:
    response = app.test_client().post("/api/v1/auth/login", json={"email": email, "password": password})
    return response.status_code == 200


# --- Long passwords: up to 128 characters on every path -----------------------------------


def test_strong_fixture_is_strong_at_every_length():
    for length in LENGTHS:
        assert len(strong(length)) == length and passwords.password_problem(strong(length)) is None


@pytest.mark.parametrize("length", LENGTHS)
def test_sign_up_page_takes_a_long_password(app, client, length):
    response = sign_up_page(client, strong(length))
    assert response.status_code == 303, response.get_data(as_text=True)
    assert can_sign_in(app, "long@example.com", strong(length))


@pytest.mark.parametrize("path", ["/api/v1/auth/register", "/api/v1/auth/signup"])
@pytest.mark.parametrize("length", LENGTHS)
def test_sign_up_api_takes_a_long_password(app, client, length, path):
    response = sign_up_api(client, strong(length), path)
    assert response.status_code == 201, response.get_json()
    assert can_sign_in(app, "long@example.com", strong(length))


@pytest.mark.parametrize("length", LENGTHS)
def test_reset_takes_a_long_password(app, client, make_user, mailbox, length):
    user, path = reset_path(make_user, mailbox)
    response = reset_page(client, path, strong(length))
    assert response.status_code == 303, response.get_data(as_text=True)
    assert can_sign_in(app, user.email, strong(length))


@pytest.mark.parametrize("length", LENGTHS)
def test_password_change_takes_a_long_password(app, client, member, length):
    response = change_password(client, strong(length))
    assert response.status_code == 303, response.get_data(as_text=True)
    assert can_sign_in(app, member.email, strong(length))


@pytest.mark.parametrize("length", LENGTHS)
def test_staff_create_a_member_with_a_long_password(app, client, admin, length):
    _, key = make_key(admin)
    body = {"email": "long@example.com", "password": strong(length)}
    response = client.post("/api/v1/users", headers=bearer(key), json=body)
    assert response.status_code == 201, response.get_json()
    assert can_sign_in(app, "long@example.com", strong(length))


def test_129_characters_are_refused_on_every_path(app, client, make_user, mailbox):
    too_long = strong(128) + "x"
    page = sign_up_page(client, too_long)
    assert page.status_code == 422
    assert field_error(page.get_data(as_text=True), "password") == TOO_LONG
    for path in ("/api/v1/auth/register", "/api/v1/auth/signup"):
        error = assert_json_error(sign_up_api(client, too_long, path), 422, "validation_failed")
        assert error["details"] == {"password": [TOO_LONG]}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0

    user, path = reset_path(make_user, mailbox)
    reset = reset_page(client, path, too_long)
    assert reset.status_code == 422
    assert field_error(reset.get_data(as_text=True), "password") == TOO_LONG

    member = make_user(email="member@example.com")
    browser = app.test_client()
    browser.post("/auth/login", data={"email": member.email, "password": PASSWORD, "csrf_token": csrf_token(browser)})
    change = change_password(browser, too_long)
    assert change.status_code == 422
    assert field_error(change.get_data(as_text=True), "pw-new_password") == TOO_LONG
    assert can_sign_in(app, member.email, PASSWORD) and can_sign_in(app, user.email, PASSWORD)


def test_long_but_repetitive_passwords_are_still_weak(client):
    """The part zxcvbn cannot see does not excuse a password that is weak throughout."""
    for password in ("a" * 100, "password" * 16, "1234567890" * 12 + "12345678"):
        problem = passwords.password_problem(password)
        assert problem is not None and problem.endswith("Choose a less common password."), password
        error = assert_json_error(sign_up_api(client, password), 422, "validation_failed")
        assert error["details"] == {"password": [problem]}


def test_long_passwords_are_judged_by_their_first_72_characters():
    """What zxcvbn can see decides: a strong start passes whatever follows, a weak one fails."""
    assert passwords.password_problem(strong(72) + "a" * 56) is None
    assert passwords.password_problem("a" * 72 + strong(56)) is not None


# --- One wording of the rule everywhere ---------------------------------------------------


def test_sign_up_page_words_the_rule(client):
    page = client.get("/auth/register").get_data(as_text=True)
    assert field_hint(page, "password") == HINT
    for password, message in (("short1234", TOO_SHORT), ("", MISSING), (strong(129), TOO_LONG)):
        response = sign_up_page(client, password)
        assert response.status_code == 422
        assert field_error(response.get_data(as_text=True), "password") == message
    mismatch = sign_up_page(client, strong(20), strong(21))
    assert field_error(mismatch.get_data(as_text=True), "confirm") == MISMATCH


def test_reset_page_words_the_rule(client, make_user, mailbox):
    _, path = reset_path(make_user, mailbox)
    assert field_hint(client.get(path).get_data(as_text=True), "password") == HINT
    for password, message in (("short1234", TOO_SHORT), ("", MISSING), (strong(129), TOO_LONG)):
        response = reset_page(client, path, password)
        page = response.get_data(as_text=True)
        assert response.status_code == 422
        assert field_error(page, "password") == message
        assert "Field must be" not in page and "This field is required." not in page
    mismatch = reset_page(client, path, strong(20), strong(21))
    assert field_error(mismatch.get_data(as_text=True), "confirm") == MISMATCH
    # A short password and a mismatch are both told at once.
    both = reset_page(client, path, "short1234", "short12345").get_data(as_text=True)
    assert field_error(both, "password") == TOO_SHORT and field_error(both, "confirm") == MISMATCH


def test_password_change_words_the_rule(client, member):
    assert field_hint(client.get("/settings/security").get_data(as_text=True), "pw-new_password") == HINT
    for password, message in (("short1234", TOO_SHORT), ("", MISSING), (strong(129), TOO_LONG)):
        response = change_password(client, password)
        page = response.get_data(as_text=True)
        assert response.status_code == 422
        assert field_error(page, "pw-new_password") == message
        assert "Field must be" not in page and "This field is required." not in page


@pytest.mark.parametrize("path", ["/api/v1/auth/register", "/api/v1/auth/signup"])
def test_sign_up_api_words_the_rule(client, path):
    for password, message in (("short1234", TOO_SHORT), ("", MISSING), (strong(129), TOO_LONG)):
        error = assert_json_error(sign_up_api(client, password, path), 422, "validation_failed")
        assert error["details"] == {"password": [message]}
    missing = assert_json_error(client.post(path, json={"email": "a@example.com"}), 422, "validation_failed")
    assert missing["details"] == {"password": [MISSING]}


def test_staff_creation_words_the_rule(client, admin):
    _, key = make_key(admin)
    for password, message in (("short1234", TOO_SHORT), (strong(129), TOO_LONG)):
        body = {"email": "new@example.com", "password": password}
        error = assert_json_error(client.post("/api/v1/users", headers=bearer(key), json=body), 422)
        assert error["details"] == {"password": [message]}


def test_the_documented_limits_are_the_rules(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    for path in ("/api/v1/auth/register", "/api/v1/users"):
        schema = spec["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
        password = schema["properties"]["password"]
        assert (password["minLength"], password["maxLength"]) == (passwords.MIN_LENGTH, passwords.MAX_LENGTH)
