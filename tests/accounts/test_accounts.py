"""The /profile page (fields and the structured CV) and the /settings page."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from tests.helpers import FULL_PROFILE, csrf_token, post_cv, post_profile
from webapp.accounts.models import Profile
from webapp.extensions import db


def fresh(user) -> Profile:
    """The member's profile as stored (not the identity-map copy)."""
    db.session.expire_all()
    return db.session.scalar(sa.select(Profile).where(Profile.user_id == user.id))


def field_error(html: str, field_id: str) -> str | None:
    """The inline error text rendered for ``field_id``, if any."""
    match = re.search(rf'<p class="error" id="{re.escape(field_id)}-error">([^<]*)</p>', html)
    return match.group(1) if match else None


# --- Profile fields -----------------------------------------------------------------------


def test_profile_requires_login(client):
    for path in ("/profile", "/settings", "/account/export", "/account/delete", "/profile/cv/rows/experience"):
        response = client.get(path)
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"], path


def test_every_profile_field_persists(client, member):
    response = post_profile(client)
    assert response.status_code == 303, response.get_data(as_text=True)
    profile = fresh(member)
    assert profile.display_name == "Ana Silva"
    assert (profile.first_name, profile.last_name) == ("Ana", "Silva")
    assert profile.phone == "+14155550123"
    assert profile.bio == "I shoot honest portraits."
    assert (profile.company, profile.job_title, profile.location) == ("Silva Studio", "Photographer", "Porto")
    assert profile.website == "https://ana.example.com"
    assert (profile.linkedin_username, profile.github_username, profile.twitter_username) == (
        "ana-silva",
        "anasilva",
        "ana_silva",
    )
    assert profile.slug == "ana-silva"
    assert profile.categories == ["Fashion", "Travel"]
    assert (profile.budget_min, profile.budget_max) == (50000, 500000)  # USD on the page, cents stored
    page = client.get("/profile").get_data(as_text=True)
    assert 'value="ana-silva"' in page and 'value="500"' in page and "Fashion, Travel" in page


def test_clearing_optional_fields(client, member):
    post_profile(client)
    response = post_profile(client, phone="", website="", bio="", budget_min="", budget_max="", categories="")
    assert response.status_code == 303
    profile = fresh(member)
    assert profile.phone is None and profile.website is None and profile.bio is None
    assert profile.budget_min is None and profile.categories == []


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("website", "not a url", "starting with http:// or https://"),
        ("website", "javascript:alert(1)", "starting with http:// or https://"),
        ("phone", "4155550123", "international format"),
        ("phone", "+1415", "not a valid phone"),
        ("github_username", "https://github.com/anasilva", "not the link"),
        ("twitter_username", "twitter.com/ana", "not the link"),
        ("linkedin_username", "https://www.linkedin.com/in/ana", "not the link"),
        ("slug", "Not A Slug!", "lowercase"),
        ("slug", "admin", "reserved"),
        ("budget_max", "100", "at least the minimum"),
        ("budget_max", "20000001", "at most 20,000,000 USD"),  # past the 32-bit cents column
        ("display_name", "", "required"),
    ],
)
def test_invalid_field_is_shown_inline_and_nothing_saved(client, member, field, value, message):
    before = fresh(member)
    original = (before.display_name, before.slug, before.phone, before.website)
    response = post_profile(client, **{field: value})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    error = field_error(html, field)
    assert error is not None and message.lower() in error.lower(), (field, error)
    assert 'aria-invalid="true"' in html
    profile = fresh(member)
    # Nothing of the otherwise valid submission was stored.
    assert (profile.display_name, profile.slug, profile.phone, profile.website) == original
    assert profile.company is None


def test_refused_profile_starts_with_a_summary_of_the_fields_to_fix(client, member):
    response = post_profile(client, website="not a url", phone="12")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    about = html[html.index('id="about"') : html.index('id="portfolio"')]
    summary = re.search(r'<div class="alert alert-error error-summary" role="alert">(.*?)</div>', about, re.S)
    assert summary, "the summary sits at the top of the form that failed"
    assert "Please fix 2 fields" in summary.group(1)
    assert re.findall(r'<a href="#([^"]+)">([^<]+)</a>', summary.group(1)) == [
        ("phone", "Phone"),
        ("website", "Website"),
    ]
    # Each link's target is a field on the page, marked invalid.
    for field_id in ("phone", "website"):
        assert re.search(
            rf'<input[^>]*aria-invalid="true"[^>]*id="{field_id}"|<input[^>]*id="{field_id}"[^>]*aria-invalid="true"',
            html,
        )
    # Only the form that failed has one.
    assert html.count("alert-error error-summary") == 1


def test_a_good_profile_page_has_no_error_summary(client, member):
    assert "error-summary" not in client.get("/profile").get_data(as_text=True)


def test_slug_taken_by_another_member(client, member, make_user):
    other = make_user(name="Other Person")
    db.session.get(Profile, other.profile.id).slug = "taken-slug"
    db.session.commit()
    response = post_profile(client, slug="taken-slug")
    assert response.status_code == 422
    assert "taken" in field_error(response.get_data(as_text=True), "slug")
    assert fresh(member).slug != "taken-slug"
    # Keeping one's own slug is not a clash.
    assert post_profile(client, slug="ana-silva").status_code == 303
    assert post_profile(client, slug="ana-silva").status_code == 303


def test_profile_post_without_csrf_is_refused(client, member):
    response = client.post("/profile", data={**FULL_PROFILE})
    assert response.status_code == 400
    assert fresh(member).company is None


def test_timezone_and_language_are_validated(client, member):
    token = csrf_token(client, "/settings")
    for field, value in (("timezone", "Mars/Olympus"), ("language", "xx")):
        data = {
            "csrf_token": token,
            "theme": "dark",
            "default_view": "grid",
            "items_per_page": "20",
            "timezone": "UTC",
            "language": "en",
            field: value,
        }
        response = client.post("/settings", data=data)
        assert response.status_code == 422
        assert field_error(response.get_data(as_text=True), field), field
    db.session.expire_all()
    assert member.settings.theme == "system"  # the refused posts changed nothing
    assert member.profile.timezone == "UTC"


# --- The structured CV --------------------------------------------------------------------

HX = {"HX-Request": "true"}


def test_cv_row_fragment(client, member):
    response = client.get("/profile/cv/rows/experience?index=3", headers=HX)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<html" not in html and "<body" not in html
    assert 'name="experience-3-title"' in html and 'name="experience-3-start"' in html
    add = re.search(r'<button[^>]*id="add-experience"[^>]*>', html).group(0)
    assert 'hx-swap-oob="true"' in add
    assert "index=4" in add


@pytest.mark.parametrize("kind, field", [("education", "school"), ("links", "url")])
def test_cv_row_kinds(client, member, kind, field):
    html = client.get(f"/profile/cv/rows/{kind}?index=0", headers=HX).get_data(as_text=True)
    assert f'name="{kind}-0-{field}"' in html and "<html" not in html
    assert f"/profile/cv/rows/{kind}?index=1" in html


def test_cv_row_unknown_kind_is_404(client, member):
    assert client.get("/profile/cv/rows/hobbies?index=0", headers=HX).status_code == 404
    response = client.get("/profile/cv/rows/hobbies")
    assert response.status_code == 404 and "<html" in response.get_data(as_text=True)


def test_cv_row_remove_button_works_in_the_browser_only(client, member):
    """Removing a row is a DOM change (static/js/app.js): no request, and no GET route for it."""
    html = client.get("/profile/cv/rows/experience?index=0", headers=HX).get_data(as_text=True)
    button = re.search(r'<button[^>]*class="[^"]*cv-row-remove[^"]*"[^>]*>', html).group(0)
    assert 'data-remove-closest=".cv-row"' in button and 'data-remove-focus="#add-experience"' in button
    assert "hx-" not in button
    assert client.get("/profile/cv/rows/removed", headers=HX).status_code == 404


def test_cv_saves_non_contiguous_rows(client, member):
    response = post_cv(
        client,
        {
            "headline": "Portraits and brand stories",
            "experience-0-title": "Founder",
            "experience-0-company": "Silva Studio",
            "experience-0-start": "2019-03",
            "experience-0-end": "",
            "experience-5-title": "Assistant",
            "experience-5-company": "Lens Co",
            "experience-5-start": "2015-01",
            "experience-5-end": "2018-12",
            "experience-5-description": "Lighting and retouching",
            "education-2-school": "Porto Arts",
            "education-2-degree": "BA",
            "education-2-start": "2011-09",
            "education-2-end": "2014-06",
            # An empty row the member added and left blank is ignored.
            "education-7-school": "",
            "education-7-degree": "",
            "links-1-label": "Showreel",
            "links-1-url": "https://example.com/reel",
            "skills": "Lighting, Retouching, lighting",
        },
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    cv = fresh(member).profile_data
    assert cv["headline"] == "Portraits and brand stories"
    assert [e["title"] for e in cv["experience"]] == ["Founder", "Assistant"]
    assert cv["experience"][0]["end"] is None
    assert cv["experience"][1] == {
        "title": "Assistant",
        "company": "Lens Co",
        "start": "2015-01",
        "end": "2018-12",
        "description": "Lighting and retouching",
    }
    assert cv["education"] == [{"school": "Porto Arts", "degree": "BA", "start": "2011-09", "end": "2014-06"}]
    assert cv["links"] == [{"label": "Showreel", "url": "https://example.com/reel"}]
    assert cv["skills"] == ["Lighting", "Retouching"]


def test_saved_cv_lands_on_the_cv_card_with_its_message(client, member):
    response = post_cv(client, {"headline": "Portraits"})
    assert response.status_code == 303 and response.headers["Location"] == "/profile#cv"
    html = client.get("/profile").get_data(as_text=True)
    cv_card = html[html.index('<section class="card" id="cv"') :]
    assert '<div class="flash flash-success">CV saved.</div>' in cv_card
    # Not a second time at the top of the page, where nobody arriving at #cv would see it.
    assert html.count("CV saved.") == 1
    assert "CV saved." not in client.get("/profile").get_data(as_text=True)


def test_refused_cv_summarises_row_fields_by_position(client, member):
    response = post_cv(client, {"experience-0-company": "X", "experience-0-start": "2020-05"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    cv_card = html[html.index('<section class="card" id="cv"') :]
    assert "Please fix 1 field<" in cv_card
    assert '<a href="#experience-0-title">Experience 1: Role</a>' in cv_card


def test_cv_rows_removed(client, member):
    post_cv(
        client,
        {
            "experience-0-title": "A",
            "experience-0-company": "X",
            "experience-0-start": "2020-01",
            "experience-1-title": "B",
            "experience-1-company": "Y",
            "experience-1-start": "2021-01",
        },
    )
    assert len(fresh(member).profile_data["experience"]) == 2
    # The member removed row 0 in the browser: only row 1 is sent.
    response = post_cv(
        client, {"experience-1-title": "B", "experience-1-company": "Y", "experience-1-start": "2021-01"}
    )
    assert response.status_code == 303
    cv = fresh(member).profile_data
    assert [e["title"] for e in cv["experience"]] == ["B"]
    assert cv["education"] == [] and cv["links"] == []


def test_cv_page_keeps_posted_rows_after_an_error(client, member):
    """After an error the posted rows come back renumbered 0..n-1; the add button continues at n."""
    response = post_cv(
        client,
        {
            "experience-0-title": "A",
            "experience-0-company": "X",
            "experience-0-start": "2020-01",
            "experience-5-title": "",
            "experience-5-company": "Y",
            "experience-5-start": "2021-01",
        },
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert re.search(r'name="experience-1-company" type="text" value="Y"', html)
    assert 'name="experience-2-company"' not in html
    add = re.search(r'<button[^>]*id="add-experience"[^>]*>', html).group(0)
    assert "index=2" in add
    assert html.count("This field is required.") == 1  # inside its row, and nowhere else
    assert "Entry 2" not in html and "Check experience" not in html


@pytest.mark.parametrize(
    "rows, message",
    [
        (
            {
                "experience-0-title": "A",
                "experience-0-company": "X",
                "experience-0-start": "2020-05",
                "experience-0-end": "2019-01",
            },
            "end date is before the start",
        ),
        ({"experience-0-company": "X", "experience-0-start": "2020-05"}, "title"),
        ({"experience-0-title": "A", "experience-0-company": "X", "experience-0-start": "May 2020"}, "YYYY-MM"),
        ({"links-0-label": "Site", "links-0-url": "example"}, "starting with http:// or https://"),
    ],
)
def test_cv_row_errors_come_back(client, member, rows, message):
    response = post_cv(client, {"headline": "Kept?", **rows})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message.lower() in html.lower()
    assert 'role="alert"' in html
    assert fresh(member).profile_data["headline"] == ""


# --- Settings -----------------------------------------------------------------------------

SETTINGS = {
    "theme": "dark",
    "compact_mode": "y",
    "default_view": "list",
    "items_per_page": "50",
    "show_thumbnails": "",
    "auto_expand_folders": "y",
    "confirm_delete": "",
    "timezone": "Asia/Tokyo",
    "language": "fr",
    "public_profile": "y",
    "show_activity": "",
    "allow_analytics": "",
    "email_notifications": "",
    "marketing_emails": "y",
}


def post_settings(client, **changes):
    data = {k: v for k, v in {**SETTINGS, **changes}.items() if v != ""}  # unticked boxes are absent
    data["csrf_token"] = csrf_token(client, "/settings")
    return client.post("/settings", data=data)


def test_every_setting_persists(client, member):
    response = post_settings(client)
    assert response.status_code == 303, response.get_data(as_text=True)
    db.session.expire_all()
    s, p = member.settings, member.profile
    assert (s.theme, s.compact_mode, s.default_view, s.items_per_page) == ("dark", True, "list", 50)
    assert (s.show_thumbnails, s.auto_expand_folders, s.confirm_delete) == (False, True, False)
    assert (s.show_activity, s.allow_analytics) == (False, False)
    assert (p.timezone, p.language, p.public_profile) == ("Asia/Tokyo", "fr", True)
    assert (p.email_notifications, p.marketing_emails) == (False, True)
    page = client.get("/settings").get_data(as_text=True)
    assert re.search(r'<option selected value="Asia/Tokyo">|<option value="Asia/Tokyo" selected>', page)
    assert re.search(r'<select[^>]*id="items_per_page"', page)
    assert re.search(r'<option selected value="50">|<option value="50" selected>', page)


def test_theme_changes_the_page(client, member):
    assert 'data-theme="system"' in client.get("/profile").get_data(as_text=True)
    post_settings(client, theme="dark")
    html = client.get("/profile").get_data(as_text=True)
    assert 'data-theme="dark"' in html and 'class="compact"' in html
    post_settings(client, theme="light", compact_mode="")
    html = client.get("/settings").get_data(as_text=True)
    assert 'data-theme="light"' in html and 'class="compact"' not in html


def test_items_per_page_drives_page_size(client, member):
    from webapp.pagination import page_size

    post_settings(client, items_per_page="10")
    db.session.expire_all()
    assert page_size(member) == 10


def test_items_per_page_set_by_api_still_saves_on_the_page(client, member, auth):
    """The API accepts any value from 5 to 100; the page must not then refuse to save."""
    response = client.patch("/api/v1/settings", json={"items_per_page": 25}, headers=auth.headers())
    assert response.status_code == 200
    page = client.get("/settings").get_data(as_text=True)
    assert re.search(r'<option selected value="25">|<option value="25" selected>', page)
    assert post_settings(client, items_per_page="25").status_code == 303


def timezone_select(html: str) -> str:
    return re.search(r'<select[^>]*id="timezone".*?</select>', html, re.S).group(0)


def test_timezone_select_offers_region_zones_grouped_by_region(client, member):
    select = timezone_select(client.get("/settings").get_data(as_text=True))
    groups = re.findall(r'<optgroup label="([^"]+)">', select)
    assert groups == ["Africa", "America", "Antarctica", "Asia", "Atlantic", "Australia", "Europe", "Indian", "Pacific"]
    values = re.findall(r'<option[^>]*value="([^"]+)"', select)
    assert values[0] == "UTC" and len(values) == len(set(values))
    assert all(v == "UTC" or v.split("/")[0] in groups for v in values)
    for legacy in ("US/Eastern", "GMT", "Etc/GMT+5", "Cuba", "Canada/Pacific"):
        assert legacy not in values
    europe = re.search(r'<optgroup label="Europe">(.*?)</optgroup>', select, re.S).group(1)
    assert re.search(r'<option value="Europe/Paris">Paris</option>', europe)
    america = re.search(r'<optgroup label="America">(.*?)</optgroup>', select, re.S).group(1)
    assert '<option value="America/New_York">New York</option>' in america
    assert '<option value="America/Argentina/Buenos_Aires">Argentina / Buenos Aires</option>' in america
    assert "_" not in "".join(re.findall(r">([^<]+)</option>", select))


def test_a_legacy_zone_set_through_the_api_still_round_trips_on_the_page(client, member, auth):
    response = client.patch("/api/v1/settings", json={"timezone": "US/Eastern"}, headers=auth.headers())
    assert response.status_code == 200
    select = timezone_select(client.get("/settings").get_data(as_text=True))
    assert re.search(r'<option selected value="US/Eastern">|<option value="US/Eastern" selected>', select)
    assert post_settings(client, timezone="US/Eastern").status_code == 303
    assert fresh(member).timezone == "US/Eastern"
    # Once the member picks a zone from the list, the alias is no longer offered.
    assert post_settings(client, timezone="Europe/Paris").status_code == 303
    assert "US/Eastern" not in timezone_select(client.get("/settings").get_data(as_text=True))


def test_timezone_changes_how_times_render(client, member):
    from webapp.activity.models import ActivityLog

    assert "Times shown in UTC" in client.get("/settings").get_data(as_text=True)
    post_settings(client, timezone="Asia/Tokyo")
    # The sign-in shown under "Recent sign-in attempts" happened at a known instant.
    sign_in = db.session.scalar(
        sa.select(ActivityLog).where(ActivityLog.user_id == member.id, ActivityLog.action == "login")
    )
    sign_in.created_at = datetime(2026, 1, 15, 23, 30, tzinfo=UTC)
    db.session.commit()
    html = client.get("/settings/security").get_data(as_text=True)
    assert "Times shown in Asia/Tokyo" in html
    assert "Jan 16, 2026 08:30" in html  # 23:30 UTC is 08:30 the next day in Tokyo
    post_settings(client, timezone="America/New_York")
    html = client.get("/settings/security").get_data(as_text=True)
    assert "Times shown in America/New_York" in html and "Jan 15, 2026 18:30" in html


def test_theme_toggle_cycles_and_redirects_only_same_site(client, member):
    expected = ["dark", "system", "light", "dark"]
    member.settings.theme = "light"
    db.session.commit()
    for theme in expected[:3]:
        response = client.post(
            "/settings/theme", data={"csrf_token": csrf_token(client, "/profile"), "next": "/profile#cv"}
        )
        assert response.status_code == 303
        assert response.headers["Location"] == "/profile#cv"
        db.session.expire_all()
        assert member.settings.theme == theme
    for bad in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"):
        response = client.post("/settings/theme", data={"csrf_token": csrf_token(client, "/profile"), "next": bad})
        assert response.status_code == 303
        assert response.headers["Location"] == "/settings", bad


def test_theme_toggle_needs_csrf(client, member):
    assert client.post("/settings/theme", data={"next": "/"}).status_code == 400
    db.session.expire_all()
    assert member.settings.theme == "system"


def test_cv_row_error_is_shown_inside_its_row(client, member):
    """The failing field of the failing row is marked invalid and carries the message."""
    response = post_cv(
        client,
        {
            "experience-0-title": "Founder",
            "experience-0-company": "X",
            "experience-0-start": "2020-01",
            "experience-3-title": "",
            "experience-3-company": "",
            "experience-3-start": "",
            "experience-4-title": "Lead",
            "experience-4-company": "Y",
            "experience-4-start": "2021-03",
            "experience-4-end": "2020-01",
        },
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    end_input = re.search(r'<input[^>]*name="experience-\d-end"[^>]*value="2020-01"[^>]*>', html).group(0)
    assert 'aria-invalid="true"' in end_input
    assert "The end date is before the start date." in html
    # Each error once, inside its row; the summary at the top links to it by its label.
    assert html.count("The end date is before the start date.") == 1
    assert "Entry 2" not in html
    assert '<a href="#experience-2-end">Experience 3: To</a>' in html
    start_inputs = re.findall(r'<input[^>]*name="experience-\d-start"[^>]*>', html)
    assert not any('aria-invalid="true"' in tag for tag in start_inputs)


def test_cv_api_names_failing_row_fields(client, member, auth):
    document = {"experience": [{"title": "A", "company": "B", "start": "2020-01"}, {"company": "C", "start": "x"}]}
    response = client.put("/api/v1/profile/cv", json=document, headers=auth.headers())
    details = response.get_json()["error"]["details"]
    assert details["experience.1.title"] == ["This field is required."]
    assert details["experience.1.start"] == ["Use the form YYYY-MM."]
    assert details["experience"] == ["Check experience entry 2."]


def test_time_zone_select_offers_canonical_zones_only(client, member):
    html = client.get("/settings").get_data(as_text=True)
    assert 'value="Asia/Kolkata"' in html and 'value="Asia/Calcutta"' not in html
    assert '<optgroup label="Europe">' in html


def test_cv_save_with_htmx_swaps_only_the_card(client, member):
    """A refused save answers the CV card in place, so the browser never sits on /profile/cv."""
    data = {"form": "cv", "csrf_token": csrf_token(client, "/profile"), "experience-0-title": "A"}
    refused = client.post("/profile/cv", data=data, headers=HX)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "<html" not in html and html.lstrip().startswith('<section class="card" id="cv"')
    assert 'hx-post="/profile/cv"' in html and 'aria-invalid="true"' in html
    saved = client.post(
        "/profile/cv", data={**data, "experience-0-company": "X", "experience-0-start": "2020-01"}, headers=HX
    )
    html = saved.get_data(as_text=True)
    assert saved.status_code == 200 and "<html" not in html and "CV saved." in html
    assert fresh(member).profile_data["experience"][0]["title"] == "A"


def test_cv_address_opened_directly_lands_on_the_cv_card(client, member):
    response = client.get("/profile/cv")
    assert response.status_code == 303 and response.headers["Location"] == "/profile#cv"


def test_page_language_stays_true_to_the_text_shown(client, member):
    """Choosing Arabic once set <html lang="ar"> on English pages: screen readers misread them."""
    member.profile.language = "ar"
    db.session.commit()
    for path in ("/profile", "/settings", "/settings/security"):
        html = client.get(path).get_data(as_text=True)
        assert '<html lang="en"' in html
    assert "we will use this language as translations arrive" in client.get("/settings").get_data(as_text=True)
