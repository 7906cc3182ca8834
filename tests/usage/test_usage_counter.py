"""Buffered API call counting: per member per day, per key, in memory or on Redis."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
import time_machine

from tests.helpers import bearer, make_key
from webapp.apikeys.models import ApiKey
from webapp.extensions import db
from webapp.timeutil import utcnow
from webapp.usage import counter
from webapp.usage.models import UsageMetric


def calls(user) -> dict:
    db.session.expire_all()
    rows = db.session.scalars(sa.select(UsageMetric).where(UsageMetric.user_id == user.id))
    return {row.metric_date: row.api_calls for row in rows}


def key_row(key) -> ApiKey:
    db.session.expire_all()
    return db.session.get(ApiKey, key.id)


def test_calls_are_counted_per_member_per_day(client, make_user):
    user, other = make_user(), make_user()
    key, secret = make_key(user, ["profile:read"])
    for _ in range(3):
        client.get("/api/v1/profile", headers=bearer(secret))
    today = utcnow().date()
    assert calls(user) == {today: 3}
    assert calls(other) == {}
    with time_machine.travel(utcnow() + timedelta(days=1), tick=False):
        client.get("/api/v1/profile", headers=bearer(secret))
    assert calls(user) == {today: 3, today + timedelta(days=1): 1}
    assert key_row(key).usage_count == 4


def test_session_and_token_calls_count_too(client, member):
    client.get("/api/v1/profile")
    client.get("/api/v1/settings")
    assert sum(calls(member).values()) == 2


def test_refused_calls_are_not_counted(client, make_user):
    user = make_user()
    _, secret = make_key(user, ["profile:read"])
    client.get("/api/v1/profile", headers=bearer(secret[:-1]))  # malformed
    client.get("/api/v1/profile")  # anonymous
    assert calls(user) == {}


def test_buffered_until_the_flush_interval(app, client, make_user, monkeypatch):
    """With an interval, requests touch only the buffer; the flush writes one relative update."""
    monkeypatch.setitem(app.config, "USAGE_FLUSH_SECONDS", 3600)
    counter.flush()  # start the interval now
    user = make_user()
    key, secret = make_key(user, ["profile:read"])
    for _ in range(5):
        assert client.get("/api/v1/profile", headers=bearer(secret)).status_code == 200
    assert calls(user) == {}
    assert key_row(key).usage_count == 0
    counter.flush()
    assert calls(user) == {utcnow().date(): 5}
    assert key_row(key).usage_count == 5 and key_row(key).last_used_at is not None
    counter.flush()  # nothing buffered: nothing changes
    assert calls(user) == {utcnow().date(): 5}


def test_flush_adds_to_existing_counts(make_user):
    user = make_user()
    key, _ = make_key(user, ["profile:read"])
    for _ in range(2):
        counter.record_api_call(user.id, key.id)
    counter.record_api_call(user.id, key.id)
    assert calls(user) == {utcnow().date(): 3}
    assert key_row(key).usage_count == 3


def test_last_used_never_moves_backwards(make_user):
    user = make_user()
    key, _ = make_key(user, ["profile:read"])
    later = utcnow() + timedelta(hours=2)
    with time_machine.travel(later, tick=False):
        counter.record_api_call(user.id, key.id)
    counter.record_api_call(user.id, key.id)  # an older timestamp flushed afterwards
    assert abs(key_row(key).last_used_at - later) < timedelta(seconds=1)


def test_counts_for_a_deleted_member_or_key_are_dropped(app, make_user, monkeypatch):
    monkeypatch.setitem(app.config, "USAGE_FLUSH_SECONDS", 3600)
    counter.flush()
    user = make_user()
    key, _ = make_key(user, ["profile:read"])
    counter.record_api_call(user.id, key.id)
    db.session.delete(user)
    db.session.commit()
    counter.flush()  # no error, no orphan rows
    assert db.session.scalar(sa.select(sa.func.count()).select_from(UsageMetric)) == 0


def test_list_shows_current_counts(app, client, make_user, monkeypatch):
    """The key list adds the buffered uses, so the owner never sees a stale count; it writes nothing."""
    monkeypatch.setitem(app.config, "USAGE_FLUSH_SECONDS", 3600)
    counter.flush()
    user = make_user()
    key, secret = make_key(user, ["profile:read", "keys:read"])
    client.get("/api/v1/profile", headers=bearer(secret))
    listing = client.get("/api/v1/api-keys", headers=bearer(secret)).get_json()["data"]
    assert listing[0]["usage_count"] == 2
    assert key_row(key).usage_count == 0 and calls(user) == {}


# --- Redis ---------------------------------------------------------------------------------------


def test_redis_buffer_counts_and_flushes(app, client, make_user, redis_url, monkeypatch):
    from redis import Redis

    redis = Redis.from_url(redis_url)
    monkeypatch.setitem(app.config, "USAGE_FLUSH_SECONDS", 3600)
    redis.set(counter.FLUSH_LOCK, 1, ex=3600)  # a flush already ran this interval
    user = make_user()
    key, secret = make_key(user, ["profile:read"])
    for _ in range(4):
        assert client.get("/api/v1/profile", headers=bearer(secret)).status_code == 200
    field = f"{user.id}:{utcnow().date().isoformat()}"
    assert int(redis.hget(counter.CALLS_HASH, field)) == 4
    assert int(redis.hget(counter.KEY_USES_HASH, str(key.id))) == 4
    assert calls(user) == {}

    counter.flush()
    assert calls(user) == {utcnow().date(): 4}
    assert key_row(key).usage_count == 4 and key_row(key).last_used_at is not None
    assert not redis.exists(counter.CALLS_HASH) and not redis.exists(counter.KEY_USES_HASH)
    assert not [k for k in redis.keys("folio:usage:*flushing*")]


def test_redis_pending_uses_are_read_without_draining(app, client, make_user, redis_url, monkeypatch):
    from redis import Redis

    redis = Redis.from_url(redis_url)
    monkeypatch.setitem(app.config, "USAGE_FLUSH_SECONDS", 3600)
    redis.set(counter.FLUSH_LOCK, 1, ex=3600)  # a flush already ran this interval
    user = make_user()
    key, secret = make_key(user, ["profile:read", "keys:read"])
    for _ in range(2):
        client.get("/api/v1/profile", headers=bearer(secret))
    assert counter.pending_key_uses([key.id])[key.id].uses == 2
    page = client.get("/api/v1/api-keys", headers=bearer(secret)).get_json()["data"]
    assert page[0]["usage_count"] == 3 and page[0]["last_used_at"] is not None
    assert int(redis.hget(counter.KEY_USES_HASH, str(key.id))) == 3  # still buffered for the flush
    assert key_row(key).usage_count == 0
    counter.flush()
    assert key_row(key).usage_count == 3 and counter.pending_key_uses([key.id]) == {}


def test_redis_flush_is_enqueued_once_per_interval(app, client, make_user, redis_url, monkeypatch):
    from redis import Redis

    enqueued = []
    monkeypatch.setattr(counter, "enqueue", lambda func, *a, **k: enqueued.append(func))
    monkeypatch.setitem(app.config, "USAGE_FLUSH_SECONDS", 60)
    Redis.from_url(redis_url).delete(counter.FLUSH_LOCK)
    user = make_user()
    _, secret = make_key(user, ["profile:read"])
    for _ in range(5):
        client.get("/api/v1/profile", headers=bearer(secret))
    assert enqueued == [counter.flush]


def test_redis_flush_runs_as_an_rq_job(app, client, make_user, redis_url):
    """With Redis the database write happens in a worker, not in the request."""
    from redis import Redis
    from rq import Queue, SimpleWorker

    queue = Queue(app.config["RQ_QUEUE"], connection=Redis.from_url(redis_url))
    queue.empty()
    user = make_user()
    key, secret = make_key(user, ["profile:read"])
    for _ in range(3):
        client.get("/api/v1/profile", headers=bearer(secret))
    assert calls(user) == {}
    assert queue.count >= 1
    SimpleWorker([queue], connection=queue.connection).work(burst=True)  # runs in this app context
    assert calls(user) == {utcnow().date(): 3}
    assert key_row(key).usage_count == 3
    queue.empty()


@pytest.mark.parametrize("interval", [0, 3600])
def test_redis_flush_with_nothing_buffered(app, redis_url, interval, monkeypatch):
    monkeypatch.setitem(app.config, "USAGE_FLUSH_SECONDS", interval)
    counter.flush()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(UsageMetric)) == 0
