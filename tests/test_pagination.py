"""``items_per_page`` as the one source of list sizes (webapp/pagination.py)."""

from __future__ import annotations

import sqlalchemy as sa
from flask_login import AnonymousUserMixin

from webapp.activity import service as activity
from webapp.activity.models import ActivityLog
from webapp.extensions import db
from webapp.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, page_size, paginate


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


def test_paginate_uses_the_members_size(make_user):
    user = make_user()
    user.settings.items_per_page = 5
    for n in range(12):
        activity.record("note", user_id=user.id, message=str(n))
    db.session.commit()
    query = sa.select(ActivityLog).where(ActivityLog.user_id == user.id).order_by(ActivityLog.message)
    first = paginate(query, user=user)
    assert len(first.items) == 5 and first.total == 12 and first.pages == 3
    assert len(paginate(query, user=user, page=3).items) == 2
    assert paginate(query, user=user, page=99).items == []  # past the end: empty, not an error


def test_settings_page_and_api_refuse_sizes_outside_the_bounds(client, member, auth):
    for size in (4, 101):
        response = client.patch("/api/v1/settings", json={"items_per_page": size}, headers=auth.headers())
        assert response.status_code == 422 and "items_per_page" in response.get_json()["error"]["details"]
