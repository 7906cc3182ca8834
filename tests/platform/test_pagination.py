"""``items_per_page`` as the one source of list sizes (webapp/pagination.py)."""

from __future__ import annotations

import pytest
from flask_login import AnonymousUserMixin

from webapp.pagination import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    ListQuery,
    last_page,
    page_number,
    page_size,
    window,
)


def test_member_setting_is_the_size(make_user):
    user = make_user()
    assert page_size(user) == DEFAULT_PAGE_SIZE
    user.settings.items_per_page = 50
    assert page_size(user) == 50


def test_visitors_and_accounts_without_settings_get_the_default(make_user):
    assert page_size(None) == page_size(AnonymousUserMixin()) == DEFAULT_PAGE_SIZE
    user = make_user()
    user.settings = None
    assert page_size(user) == DEFAULT_PAGE_SIZE


def test_size_stays_within_bounds(make_user):
    """A row the check constraint would refuse (set in memory here) still gives a bounded list."""
    user = make_user()
    user.settings.items_per_page = 10_000
    assert page_size(user) == MAX_PAGE_SIZE
    user.settings.items_per_page = 0
    assert page_size(user) == 5


def test_window_and_page_helpers():
    from webapp.errors import ValidationFailed

    def read(**args):
        return window(ListQuery.read({k: v for k, v in args.items() if v is not None}), default_limit=7)

    assert read() == (7, 0)
    assert read(limit="", offset="") == (7, 0)
    assert read(limit="30", offset="60") == (30, 60)
    with pytest.raises(ValidationFailed):
        read(limt="30")
    for limit, offset in (("0", None), ("101", None), ("x", None), ("1.5", None), (None, "-1"), (None, str(10**30))):
        with pytest.raises(ValidationFailed):
            read(limit=limit, offset=offset)
    assert [page_number(v) for v in (None, "", "x", "-3", "2")] == [1, 1, 1, 1, 2]
    assert [last_page(total, 5) for total in (0, 5, 6, 12)] == [1, 1, 2, 3]


def test_settings_page_and_api_refuse_sizes_outside_the_bounds(client, member, auth):
    for size in (4, 101):
        response = client.patch("/api/v1/settings", json={"items_per_page": size}, headers=auth.headers())
        assert response.status_code == 422 and "items_per_page" in response.get_json()["error"]["details"]
