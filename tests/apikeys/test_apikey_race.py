"""The 50-key cap holds when many creations arrive at once (PostgreSQL: SQLite's in-memory test
database has one shared connection, so nothing races there)."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from tests.helpers import bearer, is_postgres, make_key
from webapp.apikeys.models import ApiKey
from webapp.apikeys.service import MAX_KEYS_PER_MEMBER
from webapp.extensions import db


def test_fifty_parallel_creations_at_45_keys_make_exactly_50(app, make_user):
    if not is_postgres():
        pytest.skip("needs PostgreSQL (TEST_DATABASE_URL)")
    user = make_user()
    _, manage = make_key(user, ["keys:manage", "profile:read"], name="manager")
    for number in range(44):
        make_key(user, ["profile:read"], name=f"existing {number}")
    assert db.session.scalar(sa.select(sa.func.count()).where(ApiKey.user_id == user.id)) == 45
    barrier, answers = threading.Barrier(50), []

    def create(number):
        client = app.test_client()
        with app.app_context():  # the test client clears ``g``, which needs one
            barrier.wait()
            try:
                body = {"name": f"racer {number}", "permissions": ["profile:read"]}
                answers.append(client.post("/api/v1/api-keys", headers=bearer(manage), json=body))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=create, args=(number,)) for number in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [201] * 5 + [422] * 45
    refusals = [answer.get_json()["error"] for answer in answers if answer.status_code == 422]
    assert {error["code"] for error in refusals} == {"validation_failed"}
    assert {error["message"] for error in refusals} == {"You can have at most 50 keys. Delete one first."}
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).where(ApiKey.user_id == user.id)) == MAX_KEYS_PER_MEMBER


def test_a_refused_creation_leaves_nothing_behind(client, make_user, monkeypatch):
    """The key is inserted before the count (SQLite's write lock then covers the count): when
    it is one too many, it is rolled back, and a later commit does not bring it back."""
    from webapp.apikeys import service

    monkeypatch.setattr(service, "MAX_KEYS_PER_MEMBER", 3)
    user = make_user()
    _, manage = make_key(user, ["keys:manage", "profile:read"], name="manager")
    for number in range(2):
        make_key(user, ["profile:read"], name=f"existing {number}")
    body = {"name": "one too many", "permissions": ["profile:read"]}
    response = client.post("/api/v1/api-keys", headers=bearer(manage), json=body)
    assert response.status_code == 422
    assert response.get_json()["error"]["message"] == "You can have at most 3 keys. Delete one first."
    assert client.get("/api/v1/profile", headers=bearer(manage)).status_code == 200  # commits usage
    db.session.expire_all()
    names = set(db.session.scalars(sa.select(ApiKey.name).where(ApiKey.user_id == user.id)))
    assert names == {"manager", "existing 0", "existing 1"}
