"""Removing a CV row happens in the browser: no request, focus kept, and the save drops it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.e2e


def test_remove_cv_row_without_a_request(page):
    sign_in(page)
    page.goto("/profile#cv")
    rows = page.locator("#links-rows .cv-row")
    before = rows.count()
    with page.expect_response(lambda r: "/profile/cv/rows/links" in r.url):
        page.click("#add-links")
    expect(rows).to_have_count(before + 1)

    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    rows.last.locator("[data-remove-closest]").click()
    expect(rows).to_have_count(before)
    assert requests == []
    expect(page.locator("#add-links")).to_be_focused()
    assert page.console_errors == []
