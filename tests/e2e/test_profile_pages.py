"""The profile page in the browser: the photo card under htmx, error summaries and focus, the
CV's landing spot, the header with a photo, and the colours of browsers without light-dark().

Each test signs up its own member, so the demo account the other tests use stays as it was.
"""

from __future__ import annotations

import io
import os
import uuid
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.e2e.conftest import DESKTOP, PHONE, set_theme

pytestmark = pytest.mark.e2e

PASSWORD = "a-long-and-unusual-passphrase"
# Screenshots of the header, kept for a person to look at (FOLIO_E2E_SCREENSHOTS overrides).
SHOTS = Path(os.environ.get("FOLIO_E2E_SCREENSHOTS", "/tmp/folio-e2e-shots"))


def sign_up(page, name: str = "Pat Tester") -> str:
    email = f"{uuid.uuid4().hex[:10]}@example.com"
    page.goto("/auth/register")
    page.fill("#display_name", name)
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.fill("#confirm", PASSWORD)
    page.click("button[type=submit]:has-text('Create account')")
    page.wait_for_url("**/dashboard")
    page.goto("/profile")
    return email


def image_file(path: Path, size=(320, 240), noise: bool = False) -> Path:
    if noise:  # random pixels barely compress: a PNG of about 3 bytes per pixel
        image = Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))
    else:
        image = Image.new("RGB", size, (40, 120, 200))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=0)
    path.write_bytes(buffer.getvalue())
    return path


def upload(page, path: Path):
    """Choose ``path`` on the photo card and send it; the htmx response."""
    page.set_input_files("#avatar", str(path))
    with page.expect_response(lambda r: r.url.endswith("/profile/avatar") and r.request.method == "POST") as info:
        page.click("button[type=submit]:has-text('Upload photo')")
    return info.value


def test_photo_card_shows_refusals_in_place_and_success_reloads_the_page(page, tmp_path):
    sign_up(page)
    nav_current = page.locator(".mainnav a[aria-current=page]")
    expect(nav_current).to_have_text("Profile")

    # Not an image: the card is swapped for the 422 one, the page stays /profile.
    notes = tmp_path / "notes.png"
    notes.write_bytes(b"just some text, honestly\n" * 20)
    assert upload(page, notes).status == 422
    error = page.locator("#photo #avatar-error")
    expect(error).to_be_visible()
    assert page.url.endswith("/profile")
    expect(page.locator("#avatar")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#avatar")).to_be_focused()
    expect(nav_current).to_have_text("Profile")
    assert page.locator("#photo").count() == 1 and page.locator("header.topbar").count() == 1

    # Over 5 MB (but under the request limit): a 413 that htmx swaps too.
    big = image_file(tmp_path / "big.png", size=(1400, 1400), noise=True)
    assert 5 * 1024 * 1024 < big.stat().st_size < 6 * 1024 * 1024
    assert upload(page, big).status == 413
    expect(page.locator("#photo #avatar-error")).to_contain_text("5 MB")
    assert page.url.endswith("/profile")
    expect(page.locator("#avatar")).to_be_focused()

    # A good photo: HX-Redirect reloads the page, so the header shows the photo too.
    upload(page, image_file(tmp_path / "me.png"))
    page.wait_for_selector(".flash-success:has-text('Photo updated.')")
    assert page.url.endswith("/profile")
    expect(page.locator(".topbar img.avatar")).to_have_count(1)
    expect(page.locator("#photo-title")).to_be_visible()
    assert page.locator("#photo #avatar-error").count() == 0

    # Remove photo is a button, and works.
    remove = page.locator("#photo button:has-text('Remove photo')")
    assert "button" in remove.get_attribute("class").split()
    remove.click()
    page.wait_for_selector(".flash:has-text('Photo removed.')")
    expect(page.locator(".topbar img.avatar")).to_have_count(0)
    # The browser logs each refused upload (422, 413) as a failed load; nothing else went wrong.
    assert [e for e in page.console_errors if not ("status of 422" in e or "status of 413" in e)] == []


def test_refused_profile_focuses_the_first_field_to_fix_and_the_summary_links_to_it(page):
    sign_up(page)
    page.fill("#phone", "12")
    page.fill("#website", "nora.example.com")
    page.click("button[type=submit]:has-text('Save profile')")
    page.wait_for_selector(".error-summary")
    summary = page.locator("#about .error-summary")
    expect(summary).to_have_attribute("role", "alert")
    expect(summary).to_contain_text("Please fix 2 fields")
    # The page opens at the first invalid field, with the cursor in it.
    expect(page.locator("#phone")).to_be_focused()
    expect(page.locator("#phone")).to_be_in_viewport()
    # The summary's links lead to their fields.
    summary.locator("a:has-text('Website')").click()
    expect(page.locator("#website")).to_be_focused()
    expect(page.locator("#website-error")).to_contain_text("http:// or https://")
    assert [e for e in page.console_errors if "status of 422" not in e] == []


def test_saved_cv_lands_on_the_cv_card_with_its_message(page):
    sign_up(page)
    page.fill("#headline", "People, light and work")
    page.click("button[type=submit]:has-text('Save CV')")
    message = page.locator("#cv .flash-success")
    expect(message).to_have_text("CV saved.")
    expect(message).to_be_in_viewport()
    expect(page.locator("#cv-title")).to_be_in_viewport()
    assert page.locator(".flashes:has-text('CV saved.')").count() == 1
    assert page.url.endswith("/profile")  # the card was swapped in place: no page load


def test_refused_cv_stays_on_the_profile_and_shows_each_error_once(page):
    """A refused save once left the browser on /profile/cv (a reload resubmitted it) and listed
    the errors twice, once in developer wording."""
    sign_up(page)
    page.click("#add-experience")
    page.fill("#experience-0-title", "Founder")
    page.click("button[type=submit]:has-text('Save CV')")
    error = page.locator("#experience-0-company-error")
    expect(error).to_have_text("This field is required.")
    expect(page.locator("#experience-0-company")).to_be_focused()
    assert page.url.endswith("/profile")
    assert page.locator("#cv").inner_text().count("This field is required.") == 2  # company and start
    assert "Entry 1" not in page.locator("#cv").inner_text()


def header_geometry(page) -> dict:
    return page.evaluate(
        """() => {
            const box = (selector) => document.querySelector(selector).getBoundingClientRect();
            const header = box("header.topbar"), avatar = box(".menu > summary .avatar");
            const theme = box(".topbar-actions .icon-button");
            return {
                header: header.height,
                avatarMiddle: avatar.top + avatar.height / 2,
                themeMiddle: theme.top + theme.height / 2,
            };
        }"""
    )


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_header_keeps_its_height_and_alignment_with_a_photo(new_context, viewport, tmp_path):
    page = new_context(viewport=viewport).new_page()
    sign_up(page)
    initials = header_geometry(page)
    upload(page, image_file(tmp_path / "me.png"))
    page.wait_for_selector(".topbar img.avatar")
    SHOTS.mkdir(parents=True, exist_ok=True)
    for theme in ("light", "dark"):
        set_theme(page, theme)
        page.goto("/profile")
        page.wait_for_function("document.querySelector('.topbar img.avatar').complete")
        photo = header_geometry(page)
        assert photo["header"] == pytest.approx(initials["header"], abs=0.5), (theme, photo, initials)
        assert photo["avatarMiddle"] == pytest.approx(photo["themeMiddle"], abs=1), (theme, photo)
        page.screenshot(path=str(SHOTS / f"header-{viewport['width']}-{theme}.png"), clip=header_clip(page))


def header_clip(page) -> dict:
    box = page.locator("header.topbar").bounding_box()
    return {"x": 0, "y": 0, "width": box["width"], "height": box["height"] + 24}


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_colour_fallback_matches_the_light_dark_palette(new_context, theme):
    """Chromium has light-dark(), so the @supports fallback does not apply here; its values are
    checked against what the light-dark() tokens resolve to, token by token, in each theme."""
    page = new_context().new_page()
    sign_up(page)
    set_theme(page, theme)
    page.goto("/settings")
    result = page.evaluate(
        """(theme) => {
            const sheet = [...document.styleSheets].find((s) => s.href && s.href.includes("app.css"));
            const rules = [...sheet.cssRules];
            const root = rules.find((r) => r.selectorText === ":root" && r.style.getPropertyValue("--bg"));
            const fallback = rules.find((r) => r instanceof CSSSupportsRule && r.conditionText.includes("light-dark"));
            const selector = theme === "dark" ? ':root[data-theme="dark"]' : "html:root";
            const block = [...fallback.cssRules].find((r) => r.selectorText === selector);
            const probe = document.createElement("div");
            document.body.append(probe);
            const resolve = (value) => {
                probe.style.color = value;
                return getComputedStyle(probe).color;
            };
            const tokens = [...root.style].filter((name) => root.style.getPropertyValue(name).includes("light-dark("));
            const problems = [];
            for (const name of tokens) {
                if (name === "--shadow") continue;  // not a colour; its fallback is written out below
                const fallbackValue = block.style.getPropertyValue(name).trim();
                if (!fallbackValue) { problems.push(name + " has no fallback"); continue; }
                const expected = resolve(`var(${name})`), actual = resolve(fallbackValue);
                if (expected !== actual) problems.push(`${name}: ${actual} instead of ${expected}`);
            }
            probe.remove();
            return {tokens: tokens.length, shadow: block.style.getPropertyValue("--shadow"),
                    first: rules.indexOf(fallback) < rules.indexOf(root), problems};
        }""",
        theme,
    )
    assert result["tokens"] >= 19 and result["first"]
    assert result["shadow"].strip()
    assert result["problems"] == []
