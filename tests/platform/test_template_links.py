"""Templates reuse the links they build (webapp.templating.cached_url_for): same URLs as url_for."""

from __future__ import annotations

import uuid

import pytest
from flask import render_template_string, url_for
from werkzeug.routing import BuildError


@pytest.mark.parametrize(
    ("endpoint", "values"),
    [
        ("static", {"filename": "css/app.css"}),
        ("accounts.settings", {}),
        ("apikeys.index", {"page": 2}),
        ("apikeys.delete", {"key_id": uuid.UUID(int=7)}),
        ("accounts.cv_row", {"kind": "experience", "index": 3}),
    ],
)
def test_links_match_url_for_and_are_remembered(app, endpoint, values):
    from webapp.templating import cached_url_for

    with app.test_request_context("/settings"):
        first, again = cached_url_for(endpoint, **values), cached_url_for(endpoint, **values)
        assert first == again == url_for(endpoint, **values)
        assert any(key[2] == endpoint for key in app.extensions["folio_links"])


def test_templates_use_it_and_special_arguments_are_built_each_time(app):
    with app.test_request_context("/settings"):
        assert render_template_string("{{ url_for('accounts.settings') }}") == "/settings"
        external = render_template_string("{{ url_for('accounts.settings', _external=True) }}")
        assert external.startswith("http") and external.endswith("/settings")
        assert render_template_string("{{ url_for('accounts.settings', _anchor='x') }}") == "/settings#x"


def test_unknown_endpoints_still_fail(app):
    from webapp.templating import cached_url_for

    with app.test_request_context("/"), pytest.raises(BuildError):
        cached_url_for("nowhere.at_all")
