"""axe-core on every page, at phone and desktop widths, in the light and the dark theme.

Any violation with impact "serious" or "critical" fails the test; all of them are printed
with the page, the rule and the offending elements. axe-core is pinned in
``tests/e2e/package.json``: ``npm ci --prefix tests/e2e`` installs it (``.ci/run`` does).
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from tests.e2e.conftest import DESKTOP, PHONE, set_theme, sign_in, skip_or_fail

pytestmark = pytest.mark.e2e

AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = {"serious", "critical"}
VIEWPORTS = {"phone": PHONE, "desktop": DESKTOP}
THEMES = ["light", "dark"]


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.exists():
        skip_or_fail(f"axe-core is not installed ({AXE} is missing): run `npm ci --prefix tests/e2e`")
    return AXE.read_text()


class Audit:
    """Runs axe on the current page and keeps the blocking violations."""

    def __init__(self, page, source: str, label: str):
        self.page, self.source, self.label = page, source, label
        self.problems: list[str] = []
        self.pages_checked = 0

    def check(self, name: str) -> None:
        page = self.page
        page.wait_for_load_state("load")
        # evaluate() runs outside the page's CSP, so the app's policy stays as it is.
        if not page.evaluate("typeof window.axe === 'object'"):
            page.evaluate(self.source)
        result = page.evaluate(
            """() => axe.run(document, {
                   resultTypes: ["violations"],
                   runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa",
                                                   "wcag22aa", "best-practice"]}
               })"""
        )
        self.pages_checked += 1
        for violation in result["violations"]:
            if violation["impact"] not in BLOCKING:
                continue
            nodes = "\n".join(
                f"      {json.dumps(node['target'])}: {node['failureSummary'].splitlines()[-1].strip()}"
                for node in violation["nodes"][:8]
            )
            self.problems.append(
                f"[{self.label}] {name} ({page.url}): {violation['impact']} {violation['id']} — "
                f"{violation['help']}\n{nodes}"
            )

    def assert_clean(self) -> None:
        report = "\n".join(self.problems)
        print(
            f"\naxe: {self.pages_checked} pages checked for {self.label}; "
            f"{len(self.problems)} serious/critical violations"
        )
        if report:
            print(report)
        assert not self.problems, f"{len(self.problems)} serious or critical violations:\n{report}"


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("width", VIEWPORTS)
def test_anonymous_pages(new_context, axe_source, width, theme):
    """Visitors' pages; their theme follows the device, so emulate its color scheme."""
    context = new_context(viewport=VIEWPORTS[width], color_scheme=theme)
    page = context.new_page()
    audit = Audit(page, axe_source, f"visitor {width} {theme}")

    for name, path in [
        ("home", "/"),
        ("sign in", "/auth/login"),
        ("register", "/auth/register"),
        ("forgot password", "/auth/forgot"),
        ("not found", "/no-such-page"),
        ("reset link problem", "/auth/reset/not-a-real-token"),
        ("API reference", "/api/docs"),
        ("development outbox", "/dev/outbox"),
    ]:
        page.goto(path)
        audit.check(name)

    page.goto("/auth/register")
    page.click("button[type=submit]")
    page.wait_for_selector(".field.has-error")
    audit.check("register with errors")

    page.goto("/auth/login")
    page.fill("#email", "nobody@example.com")
    page.fill("#password", "wrong-password-123")
    page.click("button[type=submit]")
    page.wait_for_selector(".alert-error")
    audit.check("sign in failed")

    page.goto("/auth/forgot")
    page.fill("#email", "nobody@example.com")
    page.click("button[type=submit]")
    page.wait_for_selector("text=Check your inbox")
    audit.check("reset link sent")

    audit.assert_clean()


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("width", VIEWPORTS)
def test_member_pages(new_context, axe_source, width, theme):
    """The demo member (a filled profile and CV) on every page, with the theme from settings."""
    page = new_context(viewport=VIEWPORTS[width]).new_page()
    audit = Audit(page, axe_source, f"member {width} {theme}")
    sign_in(page)
    set_theme(page, theme)
    assert page.get_attribute("html", "data-theme") == theme

    for name, path in [
        ("profile", "/profile"),
        ("settings", "/settings"),
        ("security", "/settings/security"),
        ("delete account", "/account/delete"),
        ("API keys", "/settings/api-keys"),
        ("credits", "/credits"),
        ("usage", "/usage"),
        ("not found (signed in)", "/no-such-page"),
    ]:
        page.goto(path)
        audit.check(name)

    # Credits: a pack bought, the chart drawn, the ledger filled, auto-refill refused inline.
    page.goto("/credits")
    page.click("button[aria-label^='Buy the Starter']")
    page.wait_for_selector("#ledger tbody tr")
    page.click("#history a.segment:has-text('7 days')")
    page.wait_for_selector("#history a.segment.is-current:has-text('7 days')")
    audit.check("credits with a purchase")
    page.check("#auto_refill_enabled")
    page.fill("#refill_amount", "999999")
    page.click("#auto-refill button[type=submit]")
    page.wait_for_selector("#auto-refill .field.has-error")
    audit.check("credits with errors")

    # The dashboard once every card has loaded its body.
    page.goto("/dashboard")
    page.wait_for_selector("#card-getting-started .checklist, #card-getting-started .empty")
    page.wait_for_selector("#card-security .status-list")
    page.wait_for_selector("#card-api-usage .stats")
    page.wait_for_selector("#card-credits .stats")
    audit.check("dashboard")

    # The account menu and, on a phone, the navigation drawer, opened.
    page.goto("/profile")
    if width == "phone":
        page.click("[data-nav-toggle]")
    page.click(".menu > summary")
    audit.check("menus open")

    # A CV row added with htmx.
    page.goto("/profile")
    page.click("#add-experience")
    page.wait_for_selector("#experience-rows .cv-row.htmx-added, #experience-rows .cv-row:last-child")
    audit.check("profile with an added CV row")

    # Form errors next to their fields.
    page.goto("/profile")
    page.fill("#phone", "not a phone")
    page.fill("#website", "nope")
    page.click("button[type=submit]:has-text('Save profile')")
    page.wait_for_selector(".field.has-error")
    audit.check("profile with errors")

    page.goto("/settings/security")
    page.fill("#pw-current_password", "definitely-wrong-password")
    page.fill("#pw-new_password", "short")
    page.click("button[type=submit]:has-text('Change password')")
    page.wait_for_selector(".field.has-error, .alert-error")
    audit.check("security with errors")

    page.goto("/account/delete")
    page.click("button[type=submit]:has-text('Delete my account')")
    page.wait_for_selector(".field.has-error, .alert-error")
    audit.check("delete account with errors")

    audit.assert_clean()


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("width", VIEWPORTS)
def test_new_member_pages(new_context, axe_source, width, theme):
    """A member who just signed up: the verification banner and the empty states."""
    page = new_context(viewport=VIEWPORTS[width]).new_page()
    audit = Audit(page, axe_source, f"new member {width} {theme}")
    page.goto("/auth/register")
    page.fill("#display_name", "Axe Tester")
    page.fill("#email", f"axe-{uuid.uuid4().hex[:10]}@example.com")
    page.fill("#password", "a-long-and-unusual-passphrase")
    page.fill("#confirm", "a-long-and-unusual-passphrase")
    page.click("button[type=submit]")
    page.wait_for_url("**/dashboard")
    audit.check("profile just after sign-up")
    set_theme(page, theme)
    for name, path in [
        ("new profile", "/profile"),
        ("new security", "/settings/security"),
        ("new credits", "/credits"),
    ]:
        page.goto(path)
        audit.check(name)
    page.goto("/dashboard")
    page.wait_for_selector("#card-getting-started .checklist")
    page.wait_for_selector("#card-api-usage .stats")
    audit.check("new dashboard")
    page.click("#verify-banner button")
    page.wait_for_selector("#verify-banner:has-text('We sent a new link')")
    audit.check("verification resent")
    audit.assert_clean()


@pytest.mark.parametrize(("width", "theme"), [("phone", "dark"), ("desktop", "light")])
def test_reset_done_page(new_context, live_server, axe_source, width, theme):
    """After a password reset: the confirmation with the member's API keys, then revoked."""
    email = f"reset-{uuid.uuid4().hex[:10]}@example.com"
    member = new_context(viewport=VIEWPORTS[width]).new_page()
    member.goto("/auth/register")
    member.fill("#display_name", "Axe Resetter")
    member.fill("#email", email)
    member.fill("#password", "a-long-and-unusual-passphrase")
    member.fill("#confirm", "a-long-and-unusual-passphrase")
    member.click("button[type=submit]")
    member.wait_for_url("**/dashboard")
    member.goto("/settings/api-keys")
    member.fill("#name", "Reporting script")
    member.check("input[name=permissions][value='profile:read']")
    member.click("button[type=submit]:has-text('Create key')")
    member.wait_for_selector("#new-secret")

    # Someone who has the inbox resets the password from another browser.
    page = new_context(viewport=VIEWPORTS[width], color_scheme=theme).new_page()
    audit = Audit(page, axe_source, f"reset done {width} {theme}")
    page.goto("/auth/forgot")
    page.fill("#email", email)
    page.click("button[type=submit]:has-text('Send reset link')")
    page.wait_for_selector("text=Check your inbox")
    page.goto(live_server.wait_for_link(email, "/auth/reset/"))
    page.fill("#password", "another-long-unusual-passphrase")
    page.fill("#confirm", "another-long-unusual-passphrase")
    page.click("button[type=submit]:has-text('Save new password')")
    page.wait_for_url("**/auth/reset/done")
    assert "Reporting script" in page.inner_text("main")
    audit.check("reset done with keys")

    page.on("dialog", lambda dialog: dialog.accept())
    page.click("button:has-text('Revoke all 1 API key')")
    page.wait_for_selector("text=Revoked 1 API key")
    assert "You have no active API keys" in page.inner_text("main")
    audit.check("reset done, keys revoked")
    audit.assert_clean()
