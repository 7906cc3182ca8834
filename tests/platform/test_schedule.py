"""Periodic jobs: the registry domains add to, the in-process runner, and rq's CronScheduler."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.helpers import ROOT, VENV_BIN, bearer, make_key, worker_env
from webapp import schedule
from webapp.auth.models import UserSession
from webapp.extensions import db
from webapp.timeutil import utcnow
from webapp.usage import tasks as usage_tasks
from webapp.usage.models import UsageMetric

NOON = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def test_every_domain_registers_its_periodic_jobs(app):
    names = {job.name: job for job in schedule.periodic_jobs(app)}
    assert names["webapp.apikeys.tasks:announce_expiring_keys"].cron == "0 8 * * *"
    assert names["webapp.auth.tasks:purge_ended_sign_ins"].cron == "30 3 * * *"
    assert names["webapp.activity.tasks:purge_old_activity"].cron == "45 3 * * *"
    assert names["webapp.usage.tasks:flush_usage"].every >= 30


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "either"),
        ({"seconds": 5, "cron": "* * * * *"}, "either"),
        ({"cron": "every day"}, "crontab"),
        ({"seconds": 0}, "at least"),
    ],
)
def test_a_schedule_must_be_one_clear_rule(app, kwargs, message):
    with pytest.raises(ValueError, match=message):
        schedule.every(app, usage_tasks.flush_usage, **kwargs)


def _ran(calls: list):
    def job():
        calls.append(utcnow())

    return job


def test_in_process_runner_runs_interval_jobs_at_once_then_on_time(app):
    calls: list = []
    runner = schedule.InProcessScheduler(app, [schedule.PeriodicJob(_ran(calls), every=60)], now=NOON)
    assert len(runner.run_due(NOON)) == 1
    assert runner.run_due(NOON + timedelta(seconds=59)) == []
    assert len(runner.run_due(NOON + timedelta(seconds=60))) == 1
    assert len(calls) == 2
    assert runner.seconds_until_next(NOON + timedelta(seconds=90)) == 30


def test_in_process_runner_follows_cron_in_utc(app):
    calls: list = []
    runner = schedule.InProcessScheduler(app, [schedule.PeriodicJob(_ran(calls), cron="30 3 * * *")], now=NOON)
    assert runner.run_due(NOON) == []  # a daily job waits for its hour
    assert runner.run_due(datetime(2026, 12, 2, 3, 29, tzinfo=UTC)) == []
    assert len(runner.run_due(datetime(2026, 12, 2, 3, 30, tzinfo=UTC))) == 1
    assert runner.due[next(iter(runner.due))] == datetime(2026, 12, 3, 3, 30, tzinfo=UTC)


def test_a_failing_job_rolls_back_and_the_others_still_run(app, make_user):
    user = make_user()
    calls: list = []

    def broken():
        db.session.get(type(user), user.id).is_suspended = True
        raise RuntimeError("boom")

    jobs = [schedule.PeriodicJob(broken, every=60), schedule.PeriodicJob(_ran(calls), every=60)]
    runner = schedule.InProcessScheduler(app, jobs, now=NOON)
    assert len(runner.run_due(NOON)) == 2
    assert len(calls) == 1
    db.session.expire_all()
    assert db.session.get(type(user), user.id).is_suspended is False


def test_the_purge_job_commits_what_it_deletes(app, make_user):
    user = make_user()
    old = utcnow() - timedelta(days=90)
    db.session.add(
        UserSession(
            user_id=user.id, token_hash="x" * 64, created_at=old, last_seen_at=old, expires_at=old, revoked_at=old
        )
    )
    db.session.commit()
    purge = next(job for job in schedule.periodic_jobs(app) if job.name.endswith("purge_ended_sign_ins"))
    runner = schedule.InProcessScheduler(app, [purge], now=NOON)
    runner.due[purge.name] = NOON
    assert runner.run_due(NOON) == [purge.name]
    db.session.remove()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(UserSession)) == 0


def test_no_scheduler_thread_under_test_or_with_redis(app, client):
    client.get("/")
    assert "folio_scheduler" not in app.extensions


def test_scheduler_command_needs_redis(runner):
    result = runner.invoke(args=["scheduler"])
    assert result.exit_code == 1 and "REDIS_URL is not set" in result.output


@pytest.mark.services
def test_rq_cron_scheduler_enqueues_a_registered_job_that_a_real_worker_runs(
    app, client, make_user, redis_url, smtp_server, monkeypatch
):
    """`flask scheduler` (rq's CronScheduler) enqueues the usage flush; `flask worker` runs it."""
    if not os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("the worker process needs the PostgreSQL test database (TEST_DATABASE_URL)")
    from redis import Redis
    from rq import Queue

    monkeypatch.setitem(app.config, "USAGE_FLUSH_SECONDS", 3600)  # requests buffer, nothing flushes them
    queue = Queue(app.config["RQ_QUEUE"], connection=Redis.from_url(redis_url))
    queue.empty()
    user = make_user()
    _, secret = make_key(user, ["profile:read"])
    for _ in range(3):
        assert client.get("/api/v1/profile", headers=bearer(secret)).status_code == 200
    queue.empty()  # only what the scheduler enqueues from here on
    assert db.session.scalar(sa.select(sa.func.count()).select_from(UsageMetric)) == 0

    env = worker_env(smtp_server.port, queue.name, redis_url)
    scheduler = subprocess.Popen(
        [str(VENV_BIN / "flask"), "scheduler"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 60
        while queue.count == 0 and time.monotonic() < deadline and scheduler.poll() is None:
            time.sleep(0.2)
    finally:
        scheduler.send_signal(signal.SIGTERM)
        output = scheduler.communicate(timeout=30)[0].decode()
    assert queue.count >= 1, output
    assert "webapp.usage.tasks:flush_usage: every" in output

    worker = subprocess.run(
        [str(VENV_BIN / "flask"), "worker", "--burst"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert worker.returncode == 0, worker.stdout + worker.stderr
    user_id = user.id  # read before the session goes: the requests' commits expired the row
    db.session.remove()
    calls = db.session.scalar(sa.select(UsageMetric.api_calls).where(UsageMetric.user_id == user_id))
    assert calls == 3, worker.stdout + worker.stderr
    queue.empty()
