"""The maintenance commands that cron runs."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
import time_machine

from webapp.activity.models import ActivityLog
from webapp.auth import sessions
from webapp.auth.models import UserSession
from webapp.extensions import db
from webapp.timeutil import utcnow


def test_seed_demo_is_idempotent(runner):
    first = runner.invoke(args=["seed-demo"])
    second = runner.invoke(args=["seed-demo"])
    assert "Created demo member" in first.output and "Kept demo member" in second.output


def test_purge_deletes_only_what_ended_long_ago(runner, make_user):
    user = make_user()
    with time_machine.travel(utcnow() - timedelta(days=60), tick=False):
        old = sessions.start(user, remember=False, ip=None, user_agent=None)
        db.session.commit()
        sessions.revoke(old)
    live = sessions.start(user, remember=True, ip=None, user_agent=None)
    db.session.add(
        ActivityLog(user_id=user.id, action="login", status="success", created_at=utcnow() - timedelta(days=400))
    )
    db.session.add(ActivityLog(user_id=user.id, action="login", status="success"))
    db.session.commit()

    result = runner.invoke(args=["purge"])

    assert "Deleted 1 sessions" in result.output and "1 log entries" in result.output
    remaining = db.session.scalars(sa.select(UserSession.token_hash)).all()
    assert remaining == [sessions.hash_token(live)]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ActivityLog)) == 1


def test_announce_expiring_keys_runs(runner):
    assert "Announced 0 expiring key(s)." in runner.invoke(args=["announce-expiring-keys"]).output


def test_purge_keeps_used_tokens_of_live_families(runner, make_user):
    """A rotated token of a live sign-in is the evidence for theft detection: it stays."""
    from webapp.auth import access
    from webapp.auth.models import RefreshToken

    user = make_user()
    with time_machine.travel(utcnow() - timedelta(days=20), tick=False):
        old = access.issue_pair(user)
        access.rotate(old.refresh_token)  # the first token is now used, its family lives on
    dead = access.issue_pair(user)
    access.revoke(dead.refresh_token)
    for row in db.session.scalars(sa.select(RefreshToken).where(RefreshToken.revoked_at.is_not(None))):
        row.revoked_at = utcnow() - timedelta(days=40)
    db.session.commit()
    runner.invoke(args=["purge"])
    remaining = db.session.scalars(sa.select(RefreshToken.token_hash)).all()
    assert len(remaining) == 2  # both tokens of the live family; the revoked family is gone
