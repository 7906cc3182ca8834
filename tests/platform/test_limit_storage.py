"""Rate limits on Redis in one round trip per hit (webapp.extensions.OneTripRedisStorage)."""

from __future__ import annotations

import os
import time

import pytest

pytestmark = pytest.mark.skipif(
    not os.environ.get("TEST_REDIS_URL"), reason="TEST_REDIS_URL is not set (CI sets it for the PostgreSQL + Redis run)"
)


@pytest.fixture
def storage(app):
    from limits.storage import storage_from_string
    from redis import Redis

    url = os.environ["TEST_REDIS_URL"]
    Redis.from_url(url).flushdb()
    return storage_from_string(f"folio+{url}")


def test_the_uri_names_the_storage_and_reaches_the_same_redis(storage):
    from webapp.extensions import OneTripRedisStorage

    assert isinstance(storage, OneTripRedisStorage)
    assert storage.check()


def test_reads_after_a_hit_in_the_same_request_make_no_round_trip(app, storage, monkeypatch):
    with app.test_request_context("/"):
        assert storage.incr("k", 60) == 1
        assert storage.incr("k", 60) == 2
        connection = storage.get_connection()
        monkeypatch.setattr(connection, "get", lambda *a, **k: pytest.fail("GET after a hit"))
        monkeypatch.setattr(connection, "ttl", lambda *a, **k: pytest.fail("TTL after a hit"))
        assert storage.get("k") == 2
        assert 58 <= storage.get_expiry("k") - time.time() <= 60
    monkeypatch.undo()
    with app.test_request_context("/"):  # another request reads Redis itself
        assert storage.get("k") == 2
        assert 58 <= storage.get_expiry("k") - time.time() <= 60
        assert storage.get("other") == 0


def test_a_cleared_key_is_read_again(app, storage):
    with app.test_request_context("/"):
        storage.incr("k", 60)
        storage.clear("k")
        assert storage.get("k") == 0


def test_api_answers_count_down_on_it(tmp_path):
    """A whole app on it: the headers of successive API calls count the caller's budget down."""
    from webapp import create_app
    from webapp.config import TestingConfig

    url = os.environ["TEST_REDIS_URL"]

    class OnRedis(TestingConfig):
        RATELIMIT_STORAGE_URI = f"folio+{url}"
        API_LIMIT_ANONYMOUS = "50 per minute"

    app = create_app(OnRedis)
    from redis import Redis

    Redis.from_url(url).flushdb()
    client = app.test_client()
    remaining = [int(client.get("/api/v1/profile").headers["X-RateLimit-Remaining"]) for _ in range(3)]
    assert remaining == [49, 48, 47]
