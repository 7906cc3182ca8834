"""A new member's first visit, in headless Chromium against the real server.

Sign up, follow the verification mail, fill the profile and a CV row (added with htmx),
upload an avatar, switch to the dark theme, sign out, and check that the old session cookie
no longer opens anything.
"""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.e2e.conftest import PHONE, set_theme, sign_in

pytestmark = pytest.mark.e2e

EMAIL = "newcomer@example.com"
PASSWORD = "a-long-and-unusual-passphrase"


def _png(path) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (320, 240), (40, 120, 200)).save(buffer, format="PNG")
    path.write_bytes(buffer.getvalue())


def test_sign_up_to_sign_out(page, live_server, new_context, tmp_path):
    # Sign up.
    page.goto("/")
    page.click("header >> text=Create account")
    page.wait_for_url("**/auth/register")
    page.fill("#display_name", "Nora Newcomer")
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    page.fill("#confirm", PASSWORD)
    page.click("button[type=submit]:has-text('Create account')")
    page.wait_for_url("**/dashboard")
    assert page.is_visible("#verify-banner")
    assert "Welcome to Folio" in page.inner_text(".flashes")

    # Follow the verification link from the mail.
    link = live_server.wait_for_link(EMAIL, "/auth/verify/")
    page.goto(link)
    page.wait_for_url("**/dashboard")
    assert f"{EMAIL} is confirmed" in page.inner_text(".flashes")
    assert page.locator("#verify-banner").count() == 0

    # The dashboard's checklist: confirming the email ticked its step; the next one leads on.
    checklist = page.locator("#card-getting-started")
    expect(checklist.locator(".checklist")).to_be_visible()
    assert checklist.locator("#step-verify-email").count() == 0
    assert "1 of 5 done" in checklist.inner_text()
    checklist.locator("#step-profile a").click()
    page.wait_for_url("**/profile")

    # Fill the profile.
    page.fill("#job_title", "Portrait photographer")
    page.fill("#company", "Studio North")
    page.fill("#location", "Oslo")
    page.fill("#phone", "+4791234567")
    page.fill("#website", "https://nora.example.com")
    page.fill("#bio", "I photograph people at work.")
    page.fill("#github_username", "noranew")
    page.click("button[type=submit]:has-text('Save profile')")
    page.wait_for_selector(".flash-success:has-text('Profile saved.')")
    assert page.input_value("#job_title") == "Portrait photographer"
    assert "Portrait photographer" in page.inner_text(".profile-head")

    # Add a CV position with htmx: the row arrives, the button moves to the next index.
    assert page.locator("#experience-rows .cv-row").count() == 0
    with page.expect_response(lambda r: "/profile/cv/rows/experience" in r.url):
        page.click("#add-experience")
    page.wait_for_selector("#experience-0-title")
    assert page.locator("#experience-rows .cv-row").count() == 1
    assert "index=1" in page.get_attribute("#add-experience", "hx-get")
    page.fill("#headline", "People, light and work")
    page.fill("#experience-0-title", "Staff photographer")
    page.fill("#experience-0-company", "Aftenposten")
    page.fill("#experience-0-start", "2019-03")
    page.click("button[type=submit]:has-text('Save CV')")
    page.wait_for_selector(".flash-success:has-text('CV saved.')")
    assert page.input_value("#experience-0-title") == "Staff photographer"
    assert page.input_value("#experience-0-company") == "Aftenposten"

    # Upload an avatar: the initials become a picture, in the header too.
    avatar = tmp_path / "me.png"
    _png(avatar)
    page.set_input_files("#avatar", str(avatar))
    page.click("button[type=submit]:has-text('Upload photo')")
    page.wait_for_selector(".flash-success:has-text('Photo updated.')")
    header_avatar = page.locator(".topbar img.avatar")
    assert header_avatar.count() == 1
    src = header_avatar.get_attribute("src")
    image = page.request.get(src)
    assert image.ok and image.headers["content-type"].startswith("image/")

    # Back on the dashboard, the steps just done are gone.
    page.goto("/dashboard")
    expect(checklist.locator(".checklist")).to_be_visible()
    assert "4 of 5 done" in checklist.inner_text()
    assert [checklist.locator("li").nth(0).get_attribute("id")] == ["step-api-key"]

    # Dark theme, chosen in settings, applies to every page.
    set_theme(page, "dark")
    page.goto("/profile")
    assert page.get_attribute("html", "data-theme") == "dark"
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(17, 17, 25)", background

    # Sign out from the account menu; a copy of the old cookie no longer works.
    cookies = page.context.cookies()
    assert any(c["name"] == "folio_session" for c in cookies)
    page.click(".menu > summary")
    page.click("button:has-text('Sign out')")
    page.wait_for_url("**/auth/login")
    assert "You are signed out." in page.inner_text(".flashes")
    page.goto("/profile")
    assert "/auth/login" in page.url

    thief = new_context()
    thief.add_cookies(cookies)
    stolen = thief.new_page()
    stolen.goto("/profile")
    assert "/auth/login" in stolen.url

    assert page.console_errors == []


def test_mobile_navigation_and_loading_indicator(new_context, live_server):
    """On a phone the menu button opens the navigation; htmx requests show the progress bar."""
    page = new_context(viewport=PHONE).new_page()
    sign_in(page)
    page.goto("/profile")
    nav = page.locator("#mainnav")
    assert not nav.is_visible()
    page.click("[data-nav-toggle]")
    assert nav.is_visible()
    assert page.get_attribute("[data-nav-toggle]", "aria-expanded") == "true"

    # Hold the htmx request back so the indicator can be seen while it runs.
    held = []
    page.route("**/profile/cv/rows/education*", lambda route: held.append(route))
    rows = page.locator("#education-rows .cv-row")
    before = rows.count()
    indicator = page.locator("#global-indicator")
    assert float(indicator.evaluate("el => getComputedStyle(el).opacity")) == 0
    page.click("#add-education")
    # (Locators, not wait_for_function: that evaluates strings, which the CSP forbids.)
    expect(indicator).to_have_class(re.compile(r"\bhtmx-request\b"))
    expect(indicator).to_have_css("opacity", "1")
    assert held, "the htmx request did not start"
    held[0].continue_()
    expect(rows).to_have_count(before + 1)
    expect(indicator).not_to_have_class(re.compile(r"\bhtmx-request\b"))
    expect(indicator).to_have_css("opacity", "0")
