"""The request or the job is the unit of work: services flush, the boundary commits once.

Most tests drive a second app built from the test configuration with a few probe routes (a
view that calls a real service, then crashes, refuses or succeeds), since the boundary is what
is under test and Flask takes no new routes once an app has served a request.
"""

from __future__ import annotations

import ast
import contextlib
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.helpers import PASSWORD, bearer, make_key, table_counts
from webapp import create_app, jobs, unit_of_work
from webapp.accounts.models import Profile
from webapp.activity.models import ActivityLog
from webapp.auth.models import User
from webapp.extensions import db

WEBAPP = Path(__file__).parents[2] / "webapp"
# The boundary: the one module that commits (requests, jobs and CLI commands all go through it).
BOUNDARY_MODULES = {WEBAPP / "unit_of_work.py"}
EVENTS: list[object] = []  # commits and what probe jobs saw, in order


@contextlib.contextmanager
def count_commits():
    commits: list[object] = []

    def on_commit(connection):
        commits.append(connection)
        EVENTS.append("commit")

    sa.event.listen(db.engine, "commit", on_commit)
    try:
        yield commits
    finally:
        sa.event.remove(db.engine, "commit", on_commit)


def peek_job(user_id: str) -> None:
    """A job queued by a probe request: what does it find in the database?"""
    bio = db.session.scalar(sa.select(Profile.bio).where(Profile.user_id == uuid.UUID(user_id)))
    EVENTS.append(("job", bio))


def _probe_routes(app) -> None:
    from flask import request

    from webapp.accounts import service as accounts
    from webapp.activity import service as activity

    @app.post("/probe/<outcome>")
    def probe(outcome: str):
        user = db.session.get(User, uuid.UUID(request.args["user"]))
        if request.args.get("job"):
            jobs.enqueue(peek_job, str(user.id))
        if request.args.get("anyway"):
            unit_of_work.record_anyway(activity.record, "probe", status="failure", user_id=user.id)
        accounts.update_profile(user, {"bio": "Changed by the probe"})
        if outcome == "crash":
            raise RuntimeError("the view fails after the service call")
        if outcome == "refuse":
            return {"refused": True}, 409
        return {"ok": True}

    probe.csrf_exempt = True  # it reads no cookie: nothing to forge


@pytest.fixture(scope="module")
def probe_app(_app):
    config = type("ProbeConfig", (), {k: v for k, v in _app.config.items() if k.isupper()})
    config.PROPAGATE_EXCEPTIONS = False  # answer a crash with the 500 handler, as in production
    probe = create_app(config)
    # One database for both apps: the suite's SQLite is in memory, one connection per engine.
    db._app_engines[probe] = db._app_engines[_app]
    _probe_routes(probe)
    return probe


@pytest.fixture
def probe(app, probe_app, make_user):
    """A client of the probe app and a committed member whose bio the probes change."""
    EVENTS.clear()
    user = make_user()
    user.profile.bio = "Original"
    user_id = user.id
    db.session.commit()  # this session's transaction ends before the probe app's begin
    yield probe_app.test_client(), user_id
    db.session.rollback()


def _post(client, outcome: str, user, **flags):
    return client.post(f"/probe/{outcome}", query_string={"user": str(user), **flags})


def _bio(user_id) -> str | None:
    db.session.rollback()  # this test's session: read what is committed now
    return db.session.get(User, user_id).profile.bio


def test_success_commits_exactly_once(probe):
    client, user = probe
    with count_commits() as commits:
        assert _post(client, "ok", user).status_code == 200
    assert len(commits) == 1
    assert _bio(user) == "Changed by the probe"


def test_an_exception_after_a_service_call_rolls_back(probe):
    client, user = probe
    response = _post(client, "crash", user)
    assert response.status_code == 500
    assert _bio(user) == "Original"


def test_an_error_answer_rolls_back(probe):
    client, user = probe
    assert _post(client, "refuse", user).status_code == 409
    assert _bio(user) == "Original"


def test_a_job_runs_after_the_commit_and_sees_it(probe):
    client, user = probe
    with count_commits():
        assert _post(client, "ok", user, job="1").status_code == 200
    # The request's commit, then the job, which sees what it committed (then its own commit).
    assert EVENTS[:2] == ["commit", ("job", "Changed by the probe")]


@pytest.mark.parametrize("outcome, status", [("crash", 500), ("refuse", 409)])
def test_a_job_queued_by_a_failed_request_never_runs(probe, outcome, status):
    client, user = probe
    with count_commits():
        assert _post(client, outcome, user, job="1").status_code == status
    assert EVENTS == []  # neither a commit nor the job
    assert _bio(user) == "Original"


def test_a_job_queued_by_a_failed_request_never_reaches_rq(probe, probe_app, redis_url):
    from redis import Redis
    from rq import Queue

    client, user = probe
    probe_app.config["REDIS_URL"] = redis_url
    try:
        assert _post(client, "refuse", user, job="1").status_code == 409
        assert _post(client, "ok", user, job="1").status_code == 200
    finally:
        probe_app.config["REDIS_URL"] = None
    queue = Queue(probe_app.config["RQ_QUEUE"], connection=Redis.from_url(redis_url))
    assert len(queue.job_ids) == 1  # only the successful request's job


@pytest.mark.parametrize("outcome, status", [("refuse", 409), ("crash", 500), ("ok", 200)])
def test_a_write_recorded_anyway_stands_whatever_the_answer(probe, outcome, status):
    client, user = probe
    assert _post(client, outcome, user, anyway="1").status_code == status
    db.session.rollback()
    rows = db.session.scalars(sa.select(ActivityLog).where(ActivityLog.action == "probe")).all()
    assert [(row.user_id, row.status) for row in rows] == [(user, "failure")]
    assert _bio(user) == ("Changed by the probe" if status == 200 else "Original")


def test_staff_create_failing_half_way_leaves_nothing(app, client, admin):
    """POST /api/v1/users registers the member, then applies the plan (a second service call):
    when the database refuses the second step, the first one goes too."""
    key = make_key(admin)[1]
    before = table_counts()

    def refuse_the_update(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith("UPDATE users"):
            raise sa.exc.OperationalError(statement, parameters, Exception("the database refused"))

    sa.event.listen(db.engine, "before_cursor_execute", refuse_the_update)
    try:
        response = client.post(
            "/api/v1/users", headers=bearer(key), json={"email": "new@example.com", "password": PASSWORD, "plan": "pro"}
        )
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", refuse_the_update)
    assert response.status_code == 500
    db.session.rollback()
    assert db.session.scalar(sa.select(User).where(User.email == "new@example.com")) is None
    after = table_counts()
    # No user, profile, settings or activity row: only the admin's API call was counted.
    assert {name for name, count in after.items() if count != before[name]} <= {"usage_metrics"}


def test_sign_up_that_fails_after_registering_sends_no_mail_and_keeps_nothing(client, mailbox):
    """The sign-up page registers (queueing the verification mail), then signs in; when the
    sign-in's insert fails, no account stays and the queued mail is never sent."""

    def refuse_the_session(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith("INSERT INTO user_sessions"):
            raise sa.exc.OperationalError(statement, parameters, Exception("the database refused"))

    from tests.helpers import csrf_token

    data = {
        "email": "late@example.com",
        "password": PASSWORD,
        "confirm": PASSWORD,
        "display_name": "Late Comer",
        "csrf_token": csrf_token(client, "/auth/register"),
    }
    sa.event.listen(db.engine, "before_cursor_execute", refuse_the_session)
    try:  # the test app lets the exception through instead of answering 500
        with pytest.raises(sa.exc.OperationalError, match="the database refused"):
            client.post("/auth/register", data=data)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", refuse_the_session)
    db.session.rollback()
    assert db.session.scalar(sa.select(User).where(User.email == "late@example.com")) is None
    assert mailbox.to("late@example.com") == []


def _commit_calls(path: Path) -> list[int]:
    """Lines of ``path`` that call ``.commit(``: on the session or anything else."""
    tree = ast.parse(path.read_text(), filename=str(path))
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "commit"
    ]


def test_only_the_boundary_commits():
    offenders = {
        str(path.relative_to(WEBAPP.parent)): lines
        for path in sorted(WEBAPP.rglob("*.py"))
        if path not in BOUNDARY_MODULES and (lines := _commit_calls(path))
    }
    assert offenders == {}


def test_a_refused_first_call_announces_the_key_once(app, client, make_user, notices, monkeypatch):
    """The first-use claim stands although the call is refused (403), so the next refused call
    does not announce the key a second time (before the buffered use counts reach the key)."""
    import time

    from webapp.usage import counter

    monkeypatch.setitem(app.config, "USAGE_FLUSH_SECONDS", 3600)
    monkeypatch.setattr(counter._local, "last_flush", time.monotonic())  # no flush during the test
    user = make_user()
    key, secret = make_key(user, ["profile:read"])
    for _ in range(2):
        response = client.get("/api/v1/api-keys", headers=bearer(secret))
        assert response.status_code == 403
    told = [notice for notice in notices(user) if "used for the first time" in notice]
    assert len(told) == 1
    db.session.rollback()
    assert db.session.get(type(key), key.id).last_used_at is not None
