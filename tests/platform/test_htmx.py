"""webapp.htmx: the fragment-or-page helper every view answers through."""

from __future__ import annotations

import pytest

from webapp.htmx import render


def test_render_takes_the_status_as_a_keyword_only(app):
    with app.test_request_context("/"):
        with pytest.raises(TypeError):
            render("auth/resend_done.html", "auth/_resend_done.html", 404)  # positional: refused, not lost


@pytest.mark.parametrize(("headers", "page"), [({}, True), ({"HX-Request": "true"}, False)])
def test_render_answers_the_status_on_both_paths(app, headers, page):
    with app.test_request_context("/", headers=headers):
        response = render("auth/resend_done.html", "auth/_resend_done.html", status=429, message="Slow down")
    assert response.status_code == 429
    assert response.headers["Vary"] == "HX-Request"
    assert ("<html" in response.get_data(as_text=True)) is page
