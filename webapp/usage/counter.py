"""Counting API calls without turning every request into a contended row update.

Each call adds to a buffer (a Redis hash when ``REDIS_URL`` is set, process memory otherwise).
The buffer is written to the database with one relative UPDATE/UPSERT per member-day and per
key (``usage_count = usage_count + n``) at most every ``USAGE_FLUSH_SECONDS``; with Redis the
write happens in an rq job guarded by a lock, so only one process flushes at a time.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from datetime import UTC, date, datetime
from typing import NamedTuple

import sqlalchemy as sa
from flask import current_app

from webapp import unit_of_work
from webapp.extensions import db
from webapp.jobs import enqueue, redis_connection
from webapp.timeutil import utcnow

CALLS_HASH = "folio:usage:api_calls"
KEY_USES_HASH = "folio:usage:key_uses"
KEY_LAST_HASH = "folio:usage:key_last"
FLUSH_LOCK = "folio:usage:flush_lock"
TODAY_PREFIX = "folio:usage:today:"  # + "<member>:<day>": the day's running count, for the quota


class _LocalBuffer:
    def __init__(self):
        self.lock = threading.Lock()
        self.calls: Counter[str] = Counter()
        self.key_uses: Counter[str] = Counter()
        self.key_last: dict[str, float] = {}
        self.today: Counter[str] = Counter()  # never drained: today's running count, for the quota
        self.last_flush = 0.0

    def drain(self):
        with self.lock:
            drained = (dict(self.calls), dict(self.key_uses), dict(self.key_last))
            self.calls.clear()
            self.key_uses.clear()
            self.key_last.clear()
            self.last_flush = time.monotonic()
            today = utcnow().date().isoformat()
            for field in [f for f in self.today if not f.endswith(today)]:
                del self.today[field]  # yesterday's running counts are done with
        return drained


_local = _LocalBuffer()


def record_api_call(user_id: uuid.UUID, api_key_id: uuid.UUID | None = None, plan: str | None = None) -> None:
    """Count one authenticated API call for today (and for the key that made it); past the
    plan's daily quota, 429 ``quota_exceeded`` (the refused call is counted too)."""
    today = utcnow().date()
    day_field = f"{user_id}:{today.isoformat()}"
    now = time.time()
    connection = redis_connection()
    if connection is not None:
        # One round trip: the counts, today's running total and the claim of the next flush
        # travel in one pipeline (no MULTI: each command is atomic on its own).
        interval = max(1, int(current_app.config["USAGE_FLUSH_SECONDS"]))
        pipe = connection.pipeline(transaction=False)
        pipe.incr(f"{TODAY_PREFIX}{day_field}")
        pipe.expire(f"{TODAY_PREFIX}{day_field}", 2 * 86_400)
        pipe.hincrby(CALLS_HASH, day_field, 1)
        if api_key_id:
            pipe.hincrby(KEY_USES_HASH, str(api_key_id), 1)
            pipe.hset(KEY_LAST_HASH, str(api_key_id), now)
        pipe.set(FLUSH_LOCK, 1, nx=True, ex=interval)
        answers = pipe.execute()
        calls_today, claimed_flush = answers[0], answers[-1]
        if current_app.config["USAGE_FLUSH_SECONDS"] == 0 or claimed_flush:
            # A refused call counts too: the flush is queued whether or not the request commits.
            unit_of_work.record_anyway(enqueue, flush)
    else:
        with _local.lock:
            _local.calls[day_field] += 1
            _local.today[day_field] += 1
            calls_today = _local.today[day_field]
            if api_key_id:
                _local.key_uses[str(api_key_id)] += 1
                _local.key_last[str(api_key_id)] = now
            due = time.monotonic() - _local.last_flush >= current_app.config["USAGE_FLUSH_SECONDS"]
        if due:  # once the request has ended, whichever way: a refused call counts too
            unit_of_work.record_anyway(flush)
    _hold_to_quota(user_id, plan, calls_today, today)


def _hold_to_quota(user_id: uuid.UUID, plan: str | None, calls_today: int, today: date) -> None:
    """Warn at 80 % and 100 % of the daily API-call quota, refuse past it. The running total is
    Redis's (or, without Redis, this process's) count of today's calls."""
    from webapp.usage.service import crossed_marks, plan_limits, raise_over, warn_if_crossed

    limit = plan_limits(plan)["api_calls"]
    if calls_today > limit:
        raise_over("api_calls", limit, calls_today - 1, today)
    # Only on the call that crosses a mark (an extra transaction on every call would cost the
    # hot path a round trip), and standing even when that call is refused and rolled back.
    if crossed_marks(calls_today - 1, calls_today, limit):
        unit_of_work.record_anyway(warn_if_crossed, user_id, "api_calls", calls_today - 1, calls_today, limit)


def pending_calls(user_id: uuid.UUID) -> int:
    """Today's calls still in the buffer, not yet in ``usage_metrics`` (read without draining)."""
    day_field = f"{user_id}:{utcnow().date().isoformat()}"
    connection = redis_connection()
    if connection is not None:
        return int(connection.hget(CALLS_HASH, day_field) or 0)
    with _local.lock:
        return _local.calls.get(day_field, 0)


class PendingUse(NamedTuple):
    """A key's calls that are buffered but not yet written to its row."""

    uses: int
    last_used_at: datetime | None


def pending_key_uses(key_ids: list[uuid.UUID]) -> dict[uuid.UUID, PendingUse]:
    """Buffered uses per key, read without draining: pages show current counts, and only the
    flush (one process at a time, under the Redis lock) ever writes them."""
    if not key_ids:
        return {}
    fields = [str(key_id) for key_id in key_ids]
    connection = redis_connection()
    if connection is not None:
        uses = [int(v) if v is not None else 0 for v in connection.hmget(KEY_USES_HASH, fields)]
        last = [float(v) if v is not None else None for v in connection.hmget(KEY_LAST_HASH, fields)]
    else:
        with _local.lock:
            uses = [_local.key_uses.get(field, 0) for field in fields]
            last = [_local.key_last.get(field) for field in fields]
    return {
        key_id: PendingUse(count, datetime.fromtimestamp(stamp, tz=UTC) if stamp is not None else None)
        for key_id, count, stamp in zip(key_ids, uses, last, strict=True)
        if count or stamp is not None
    }


def _drain_redis(connection):
    """Move the hashes aside atomically so increments that arrive meanwhile are kept."""
    suffix = uuid.uuid4().hex
    drained = []
    for name in (CALLS_HASH, KEY_USES_HASH, KEY_LAST_HASH):
        temp = f"{name}:flushing:{suffix}"
        try:
            connection.rename(name, temp)
        except Exception:  # the hash does not exist: nothing buffered
            drained.append({})
            continue
        values = {k.decode(): v.decode() for k, v in connection.hgetall(temp).items()}
        connection.delete(temp)
        drained.append(values)
    calls, uses, last = drained
    return (
        {k: int(v) for k, v in calls.items()},
        {k: int(v) for k, v in uses.items()},
        {k: float(v) for k, v in last.items()},
    )


def flush() -> None:
    """Write buffered counts to ``usage_metrics`` and ``api_keys`` (also an rq job)."""
    connection = redis_connection()
    calls, key_uses, key_last = _drain_redis(connection) if connection is not None else _local.drain()
    # Rows are locked in one order everywhere (keys, then usage days, each sorted), the order a
    # request's own writes take (a key's first-use claim, then its usage): two flushes, or a
    # flush and a claim, never wait on each other in a circle.
    for key_id, count in sorted(key_uses.items()):
        _add_key_uses(uuid.UUID(key_id), count, key_last.get(key_id))
    for field, count in sorted(calls.items()):
        user_id, day = field.split(":", 1)
        _add_api_calls(uuid.UUID(user_id), date.fromisoformat(day), count)


def _add_api_calls(user_id: uuid.UUID, day: date, count: int) -> None:
    from webapp.auth.models import User
    from webapp.usage.service import add_to_day

    # A member deleted since the call was buffered has no row to count against.
    if db.session.get(User, user_id) is not None:
        add_to_day(user_id, day, api_calls=count)


def _add_key_uses(key_id: uuid.UUID, count: int, last_used: float | None) -> None:
    from webapp.apikeys.models import ApiKey

    # updated_at keeps meaning "settings changed", not "was used".
    values: dict = {"usage_count": ApiKey.usage_count + count, "updated_at": ApiKey.updated_at}
    if last_used is not None:
        used_at = datetime.fromtimestamp(last_used, tz=UTC)
        values["last_used_at"] = sa.case(
            (ApiKey.last_used_at.is_(None), used_at),
            (ApiKey.last_used_at < used_at, used_at),
            else_=ApiKey.last_used_at,
        )
    db.session.execute(sa.update(ApiKey).where(ApiKey.id == key_id).values(**values))
