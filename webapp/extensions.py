"""Flask extensions, created without an app and bound in ``create_app``."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import sqlalchemy as sa
from flask import g, has_app_context, request
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from limits.storage import RedisStorage
from sqlalchemy.orm import DeclarativeBase, registry

from webapp.security import client_ip

# A fixed naming convention keeps constraint names identical on SQLite and PostgreSQL, so
# Alembic can drop and alter them by name on both.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(sa.types.TypeDecorator):
    """A timezone-aware UTC timestamp on every backend.

    SQLite drops the offset, so values are normalised to UTC on the way in and tagged as UTC
    on the way out; callers never see a naive datetime.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use webapp.timeutil.utcnow()")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    """Typed declarative base shared by every domain's models."""

    registry = registry(
        metadata=sa.MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: UTCDateTime()},
    )


class OneTripRedisStorage(RedisStorage):
    """Flask-Limiter's Redis storage, one round trip per limit hit instead of three.

    With headers on, Flask-Limiter follows each hit (an INCR script) with a GET and a TTL of
    the same key, to fill ``X-RateLimit-Remaining`` and ``-Reset``: three round trips per API
    call. Here the script returns the count and the TTL together, and the request remembers
    them (in ``g``), so the two reads that follow in the same request need no trip. Reads of a
    key this request did not hit go to Redis as before. Used for ``folio+redis://`` URIs
    (``RATELIMIT_STORAGE_URI`` defaults to ``REDIS_URL`` with that prefix)."""

    STORAGE_SCHEME = ["folio+redis", "folio+rediss"]
    SCRIPT_INCR_EXPIRE_TTL = """
local current = redis.call("incrby", KEYS[1], tonumber(ARGV[2]))
if tonumber(current) == tonumber(ARGV[2]) then
    redis.call("expire", KEYS[1], ARGV[1])
end
return {current, redis.call("ttl", KEYS[1])}
"""
    _MEMO = "limits_hit_this_request"

    def __init__(self, uri: str, **options) -> None:
        super().__init__(uri.removeprefix("folio+"), **options)

    def initialize_storage(self, uri: str) -> None:
        super().initialize_storage(uri)
        self.lua_incr_expire_ttl = self.get_connection().register_script(self.SCRIPT_INCR_EXPIRE_TTL)

    def _memo(self) -> dict[str, tuple[int, float]] | None:
        if not has_app_context():
            return None
        if self._MEMO not in g:
            setattr(g, self._MEMO, {})
        return getattr(g, self._MEMO)

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        current, ttl = self.lua_incr_expire_ttl([self.prefixed_key(key)], [expiry, amount])
        memo = self._memo()
        if memo is not None:
            memo[key] = (int(current), max(int(ttl), 0) + time.time())
        return int(current)

    def get(self, key: str) -> int:
        memo = self._memo()
        if memo is not None and key in memo:
            return memo[key][0]
        return super().get(key)

    def get_expiry(self, key: str) -> float:
        memo = self._memo()
        if memo is not None and key in memo:
            return memo[key][1]
        return super().get_expiry(key)

    def clear(self, key: str) -> None:
        memo = self._memo()
        if memo is not None:
            memo.pop(key, None)
        super().clear(key)

    def reset(self) -> int | None:
        memo = self._memo()
        if memo is not None:
            memo.clear()
        return super().reset()


def limit_in_views_only(app) -> None:
    """Evaluate rate limits once per request, in the limited view, not also before it.

    Flask-Limiter's ``before_request`` pass looks for default, application and blueprint
    limits; Folio declares none (every limit is on its route: ``endpoint(limit=...)``, the
    ``limiter.limit`` decorators, ``webapp.limits``), so that pass found nothing and cost a
    fifth of an API call's limiting. A request filter (public API) exempts the request until
    Folio's own ``before_request`` hook, registered after Flask-Limiter's and so run after it,
    marks it; the decorators then evaluate as before. Configuring a default or application limit
    would be ignored, so it stops the app instead."""
    for name in ("RATELIMIT_DEFAULT", "RATELIMIT_APPLICATION"):
        if app.config.get(name):
            raise RuntimeError(f"{name} is not supported: put the limit on the routes it is for.")

    @app.before_request
    def _views_are_limited():
        request.environ[_LIMITS_IN_VIEW] = True


_LIMITS_IN_VIEW = "folio.limits_in_view"

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=client_ip, default_limits=[], headers_enabled=True)


@limiter.request_filter
def _before_the_views() -> bool:
    """Exempt until the request reaches its view (``limit_in_views_only``)."""
    return _LIMITS_IN_VIEW not in request.environ


# --- Pooled connections: pinged only after sitting idle ---------------------------------------
# ``pool_pre_ping`` costs a round trip on every checkout, i.e. on every request. A connection
# that went back to the pool a moment ago is as alive as it was then; only one that sat idle
# (the server restarted, a proxy dropped it) is worth checking before a request trusts it.
# A failed ping raises DisconnectionError, so the pool throws the connection away and retries
# with a fresh one, as pre_ping does.
_CHECKED_IN_AT = "folio_checked_in_at"


def ping_after_idle(engine: sa.Engine, idle_seconds: float) -> None:
    """Ping ``engine``'s pooled connections at checkout when idle for ``idle_seconds`` or more."""

    @sa.event.listens_for(engine, "checkin")
    def _note_checkin(_dbapi_connection, record) -> None:
        record.info[_CHECKED_IN_AT] = time.monotonic()

    @sa.event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection, record, _proxy) -> None:
        checked_in = record.info.get(_CHECKED_IN_AT)
        if checked_in is None or time.monotonic() - checked_in < idle_seconds:
            return  # a new connection, or one used a moment ago
        try:
            if not engine.dialect.do_ping(dbapi_connection):
                raise sa.exc.DisconnectionError("ping failed")
        except sa.exc.DisconnectionError:
            raise
        except Exception as exc:
            if engine.dialect.is_disconnect(exc, dbapi_connection, None):
                raise sa.exc.DisconnectionError(str(exc)) from exc
            raise
