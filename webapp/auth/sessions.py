"""Server-side browser sessions: each sign-in is a row, so it can be listed and revoked.

The cookie carries a random token; the database keeps only its SHA-256. A session ends when
it is revoked, idle for too long, or past its absolute lifetime ("remember me" extends both).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from webapp.auth.models import User, UserSession
from webapp.extensions import db
from webapp.timeutil import utcnow

# Writing last_seen_at on every request would make each page view a row update.
LAST_SEEN_RESOLUTION = timedelta(minutes=1)


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


# The member (with profile, settings and role) comes in the same query as the session row:
# every signed-in page needs both, and this is the one query a page like /settings makes. The
# statement is built once per process: building it and its cache key on every request was a
# fifth of the query's cost.
_RESOLVE = (
    sa.select(UserSession, User)
    .join(User, User.id == UserSession.user_id)
    .where(UserSession.token_hash == sa.bindparam("token_hash"))
)


def resolve(token: str) -> User | None:
    """The member behind a live session token, or None; touches ``last_seen_at`` sparingly."""
    found = db.session.execute(_RESOLVE, {"token_hash": hash_token(token)}).first()
    if found is None:
        return None
    row, user = found
    if row.revoked_at is not None:
        return None
    now = utcnow()
    idle, _ = _lifetimes(row.remember)
    if now >= row.expires_at or now - row.last_seen_at > idle:
        row.revoked_at = now
        return None
    if not user.is_active or user.is_suspended:
        return None
    if now - row.last_seen_at >= LAST_SEEN_RESOLUTION:
        row.last_seen_at = now
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
    others = [UserSession.token_hash != hash_token(except_token)] if except_token else []
    live = db.session.scalar(sa.select(sa.func.count()).select_from(UserSession).where(*_live(user_id, now), *others))
    where = [UserSession.user_id == user_id, UserSession.revoked_at.is_(None), *others]
    db.session.execute(sa.update(UserSession).where(*where).values(revoked_at=now))
    return live or 0


def _not_idle(now):
    """SQL for "seen recently enough": a session idle past its timeout is over even before
    its next request marks it revoked."""
    config = current_app.config
    return sa.or_(
        sa.and_(UserSession.remember.is_(True), UserSession.last_seen_at >= now - config["REMEMBER_IDLE_TIMEOUT"]),
        sa.and_(UserSession.remember.is_(False), UserSession.last_seen_at >= now - config["SESSION_IDLE_TIMEOUT"]),
    )


def _live(user_id: uuid.UUID, now: datetime) -> tuple:
    """SQL for a member's live sessions: not revoked, expired or idle."""
    return (
        UserSession.user_id == user_id,
        UserSession.revoked_at.is_(None),
        UserSession.expires_at > now,
        _not_idle(now),
    )


def active(user_id: uuid.UUID, limit: int = 50) -> list[UserSession]:
    """The member's live sessions, most recently seen first."""
    query = sa.select(UserSession).where(*_live(user_id, utcnow())).order_by(UserSession.last_seen_at.desc())
    return list(db.session.scalars(query.limit(limit)))


def active_count(user_id: uuid.UUID) -> int:
    """How many browsers the member is signed in on."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(UserSession).where(*_live(user_id, utcnow()))) or 0


def is_current(row: UserSession, token: str | None) -> bool:
    return token is not None and row.token_hash == hash_token(token)


def purge(before: datetime) -> int:
    """Delete session rows that ended (revoked or expired) before ``before``."""
    result = db.session.execute(
        sa.delete(UserSession).where(sa.or_(UserSession.revoked_at < before, UserSession.expires_at < before))
    )
    return result.rowcount or 0
