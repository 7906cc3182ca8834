"""The pages offer no more than the contracts accept: each text input's ``maxlength`` is the
limit its contract declares (``webapp.forms.shaped_by``), so no number is written twice."""

from __future__ import annotations

import re

import pytest

from webapp.accounts import schemas
from webapp.auth.schemas import SignUpPage
from webapp.contracts import inline_json_schema


def _maxlength(page: str, field_id: str) -> int | None:
    tag = re.search(rf'<(?:input|textarea)[^>]*\bid="{re.escape(field_id)}"[^>]*>', page)
    assert tag, f"no input #{field_id}"
    found = re.search(r'\bmaxlength="(\d+)"', tag.group(0))
    return int(found.group(1)) if found else None


def _limit(contract, name: str) -> int:
    return inline_json_schema(contract)["properties"][name]["maxLength"]


@pytest.mark.parametrize(
    "field_id, contract, name",
    [
        ("display_name", schemas.ProfileChanges, "display_name"),
        ("bio", schemas.ProfileChanges, "bio"),
        ("github_username", schemas.ProfileChanges, "github_username"),
        ("twitter_username", schemas.ProfileChanges, "twitter_username"),
        ("website", schemas.ProfileChanges, "website"),
    ],
)
def test_profile_inputs_take_their_limits_from_the_contract(client, member, field_id, contract, name):
    page = client.get("/profile").get_data(as_text=True)
    assert _maxlength(page, field_id) == _limit(contract, name)


def test_cv_rows_take_their_limits_from_the_row_contracts(client, member, auth):
    row = {"title": "Designer", "company": "Folio", "start": "2020-01"}
    stored = client.put("/api/v1/profile/cv", json={"experience": [row]}, headers=auth.headers())
    assert stored.status_code == 200
    page = client.get("/profile").get_data(as_text=True)
    title = re.search(r'id="(experience-\d+-title)"', page)
    assert title, "the stored row is shown"
    assert _maxlength(page, title.group(1)) == _limit(schemas.ExperienceEntry, "title")
    assert _maxlength(page, "headline") == _limit(schemas.CVDocument, "headline")


def test_sign_up_page_limits_the_name(client):
    page = client.get("/auth/register").get_data(as_text=True)
    assert _maxlength(page, "display_name") == _limit(SignUpPage, "display_name") == 100
