"""Pages make a bounded number of queries, however much data the member has."""

from __future__ import annotations

import pytest

from tests.helpers import count_queries
from webapp.extensions import db


def _grow(user, n: int) -> None:
    """Give the member ``n`` more sign-ins, browser sessions and API keys."""
    from webapp.activity import service as activity
    from webapp.apikeys import service as apikeys
    from webapp.auth import sessions

    for i in range(n):
        sessions.start(user, remember=False, ip="203.0.113.7", user_agent="Mozilla/5.0 Firefox/130.0")
        activity.record("login", user_id=user.id, ip_address="203.0.113.7")
        apikeys.create_key(user, {"name": f"key {i}", "permissions": ["profile:read"]})
    db.session.commit()


@pytest.mark.parametrize(
    "path", ["/profile", "/settings", "/settings/security", "/settings/api-keys", "/api/v1/profile", "/api/v1/api-keys"]
)
def test_page_queries_do_not_grow_with_data(client, member, path):
    _grow(member, 2)
    with count_queries() as small:
        assert client.get(path).status_code == 200
    _grow(member, 12)
    with count_queries() as large:
        assert client.get(path).status_code == 200
    assert len(large) == len(small), (path, large)
    assert len(small) <= 8, small


def test_an_api_key_call_is_one_query(app, client, make_user, monkeypatch):
    """The key and its owner (with profile, settings and role) come in one round trip, and a
    GET writes nothing (usage is buffered)."""
    from tests.helpers import bearer, make_key

    monkeypatch.setitem(app.config, "USAGE_FLUSH_SECONDS", 3600)
    user = make_user()
    _, secret = make_key(user, ["profile:read"])
    assert client.get("/api/v1/profile", headers=bearer(secret)).status_code == 200  # first use is announced
    db.session.remove()
    with count_queries() as statements:
        assert client.get("/api/v1/profile", headers=bearer(secret)).status_code == 200
    assert len(statements) == 1, "\n\n".join(statements)
    assert statements[0].lstrip().upper().startswith("SELECT")


def test_a_signed_in_page_loads_session_and_member_in_one_query(app, client, member):
    """/settings needs the session row and the member (profile, settings, role): one SELECT."""
    assert client.get("/settings").status_code == 200
    db.session.remove()
    with count_queries() as statements:
        assert client.get("/settings").status_code == 200
    assert len(statements) == 1, "\n\n".join(statements)
