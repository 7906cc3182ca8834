"""API keys: the one place that creates, changes, checks and deletes them.

Every function takes the owner; a key id that belongs to someone else is simply not found.
"""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app

from webapp import unit_of_work
from webapp.apikeys import keys, schemas
from webapp.apikeys.models import ApiKey
from webapp.auth.models import User
from webapp.errors import Forbidden, NotFound, Unauthorized, ValidationFailed, parse_uuid
from webapp.extensions import db
from webapp.notify import notify
from webapp.timeutil import utcnow
from webapp.usage import counter as usage_counter

MAX_KEYS_PER_MEMBER = 50
DEFAULT_RATE_LIMIT = 1000


@dataclass(frozen=True)
class Ceiling:
    """What an API key calling these functions holds, and so the most it may hand out.

    Without a ceiling (pages, sessions, access tokens) the member's role is the only limit;
    with one, a ``keys:manage`` key cannot mint or widen a key beyond its own scopes and rate.
    """

    scopes: frozenset[str]
    rate_limit: int
    expires_at: datetime | None = None


def _within(
    ceiling: Ceiling | None,
    permissions: list[str] | None,
    rate_limit: int | None,
    expiry: tuple[bool, datetime | None] = (False, None),
) -> None:
    """403 when a key would hand out a scope it lacks, a rate above its own, or a key that
    outlives it. ``expiry`` is (whether an expiry is being set, the expiry)."""
    if ceiling is None:
        return
    setting_expiry, expires_at = expiry
    if setting_expiry and ceiling.expires_at is not None and (expires_at is None or expires_at > ceiling.expires_at):
        raise Forbidden(
            "This key expires, so it cannot grant a key that outlives it.",
            details={"expires_at": [f"At the latest {ceiling.expires_at.isoformat()}, when the calling key expires."]},
        )
    beyond = [name for name in permissions or [] if name not in ceiling.scopes]
    if beyond:
        raise Forbidden(
            f"This key lacks the '{beyond[0]}' scope, so it cannot grant it.",
            code="insufficient_scope",
            details={"required_scope": beyond[0], "permissions": [f"Not held by this key: {', '.join(beyond)}."]},
        )
    if rate_limit is not None and rate_limit > ceiling.rate_limit:
        raise Forbidden(
            f"This key's own rate limit is {ceiling.rate_limit:,} per hour; it cannot grant more.",
            details={"rate_limit": [f"At most {ceiling.rate_limit:,}, the calling key's own limit."]},
        )


def list_keys(user: User, *, limit: int, offset: int = 0) -> tuple[list[ApiKey], int]:
    """One window of the member's keys, newest first, and how many there are; uses still in
    the buffer are counted in (nothing is written)."""
    query = sa.select(ApiKey).where(ApiKey.user_id == user.id)
    query = query.order_by(ApiKey.created_at.desc(), ApiKey.id).limit(limit).offset(offset)
    return _with_pending(list(db.session.scalars(query))), count_keys(user)


def count_keys(user: User) -> int:
    """How many keys the member has, whatever their status."""
    return db.session.scalar(sa.select(sa.func.count()).where(ApiKey.user_id == user.id)) or 0


def _with_pending(found: list[ApiKey]) -> list[ApiKey]:
    """Count in the uses still in the buffer, so every answer shows the same, current numbers."""
    pending = usage_counter.pending_key_uses([key.id for key in found])
    for key in found:
        if key.id in pending:
            key.pending_uses, key.pending_last_used_at = pending[key.id]
    return found


def get_key(user: User, key_id: uuid.UUID | str) -> ApiKey:
    """The member's key with this id, or ``NotFound`` (also for other members' keys)."""
    key_uuid = parse_uuid(key_id, "No such API key.")
    key = db.session.scalar(sa.select(ApiKey).where(ApiKey.id == key_uuid, ApiKey.user_id == user.id))
    if key is None:
        raise NotFound("No such API key.")
    return _with_pending([key])[0]


def create_key(user: User, data: dict[str, Any], ceiling: Ceiling | None = None) -> tuple[ApiKey, str]:
    """A new key and its secret, which is shown once and never stored."""
    defaults = {"rate_limit": min(DEFAULT_RATE_LIMIT, ceiling.rate_limit) if ceiling else DEFAULT_RATE_LIMIT}
    if ceiling and ceiling.expires_at:
        defaults["expires_at"] = ceiling.expires_at.isoformat()  # a key's keys expire with it
    cleaned = schemas.KeyCreation.clean({**defaults, **data}, context={"member": user})
    _within(ceiling, cleaned["permissions"], cleaned["rate_limit"], (True, cleaned.get("expires_at")))
    # The cap holds under concurrent requests: on PostgreSQL the member's row is locked, so their
    # creations run one at a time; SQLite ignores FOR UPDATE but lets one writer in at a time,
    # and the insert comes before the count, so the count runs under its write lock.
    db.session.execute(sa.select(User.id).where(User.id == user.id).with_for_update(key_share=True))
    secret = keys.generate()
    key = ApiKey(
        user_id=user.id,
        key_hash=keys.digest(secret),
        key_prefix=keys.PREFIX,
        last_four=keys.last_four(secret),
        **cleaned,
    )
    # The insert and the count run in a savepoint, so a refusal undoes the insert alone; the
    # lock above is the outer transaction's and holds until the request commits or rolls back.
    with db.session.begin_nested():
        db.session.add(key)
        db.session.flush()
        if count_keys(user) > MAX_KEYS_PER_MEMBER:
            raise ValidationFailed(f"You can have at most {MAX_KEYS_PER_MEMBER} keys. Delete one first.")
    return key, secret


def update_key(user: User, key_id: uuid.UUID | str, changes: dict[str, Any], ceiling: Ceiling | None = None) -> ApiKey:
    """Rename, change permissions, rate limit or expiry, disable or enable.

    With a ceiling, both the values given and the key that results must be within it."""
    key = get_key(user, key_id)
    cleaned = schemas.KeyChanges.clean(changes, context={"member": user})
    _within(
        ceiling,
        cleaned.get("permissions"),
        cleaned.get("rate_limit"),
        ("expires_at" in cleaned, cleaned.get("expires_at")),
    )
    result = {name: cleaned.get(name, getattr(key, name)) for name in ("status", "permissions", "rate_limit")}
    result["expires_at"] = cleaned["expires_at"] if "expires_at" in cleaned else key.expires_at
    if result["status"] == "active":
        # What matters is the key that results: a narrow key may rename or disable a stronger
        # one, but not re-enable it or extend its life. Checked before anything changes, so a
        # refusal leaves the key as it was.
        _within(ceiling, result["permissions"], result["rate_limit"], (True, result["expires_at"]))
    for name, value in cleaned.items():
        setattr(key, name, value)
    if "expires_at" in cleaned:
        key.expiry_notified_at = None
    return key


def toggle_status(user: User, key_id: uuid.UUID | str) -> ApiKey:
    """Disable an active key (it stops working at once) or enable a disabled one."""
    key = get_key(user, key_id)
    key.status = "disabled" if key.status == "active" else "active"
    return key


def regenerate_key(user: User, key_id: uuid.UUID | str, ceiling: Ceiling | None = None) -> tuple[ApiKey, str]:
    """A new secret for the same key; the old secret stops working immediately.

    The caller receives the key's full power, so a key may only regenerate keys within its own.
    """
    key = get_key(user, key_id)
    _within(ceiling, key.permissions, key.rate_limit, (True, key.expires_at))
    secret = keys.generate()
    key.key_hash, key.last_four = keys.digest(secret), keys.last_four(secret)
    db.session.flush()
    return key, secret


def delete_key(user: User, key_id: uuid.UUID | str) -> str:
    """Delete the key at once; its name is returned for the confirmation."""
    key = get_key(user, key_id)
    name = key.name
    db.session.delete(key)
    db.session.flush()
    return name


def revoke_all(user: User) -> int:
    """Disable every working key of the member at once and tell them; returns how many.

    For the "someone else may have my password" moment after a reset: whoever had it may have
    made or copied keys, and keys outlive password changes. Disabled keys stop working at the
    next call; the owner can see them on the keys page and regenerate the ones to keep."""
    now = utcnow()
    working = sa.or_(ApiKey.expires_at.is_(None), ApiKey.expires_at > now)
    count = db.session.execute(
        sa.update(ApiKey)
        .where(ApiKey.user_id == user.id, ApiKey.status == "active", working)
        .values(status="disabled", updated_at=now)
        .execution_options(synchronize_session="fetch")
    ).rowcount
    if count:
        notify(
            user.id,
            "API keys revoked",
            f"{count} of your API keys {'were' if count != 1 else 'was'} revoked after your password reset; apps "
            "using them stop working. Regenerate the ones you still need on the API keys page.",
            type="warning",
            category="security",
            action_url="/settings/api-keys",
        )
    return count


class KeyInUse(NamedTuple):
    """What an API call needs of the key it presents, read as plain columns: a call never
    changes its key's row (uses are counted in ``webapp.usage.counter``)."""

    id: uuid.UUID
    user_id: uuid.UUID
    name: str
    key_prefix: str
    last_four: str
    status: str
    permissions: list[str]
    rate_limit: int
    usage_count: int
    last_used_at: datetime | None
    expires_at: datetime | None
    expiry_notified_at: datetime | None

    def is_expired(self, now: datetime | None = None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or utcnow())

    @property
    def masked(self) -> str:
        return f"{self.key_prefix}…{self.last_four}"


# The owner (with the profile) comes in the same query as the key's columns: one round trip
# per API call. Settings and role load only when a route asks for them (a list's page size, a
# staff permission). Built once per process, at first use (once every model is mapped).
@functools.cache
def _authenticate_statement() -> sa.Select:
    return (
        sa.select(User, *(getattr(ApiKey, name) for name in KeyInUse._fields))
        .select_from(ApiKey)
        .join(User, User.id == ApiKey.user_id)
        .where(ApiKey.key_hash == sa.bindparam("key_hash"))
        .options(so.lazyload(User.role), so.lazyload(User.settings))
    )


def authenticate(secret: str) -> tuple[KeyInUse, User]:
    """The active key behind ``secret`` and its owner; malformed keys are refused without a query."""
    if not keys.looks_valid(secret):
        raise Unauthorized("The API key is malformed.", code="unauthorized")
    found = db.session.execute(_authenticate_statement(), {"key_hash": keys.digest(secret)}).first()
    if found is None:
        raise Unauthorized("The API key is not valid.", code="unauthorized")
    owner, *columns = found
    key = KeyInUse(*columns)
    if key.status != "active":
        raise Unauthorized("This API key is disabled.", code="key_revoked")
    if key.is_expired():
        raise Unauthorized("This API key has expired.", code="key_expired")
    _announce(key)
    return key, owner


def _announce(key: KeyInUse) -> None:
    """First use and coming expiry are told to the owner once each (atomic claims). The claims
    stand even when this call is then refused (a missing scope, a bad body), so a refused first
    call is not announced again by the next one."""
    now = utcnow()
    if key.last_used_at is None and key.usage_count == 0:
        unit_of_work.record_anyway(_claim_first_use, key.id, key.user_id, f"“{key.name}” ({key.masked})")
    warn_days = current_app.config["API_KEY_EXPIRY_WARNING_DAYS"]
    if key.expires_at and key.expiry_notified_at is None and key.expires_at - now <= timedelta(days=warn_days):
        unit_of_work.record_anyway(announce_expiring, [key.id])


def _claim_first_use(key_id: uuid.UUID, user_id: uuid.UUID, label: str) -> None:
    claimed = db.session.execute(
        sa.update(ApiKey)
        .where(ApiKey.id == key_id, ApiKey.last_used_at.is_(None))
        .values(last_used_at=utcnow(), updated_at=ApiKey.updated_at)
    ).rowcount
    if claimed:
        notify(
            user_id,
            "API key used for the first time",
            f"Your key {label} was just used for the first time.",
            category="security",
            metadata={"api_key_id": str(key_id)},
        )


def announce_expiring(key_ids: list[uuid.UUID] | None = None) -> int:
    """Warn owners of keys that expire within the warning window (job or CLI; idempotent)."""
    now = utcnow()
    horizon = now + timedelta(days=current_app.config["API_KEY_EXPIRY_WARNING_DAYS"])
    query = sa.select(ApiKey).where(
        ApiKey.expires_at.is_not(None),
        ApiKey.expires_at > now,
        ApiKey.expires_at <= horizon,
        ApiKey.expiry_notified_at.is_(None),
        ApiKey.status == "active",
    )
    if key_ids is not None:
        query = query.where(ApiKey.id.in_(key_ids))
    count = 0
    for key in db.session.scalars(query.limit(1000)):
        claimed = db.session.execute(
            sa.update(ApiKey)
            .where(ApiKey.id == key.id, ApiKey.expiry_notified_at.is_(None))
            .values(expiry_notified_at=now, updated_at=ApiKey.updated_at)
        ).rowcount
        if claimed:
            days = max(0, (key.expires_at - now).days)
            notify(
                key.user_id,
                "API key expires soon",
                f"Your key “{key.name}” ({key.masked}) expires in {days} day{'s' if days != 1 else ''}.",
                type="warning",
                category="security",
                action_url="/settings/api-keys",
                metadata={"api_key_id": str(key.id)},
            )
            count += 1
    return count
