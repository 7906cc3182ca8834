"""/dashboard: where members land, a grid of cards that domains register and htmx loads."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests.helpers import count_queries, make_key
from webapp.activity import service as activity
from webapp.extensions import db
from webapp.timeutil import utcnow
from webapp.usage.models import UsageMetric

HX = {"HX-Request": "true"}
CARDS = ("getting-started", "security", "credits", "api-usage")


def card(client, card_id: str) -> str:
    response = client.get(f"/dashboard/cards/{card_id}", headers=HX)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<html" not in html
    return html


@pytest.mark.parametrize("path", ["/dashboard", *(f"/dashboard/cards/{c}" for c in CARDS)])
def test_anonymous_visitors_are_sent_to_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    assert client.get(path, headers=HX).headers["HX-Redirect"].startswith("/auth/login")


def test_members_land_on_the_dashboard(client, member):
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"] == "/dashboard"


def test_the_page_lists_every_registered_card_each_loading_on_its_own(client, member):
    html = client.get("/dashboard").get_data(as_text=True)
    for card_id in CARDS:
        assert f'id="card-{card_id}"' in html
        assert f'hx-get="/dashboard/cards/{card_id}" hx-trigger="load"' in html
    assert html.count("Loading…") == len(CARDS)
    assert 'aria-current="page"' in re.search(r'<a href="/dashboard"[^>]*>', html).group(0)


def test_unknown_card_is_404_and_a_card_opened_directly_goes_to_its_place(client, member):
    assert client.get("/dashboard/cards/nope", headers=HX).status_code == 404
    response = client.get("/dashboard/cards/security")
    assert response.status_code == 303 and response.headers["Location"] == "/dashboard#card-security"


def test_checklist_shows_what_is_left_and_each_step_goes_when_done(client, make_user, auth):
    user = make_user(verified=False)
    auth.login(user.email)
    html = card(client, "getting-started")
    assert "0 of 5 done" in html
    steps = re.findall(r'<li id="step-([a-z-]+)">', html)
    assert steps == ["verify-email", "profile", "photo", "cv", "api-key"]
    assert 'href="/profile#photo"' in html and 'href="/settings/api-keys"' in html

    user.is_verified = True
    profile = user.profile
    profile.job_title, profile.bio, profile.location = "Photographer", "Light and people.", "Porto"
    db.session.commit()
    profile.avatar_url = "avatars/me.webp"
    db.session.commit()
    make_key(user, ["profile:read"])
    html = card(client, "getting-started")
    assert "4 of 5 done" in html
    assert re.findall(r'<li id="step-([a-z-]+)">', html) == ["cv"]

    profile.profile_data = {**profile.profile_data, "experience": [{"title": "A", "company": "B", "start": "2020-01"}]}
    db.session.commit()
    html = card(client, "getting-started")
    assert "You're all set" in html and "<li" not in html


def test_security_card_counts_failed_sign_ins_and_sessions(client, member, auth):
    for _ in range(2):
        activity.record("login", status="failure", user_id=member.id, message="wrong password")
    old = activity.record("login", status="failure", user_id=member.id, message="wrong password")
    old.created_at = utcnow() - timedelta(days=45)
    db.session.commit()
    html = card(client, "security")
    assert re.search(r'Failed sign-ins \(30 days\)</span>\s*<span class="badge badge-warning">2</span>', html)
    assert re.search(r">1 browser</span>", html)
    assert re.search(r'<span>Email</span>\s*<span class="badge badge-success">Confirmed</span>', html)


def test_usage_card_charts_two_weeks_of_calls_with_a_text_alternative(client, member):
    today = utcnow().date()
    assert "No API calls in the last 14 days." in card(client, "api-usage")
    for days_ago, calls in ((0, 7), (3, 5), (20, 100)):
        db.session.add(UsageMetric(user_id=member.id, metric_date=today - timedelta(days=days_ago), api_calls=calls))
    db.session.commit()
    html = card(client, "api-usage")
    assert re.search(r"Calls today</dt><dd>7</dd>", html)
    assert re.search(r"Last 14 days</dt><dd>12</dd>", html)  # the call 20 days ago is outside
    assert '<svg viewBox="0 0 240 48"' in html and 'role="img"' in html
    assert html.count("<tr><td>") == 14
    assert f"<tr><td>{today.isoformat()}</td><td>7</td></tr>" in html


def test_cards_show_only_the_members_own_data(client, member, make_user):
    other = make_user()
    db.session.add(UsageMetric(user_id=other.id, metric_date=utcnow().date(), api_calls=999))
    activity.record("login", status="failure", user_id=other.id)
    make_key(other, ["profile:read"])
    db.session.commit()
    assert "999" not in card(client, "api-usage")
    assert re.search(r'<span class="badge badge-success">0</span>', card(client, "security"))
    assert 'id="step-api-key"' in card(client, "getting-started")


@pytest.mark.parametrize("card_id", CARDS)
def test_each_card_makes_the_same_number_of_queries_whatever_the_data(client, member, card_id):
    grown = iter(range(1000))

    def grow(n):
        for _ in range(n):
            i = next(grown)
            db.session.add(UsageMetric(user_id=member.id, metric_date=utcnow().date() - timedelta(days=i)))
            activity.record("login", status="failure", user_id=member.id)
            make_key(member, ["profile:read"], name=f"key {i}")
        db.session.commit()

    grow(2)
    with count_queries() as few:
        card(client, card_id)
    grow(20)
    with count_queries() as many:
        card(client, card_id)
    assert len(many) == len(few)
