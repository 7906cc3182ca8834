"""The profile and settings bodies are kept per state of what they show (webapp/fragments.py):
each serve carries the request's own CSRF token, and any change shows on the next request."""

from __future__ import annotations

import re

import sqlalchemy as sa

from tests.helpers import post_profile
from webapp.accounts.models import Profile, UserSettings
from webapp.extensions import db


def _tokens(html: str) -> set[str]:
    return set(re.findall(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html))


def test_a_kept_body_carries_each_sessions_own_csrf_token(app, client, member, signed_in_client):
    other = signed_in_client(member)  # the same member in a second browser
    for path in ("/profile", "/settings"):
        first = client.get(path).get_data(as_text=True)
        kept = other.get(path).get_data(as_text=True)  # served from the kept body
        assert "folio-csrf-" not in first + kept
        assert len(_tokens(kept)) == 1 and _tokens(kept) != _tokens(first)
    # The token the second browser got from the kept body is the one its session accepts.
    (token,) = _tokens(other.get("/settings").get_data(as_text=True))
    assert other.post("/settings/theme", data={"csrf_token": token}).status_code == 303


def test_a_change_made_elsewhere_shows_at_once(app, client, member):
    assert "Ada Kept" not in client.get("/profile").get_data(as_text=True)
    # Written around the pages (another worker, the API, a job): no invalidation is needed.
    db.session.execute(sa.update(Profile).where(Profile.user_id == member.id).values(job_title="Ada Kept"))
    db.session.execute(sa.update(UserSettings).where(UserSettings.user_id == member.id).values(items_per_page=37))
    db.session.commit()
    db.session.expire_all()
    assert "Ada Kept" in client.get("/profile").get_data(as_text=True)
    assert 'value="37"' in client.get("/settings").get_data(as_text=True)


def test_a_saved_profile_shows_its_notice_and_new_values(app, client, member):
    client.get("/profile")
    response = post_profile(client, job_title="Kept Title")
    assert response.status_code == 303
    page = client.get("/profile").get_data(as_text=True)
    assert "Profile saved." in page and "Kept Title" in page
    assert "Profile saved." not in client.get("/profile").get_data(as_text=True)
