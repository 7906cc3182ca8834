"""Plan quotas: counted where the work happens, refused past the limit with 429 quota_exceeded,
warned at 80 % and 100 %, a day's row keeps its plan's limits; the usage page and API."""

from __future__ import annotations

import copy
import io
import logging
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.helpers import assert_json_error, bearer, count_queries, is_postgres, make_key, png_bytes
from webapp.extensions import db
from webapp.timeutil import utcnow
from webapp.usage import service as usage
from webapp.usage.models import UsageMetric

HTMX = {"HX-Request": "true"}


@pytest.fixture
def limits(app, monkeypatch):
    """Set the free plan's daily limits for one test: ``limits(api_calls=3)``."""
    plans = copy.deepcopy(app.config["PLANS"])
    monkeypatch.setitem(app.config, "PLANS", plans)

    def set_limits(**values):
        plans["free"]["limits"].update(values)

    return set_limits


def _today(user_id) -> UsageMetric:
    db.session.expire_all()
    return db.session.scalar(
        sa.select(UsageMetric).where(UsageMetric.user_id == user_id, UsageMetric.metric_date == utcnow().date())
    )


def test_a_days_row_keeps_the_limits_of_the_members_plan(make_user):
    free, pro = make_user(email="free@example.com"), make_user(email="pro@example.com")
    pro.plan = "pro"
    db.session.commit()
    for user in (free, pro):
        usage.add_to_day(user.id, images_processed=1)
    db.session.commit()
    assert (_today(free.id).images_limit, _today(free.id).api_calls_limit) == (100, 10_000)
    assert (_today(pro.id).images_limit, _today(pro.id).message_limit) == (10_000, 2_000)


def test_consume_refuses_past_the_limit_and_counts_nothing(app, make_user, limits, caplog):
    limits(file_uploads=5)
    user = make_user()
    caplog.set_level(logging.INFO, logger="folio.notify")
    for expected in range(1, 6):
        assert usage.consume(user.id, "file_uploads") == expected
    db.session.commit()
    assert "File uploads: 80% of today's limit" in caplog.text and "File uploads: today's limit reached" in caplog.text
    with pytest.raises(usage.QuotaExceeded) as refused:
        usage.consume(user.id, "file_uploads")
    assert refused.value.details == {
        "metric": "file_uploads",
        "limit": 5,
        "used": 5,
        "resets_at": usage.next_reset().isoformat(),
    }
    assert "daily limit of 5 file uploads" in refused.value.message
    db.session.rollback()
    assert _today(user.id).file_uploads == 5
    with pytest.raises(usage.QuotaExceeded):
        usage.consume(user.id, "file_uploads", 3)  # a batch that does not fit is refused whole


def test_fifty_parallel_consumes_at_a_limit_of_ten_pass_ten(app, make_user, limits):
    if not is_postgres():
        pytest.skip("needs PostgreSQL (TEST_DATABASE_URL)")
    limits(images_processed=10)
    user = make_user()
    barrier, outcomes, lock = threading.Barrier(50), [], threading.Lock()

    def consume():
        with app.app_context():
            barrier.wait()
            try:
                usage.consume(user.id, "images_processed")
                db.session.commit()
                outcome = "ok"
            except usage.QuotaExceeded:
                db.session.rollback()
                outcome = "refused"
            finally:
                db.session.remove()
            with lock:
                outcomes.append(outcome)

    threads = [threading.Thread(target=consume) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["ok"] * 10 + ["refused"] * 40
    assert _today(user.id).images_processed == 10


def test_uploads_past_the_quota_are_refused(client, member, auth, limits):
    limits(file_uploads=1)
    headers = auth.headers()

    def upload():
        return client.post(
            "/api/v1/profile/avatar",
            data={"avatar": (io.BytesIO(png_bytes()), "me.png")},
            headers=headers,
            content_type="multipart/form-data",
        )

    assert upload().status_code == 201
    error = assert_json_error(upload(), 429, "quota_exceeded")
    assert error["details"]["metric"] == "file_uploads" and error["details"]["limit"] == 1
    assert (_today(member.id).file_uploads, _today(member.id).images_processed) == (1, 1)


def test_api_calls_past_the_daily_quota_are_429_quota_exceeded(client, make_user, limits):
    limits(api_calls=3)
    user = make_user()
    _, secret = make_key(user, ["profile:read"], rate_limit=1000)
    for _ in range(3):
        assert client.get("/api/v1/profile", headers=bearer(secret)).status_code == 200
    error = assert_json_error(client.get("/api/v1/profile", headers=bearer(secret)), 429, "quota_exceeded")
    assert error["details"]["limit"] == 3 and error["details"]["resets_at"] == usage.next_reset().isoformat()


def test_the_api_call_quota_holds_on_redis_across_processes(client, make_user, limits, redis_url):
    """With Redis the running count is shared by every worker: a day's total, not a process's."""
    limits(api_calls=2)
    user = make_user()
    _, secret = make_key(user, ["profile:read"], rate_limit=1000)
    assert [client.get("/api/v1/profile", headers=bearer(secret)).status_code for _ in range(3)] == [200, 200, 429]


def test_the_usage_api_reports_today_limits_and_trends(client, make_user):
    user = make_user()
    today = utcnow().date()
    for days_ago, images in [(0, 30), (3, 10), (9, 5), (12, 15)]:  # this week 40, the week before 20
        usage.add_to_day(user.id, today - timedelta(days=days_ago), images_processed=images)
    db.session.commit()
    _, secret = make_key(user, ["usage:read"])
    data = client.get("/api/v1/usage/metrics?period=7d", headers=bearer(secret)).get_json()["data"]
    images = next(m for m in data["metrics"] if m["metric"] == "images_processed")
    assert images["today"] == 30 and images["limit"] == 100 and images["percent"] == 30
    assert images["period_total"] == 40 and images["previous_total"] == 20 and images["trend_percent"] == 100
    assert {m["metric"] for m in data["metrics"]} == set(usage.METRICS)
    history = client.get("/api/v1/usage/history?period=7d&metric=images_processed", headers=bearer(secret))
    days = history.get_json()["data"]["days"]
    assert len(days) == 7 and days[-1] == {"date": today.isoformat(), "values": {"images_processed": 30.0}}
    every = client.get("/api/v1/usage/history", headers=bearer(secret)).get_json()["data"]
    assert every["period"] == "30d" and every["metric"] == "all" and len(every["days"]) == 30
    assert set(every["days"][0]["values"]) == set(usage.METRICS)
    assert_json_error(client.get("/api/v1/usage/history?metric=nope", headers=bearer(secret)), 422)
    _, other_scope = make_key(user, ["profile:read"])
    assert_json_error(client.get("/api/v1/usage/metrics", headers=bearer(other_scope)), 403, "insufficient_scope")


def test_the_usage_page_shows_each_metric_and_switches_period(client, member):
    usage.add_to_day(member.id, images_processed=85)
    db.session.commit()
    page = client.get("/usage").get_data(as_text=True)
    assert "<h1>Usage</h1>" in page and "Free plan" in page
    assert 'aria-label="Images processed: 85% of the limit"' in page and "meter-warn" in page
    assert "Images processed per day, last 30 days" in page
    partial = client.get("/usage?period=7d", headers=HTMX).get_data(as_text=True)
    assert partial.lstrip().startswith('<div id="usage-metrics"') and "last 7 days" in partial


def test_the_usage_page_makes_the_same_queries_however_long_the_history(client, member):
    with count_queries() as small:
        assert client.get("/usage?period=90d").status_code == 200
    for days_ago in range(120):
        usage.add_to_day(member.id, utcnow().date() - timedelta(days=days_ago), message_count=1)
    db.session.commit()
    with count_queries() as large:
        assert client.get("/usage?period=90d").status_code == 200
    assert len(large) == len(small) <= 6, large


def test_the_usage_page_needs_a_sign_in(client):
    response = client.get("/usage")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
