"""Edges of the contracts that a review found (each failed before its fix): values the schema
refuses that the API once took, pages that answered in other words than the API, answers
that could drift from their declaration."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import jsonschema
import pytest

from tests.helpers import (
    PASSWORD,
    bearer,
    csrf_token,
    field_error,
    make_key,
    make_staff,
    post_profile,
)
from webapp.contracts import inline_json_schema
from webapp.extensions import db


@pytest.fixture
def key_headers(member):
    return bearer(make_key(member)[1])


def _schema_allows(contract, body) -> bool:
    try:
        jsonschema.Draft202012Validator(inline_json_schema(contract)).validate(body)
    except jsonschema.ValidationError:
        return False
    return True


# 1. The list query's sort takes any number of leading dashes; the documented enum takes one.
def test_sort_with_two_dashes_is_refused(client, make_user):
    admin = make_staff(make_user(email="staff@example.com"))
    headers = bearer(make_key(admin)[1])
    assert client.get("/api/v1/users?sort=--email", headers=headers).status_code == 422


# 2. The API accepts values its own schema refuses: padded text passes the rule (it trims) but
#    not the documented pattern/enum/format.
@pytest.mark.parametrize(
    "body",
    [
        {"slug": " sarah-lee "},
        {"timezone": " UTC "},
        {"website": "https://example.com "},
        {"github_username": " octocat"},
    ],
)
def test_profile_accepts_only_what_its_schema_allows(client, key_headers, body):
    from webapp.accounts.schemas import ProfileChanges

    documented = _schema_allows(ProfileChanges, body)
    accepted = client.patch("/api/v1/profile", json=body, headers=key_headers).status_code == 200
    assert accepted == documented, f"schema allows={documented}, API accepted={accepted}"


# 3. expires_at is documented as an RFC 3339 date-time; ISO 8601 basic and week forms get through.
@pytest.mark.parametrize("moment", ["20290131T000000Z", "2029-W05-3T00:00Z", "2029-01-31 00:00:00Z", ""])
def test_key_expiry_takes_only_rfc3339(client, key_headers, moment):
    body = {"name": "k", "permissions": ["profile:read"], "expires_at": moment}
    assert client.post("/api/v1/api-keys", json=body, headers=key_headers).status_code == 422


# 4. /auth/register documents camelCase with additionalProperties false, yet takes snake_case,
#    and when both are sent the documented one is silently dropped.
def test_register_refuses_undocumented_snake_case(client):
    body = {"email": "a@example.com", "password": PASSWORD, "first_name": "Bob"}
    assert client.post("/api/v1/auth/register", json=body).status_code == 422


def test_register_does_not_drop_the_documented_name(client):
    body = {"email": "b@example.com", "password": PASSWORD, "firstName": "Ann", "first_name": "Bob"}
    response = client.post("/api/v1/auth/register", json=body)
    assert response.status_code == 422
    assert response.get_json()["error"]["details"] == {"first_name": ["Unknown field."]}


# 5. One answer should name every problem; the budget rule is skipped when another field fails.
def test_budget_order_is_reported_with_other_problems(client, key_headers):
    body = {"budget_min": 500, "budget_max": 100, "phone": "x"}
    details = client.patch("/api/v1/profile", json=body, headers=key_headers).get_json()["error"]["details"]
    assert set(details) == {"phone", "budget_max"}


# 6. The profile page keeps WTForms validators: one error at a time, in WTForms' words.
def test_profile_page_names_every_problem_at_once(client, member):
    page = post_profile(client, display_name=" ", phone="12").get_data(as_text=True)
    assert field_error(page, "display_name") and field_error(page, "phone")


def test_profile_page_budget_message_is_the_contracts(client, member):
    page = post_profile(client, budget_min="-5").get_data(as_text=True)
    assert field_error(page, "budget_min") == "Must not be negative."


# 7. The settings page shows WTForms' "Not a valid choice." instead of the contract's words.
def test_settings_page_uses_the_contract_message(client, member):
    data = {
        "theme": "dark",
        "default_view": "grid",
        "items_per_page": "20",
        "language": "en",
        "timezone": "Mars/Olympus",
        "csrf_token": csrf_token(client, "/settings"),
    }
    page = client.post("/settings", data=data).get_data(as_text=True)
    assert "Choose a time zone from the list" in page


# 8. The sign-up page: a 129-character password gets "At most 129 characters." on the repetition.
def test_register_page_repetition_has_no_off_by_one_message(client):
    long = "Ab1!" * 33
    data = {
        "display_name": "Q",
        "email": "q@example.com",
        "password": long,
        "confirm": long,
        "csrf_token": csrf_token(client, "/auth/register"),
    }
    page = client.post("/auth/register", data=data).get_data(as_text=True)
    assert field_error(page, "password") == "Use at most 128 characters."
    assert field_error(page, "confirm") is None


# 9. A month typed as words is told its length, not its form.
def test_month_error_names_the_form(client, key_headers):
    body = {"experience": [{"title": "Dev", "company": "Acme", "start": "May 2024"}]}
    details = client.post("/api/v1/profile/cv", json=body, headers=key_headers).get_json()["error"]["details"]
    assert details["experience.0.start"] == ["Use the form YYYY-MM."]


# 10. The leading @ that the rule drops still counts toward the handle's length (regression).
def test_at_sign_does_not_count_toward_the_handle(client, key_headers):
    body = {"twitter_username": "@" + "a" * 15}
    assert client.patch("/api/v1/profile", json=body, headers=key_headers).status_code == 200


# 11. A textarea sends CRLF: a 2,000-character bio with line breaks is refused from the page.
def test_bio_with_line_breaks_fits_from_the_page(client, member):
    bio = "\r\n".join(["x" * 99] * 20)  # 1,999 characters as typed, 2,018 as sent
    assert post_profile(client, bio=bio).status_code == 303


# 12. Renaming a key on the page moves its expiry to the next midnight and re-arms the notice.
def test_page_rename_keeps_the_expiry(client, member):
    key, _ = make_key(member, permissions=["profile:read"], expires_at="2027-06-30T12:00:00Z")
    key.expiry_notified_at = datetime(2027, 6, 25, tzinfo=UTC)
    db.session.commit()
    page = client.get(f"/settings/api-keys/{key.id}/edit").get_data(as_text=True)
    prefix = re.search(r'name="(k[0-9a-f]+-)name"', page).group(1)
    data = {
        f"{prefix}name": "renamed",
        f"{prefix}permissions": ["profile:read"],
        f"{prefix}rate_limit": "1000",
        f"{prefix}expires_on": "2027-06-30",
        "csrf_token": csrf_token(client, "/settings/api-keys"),
    }
    assert client.post(f"/settings/api-keys/{key.id}", data=data).status_code == 200
    db.session.expire_all()
    assert key.expires_at.astimezone(UTC) == datetime(2027, 6, 30, 12, tzinfo=UTC)
    assert key.expiry_notified_at is not None


# 13. Reply.of is said to refuse an answer that drifted; it coerces and fills defaults instead.
def test_reply_refuses_drift():
    from pydantic import ValidationError

    from webapp.accounts.schemas import CV

    with pytest.raises(ValidationError):
        CV.of({})
