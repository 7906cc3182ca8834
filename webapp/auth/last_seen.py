"""When each browser session was last used, kept without a database write on every page view.

A signed-in request notes its session's use here at most once a ``RESOLUTION`` (a minute):
in a Redis hash when ``REDIS_URL`` is set, in process memory otherwise. ``flush`` moves the
notes to ``user_sessions.last_seen_at`` (a periodic job every ``LAST_SEEN_FLUSH_SECONDS``, and
with Redis also an rq job queued when a note finds no flush claimed for that interval), so a
GET never writes a row. What reads "last seen" takes the notes into account, so it stays true
between flushes: the idle timeout (``sessions.resolve``) and the sessions list on the security
page (``sessions.active``).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from webapp import unit_of_work
from webapp.extensions import db
from webapp.jobs import enqueue, redis_connection

RESOLUTION = timedelta(minutes=1)
SEEN_HASH = "folio:sessions:last_seen"
FLUSH_LOCK = "folio:sessions:last_seen:flush_lock"
_MEMO_LIMIT = 10_000  # sessions this process remembers noting; forgotten all at once past it

_lock = threading.Lock()
_pending: dict[str, float] = {}  # without Redis: session id -> when it was last used
_noted: dict[str, datetime] = {}  # this process: session id -> the use it last noted


def note(session_id: uuid.UUID, stored: datetime, now: datetime) -> None:
    """Remember that the session was used ``now``; ``stored`` is its row's ``last_seen_at``.

    Nothing happens when the row, or this process's last note, is less than a ``RESOLUTION``
    old: a member's page views cost one Redis write a minute per process, not one per view."""
    key = str(session_id)
    if now - stored < RESOLUTION:
        return
    connection = redis_connection()
    with _lock:
        noted = _noted.get(key)
        if noted is not None and now - noted < RESOLUTION:
            return
        if len(_noted) >= _MEMO_LIMIT:
            _noted.clear()
        _noted[key] = now
        if connection is None:
            _pending[key] = max(_pending.get(key, 0.0), now.timestamp())
            return
    interval = max(1, int(current_app.config["LAST_SEEN_FLUSH_SECONDS"]))
    pipe = connection.pipeline(transaction=False)  # one round trip
    pipe.hset(SEEN_HASH, key, now.timestamp())
    pipe.set(FLUSH_LOCK, 1, nx=True, ex=interval)
    if pipe.execute()[-1]:
        # A worker writes the notes; the request itself writes nothing, whatever its answer.
        unit_of_work.record_anyway(enqueue, flush)


def pending(session_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, datetime]:
    """Uses noted but not yet written, per session (read without draining)."""
    ids = list(session_ids)
    if not ids:
        return {}
    fields = [str(session_id) for session_id in ids]
    connection = redis_connection()
    if connection is not None:
        stamps = [float(v) if v is not None else None for v in connection.hmget(SEEN_HASH, fields)]
    else:
        with _lock:
            stamps = [_pending.get(field) for field in fields]
    return {
        session_id: datetime.fromtimestamp(stamp, tz=UTC)
        for session_id, stamp in zip(ids, stamps, strict=True)
        if stamp is not None
    }


def seen_at(session_id: uuid.UUID, stored: datetime) -> datetime:
    """The session's last use: its row's value, or a later one noted since."""
    noted = pending([session_id]).get(session_id)
    return max(stored, noted) if noted else stored


def _drain() -> dict[str, float]:
    connection = redis_connection()
    if connection is None:
        with _lock:
            drained = dict(_pending)
            _pending.clear()
        return drained
    # Moved aside atomically, so notes that arrive meanwhile wait for the next flush.
    temp = f"{SEEN_HASH}:flushing:{uuid.uuid4().hex}"
    try:
        connection.rename(SEEN_HASH, temp)
    except Exception:  # the hash does not exist: nothing noted
        return {}
    values = {k.decode(): float(v) for k, v in connection.hgetall(temp).items()}
    connection.delete(temp)
    return values


def flush() -> int:
    """Write the noted uses to ``user_sessions.last_seen_at`` (never backwards); how many."""
    from webapp.auth.models import UserSession

    drained = _drain()
    for key, stamp in sorted(drained.items()):  # one lock order: two flushes never deadlock
        seen = datetime.fromtimestamp(stamp, tz=UTC)
        db.session.execute(
            sa.update(UserSession)
            .where(UserSession.id == uuid.UUID(key), UserSession.last_seen_at < seen)
            .values(last_seen_at=seen)
        )
    return len(drained)
