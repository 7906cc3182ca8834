"""Server-side browser sessions: each sign-in is a row, so it can be listed and revoked.

The cookie carries a random token; the database keeps only its SHA-256. A session ends when
it is revoked, idle for too long, or past its absolute lifetime ("remember me" extends both).
"""

from __future__ import annotations

import functools
import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from webapp.auth import last_seen
from webapp.auth.models import User, UserSession
from webapp.extensions import db
from webapp.timeutil import utcnow


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _lifetimes(remember: bool) -> tuple[timedelta, timedelta]:
    config = current_app.config
    if remember:
        return config["REMEMBER_IDLE_TIMEOUT"], config["REMEMBER_ABSOLUTE_LIFETIME"]
    return config["SESSION_IDLE_TIMEOUT"], config["SESSION_ABSOLUTE_LIFETIME"]


def start(user: User, *, remember: bool, ip: str | None, user_agent: str | None) -> str:
    """Create a session row for ``user`` and return the raw token (to put in the cookie)."""
    token = secrets.token_urlsafe(32)
    _, absolute = _lifetimes(remember)
    now = utcnow()
    db.session.add(
        UserSession(
            user_id=user.id,
            token_hash=hash_token(token),
            remember=remember,
            ip_address=ip,
            user_agent=(user_agent or "")[:512] or None,
            created_at=now,
            last_seen_at=now,
            expires_at=now + absolute,
        )
    )
    user.current_session_token = token
    return token


# The member (with profile, settings and role: the layout shows the first two, and the key form
# offers scopes by role) comes in the same query as the session's few columns that the checks
# below need: the one query a page like /settings makes. The session row is not made an ORM
# object, which a page never changes. The statement is
# built once per process (at first use, once every domain's models are mapped): building it
# and its cache key on every request was a fifth of the query's cost.
@functools.cache
def _resolve_statement() -> sa.Select:
    return (
        sa.select(
            User,
            UserSession.id,
            UserSession.remember,
            UserSession.expires_at,
            UserSession.last_seen_at,
            UserSession.revoked_at,
        )
        .join(UserSession, UserSession.user_id == User.id)
        .where(UserSession.token_hash == sa.bindparam("token_hash"))
    )


def resolve(token: str) -> User | None:
    """The member behind a live session token, or None.

    Reading only: the use is noted in ``last_seen`` (not written to the row), so a GET makes no
    database write. A session found past its timeouts is marked revoked, once."""
    found = db.session.execute(_resolve_statement(), {"token_hash": hash_token(token)}).first()
    if found is None:
        return None
    user, session_id, remember, expires_at, seen, revoked_at = found
    if revoked_at is not None:
        return None
    now = utcnow()
    idle, _ = _lifetimes(remember)
    if now - seen > idle:
        seen = last_seen.seen_at(session_id, seen)  # the row may lag its latest uses
    if now >= expires_at or now - seen > idle:
        db.session.execute(sa.update(UserSession).where(UserSession.id == session_id).values(revoked_at=now))
        return None
    if not user.is_active or user.is_suspended:
        return None
    last_seen.note(session_id, seen, now)
    user.current_session_token = token
    return user


def revoke(token: str | None) -> None:
    """End one session (logout)."""
    if not token:
        return
    db.session.execute(
        sa.update(UserSession)
        .where(UserSession.token_hash == hash_token(token), UserSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def revoke_all(user_id: uuid.UUID, *, except_token: str | None = None) -> int:
    """End every session of a member but, optionally, the current one.

    Returns how many of them were still live (sessions already past their timeouts are
    revoked too, but the member never counted them as signed in).
    """
    now = utcnow()
    kept = hash_token(except_token) if except_token else None
    live = sum(1 for session in active(user_id, limit=None) if session.token_hash != kept)
    others = [UserSession.token_hash != kept] if kept else []
    where = [UserSession.user_id == user_id, UserSession.revoked_at.is_(None), *others]
    db.session.execute(sa.update(UserSession).where(*where).values(revoked_at=now))
    return live or 0


def _not_idle(now, slack: timedelta = timedelta(0)):
    """SQL for "seen recently enough": a session idle past its timeout is over even before
    its next request marks it revoked. ``slack`` widens the window by how far a row's
    ``last_seen_at`` may lag the uses noted in ``last_seen``."""
    config = current_app.config
    return sa.or_(
        sa.and_(
            UserSession.remember.is_(True), UserSession.last_seen_at >= now - config["REMEMBER_IDLE_TIMEOUT"] - slack
        ),
        sa.and_(
            UserSession.remember.is_(False), UserSession.last_seen_at >= now - config["SESSION_IDLE_TIMEOUT"] - slack
        ),
    )


def _live(user_id: uuid.UUID, now: datetime, slack: timedelta = timedelta(0)) -> tuple:
    """SQL for a member's live sessions: not revoked, expired or idle."""
    return (
        UserSession.user_id == user_id,
        UserSession.revoked_at.is_(None),
        UserSession.expires_at > now,
        _not_idle(now, slack),
    )


@dataclass(frozen=True)
class LiveSession:
    """A live session as the security page lists it; ``last_seen_at`` counts the uses that
    ``last_seen`` noted but has not written to the row yet."""

    id: uuid.UUID
    token_hash: str
    user_agent: str | None
    ip_address: str | None
    created_at: datetime
    last_seen_at: datetime


def active(user_id: uuid.UUID, limit: int | None = 50) -> list[LiveSession]:
    """The member's live sessions, most recently seen first."""
    now = utcnow()
    # A row lags its session's uses by up to a minute plus a flush interval, so the query lets
    # in rows that look idle by that much, and the noted uses decide.
    slack = last_seen.RESOLUTION + timedelta(seconds=2 * current_app.config["LAST_SEEN_FLUSH_SECONDS"])
    query = sa.select(UserSession).where(*_live(user_id, now, slack)).order_by(UserSession.last_seen_at.desc())
    rows = list(db.session.scalars(query.limit(limit)))
    noted = last_seen.pending(row.id for row in rows)
    live = []
    for row in rows:
        seen = max(row.last_seen_at, noted.get(row.id, row.last_seen_at))
        idle, _ = _lifetimes(row.remember)
        if now - seen <= idle:
            live.append(LiveSession(row.id, row.token_hash, row.user_agent, row.ip_address, row.created_at, seen))
    return sorted(live, key=lambda session: session.last_seen_at, reverse=True)


def active_count(user_id: uuid.UUID) -> int:
    """How many browsers the member is signed in on."""
    return len(active(user_id, limit=None))


def is_current(row: LiveSession | UserSession, token: str | None) -> bool:
    return token is not None and row.token_hash == hash_token(token)


def purge(before: datetime) -> int:
    """Delete session rows that ended (revoked or expired) before ``before``."""
    result = db.session.execute(
        sa.delete(UserSession).where(sa.or_(UserSession.revoked_at < before, UserSession.expires_at < before))
    )
    return result.rowcount or 0
