"""API keys: the one place that creates, changes, checks and deletes them.

Every function takes the owner; a key id that belongs to someone else is simply not found.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app

from webapp.api import scopes as scope_registry
from webapp.apikeys import keys
from webapp.apikeys.models import KEY_STATUSES, ApiKey
from webapp.auth.models import User
from webapp.errors import NotFound, Unauthorized, ValidationFailed, parse_uuid
from webapp.extensions import db
from webapp.notify import notify
from webapp.timeutil import utcnow

MAX_KEYS_PER_MEMBER = 50
MAX_RATE_LIMIT = 100_000


def _clean_name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("Give the key a name.")
    if len(value.strip()) > 200:
        raise ValueError("At most 200 characters.")
    return value.strip()


def _clean_permissions(value: Any, user: User) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError("Must be a list of scope names.")
    unknown = sorted(set(value) - set(scope_registry.SCOPES))
    if unknown:
        raise ValueError(f"Unknown scope: {', '.join(unknown)}.")
    not_allowed = sorted(set(value) - set(scope_registry.available_to(user)))
    if not_allowed:
        raise ValueError(f"Your role cannot grant: {', '.join(not_allowed)}.")
    if not value:
        raise ValueError("Choose at least one permission.")
    return [name for name in scope_registry.SCOPES if name in value]  # registry order, no repeats


def _clean_rate_limit(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("Must be a whole number.")
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValueError("Must be a whole number.") from None
    if not 1 <= number <= MAX_RATE_LIMIT:
        raise ValueError(f"Between 1 and {MAX_RATE_LIMIT:,} requests per hour.")
    return number


def _clean_expiry(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError("Use an ISO 8601 date-time, e.g. 2027-01-31T00:00:00Z.") from None
    if not isinstance(value, datetime):
        raise ValueError("Use an ISO 8601 date-time.")
    if value.tzinfo is None:
        raise ValueError("Include a time zone, e.g. 2027-01-31T00:00:00Z.")
    if value <= utcnow():
        raise ValueError("The expiry must be in the future.")
    return value


def _clean_status(value: Any) -> str:
    if value not in KEY_STATUSES:
        raise ValueError("Either 'active' or 'disabled'.")
    return value


RULES = {
    "name": _clean_name,
    "rate_limit": _clean_rate_limit,
    "expires_at": _clean_expiry,
    "status": _clean_status,
}


def _validate(
    user: User, changes: dict[str, Any], allowed: tuple[str, ...], required: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Clean every field, collecting all problems (missing ones too) into one 422."""
    cleaned: dict[str, Any] = {}
    errors = {name: ["This field is required."] for name in required if name not in changes}
    for name, value in changes.items():
        if name not in allowed:
            errors[name] = ["Unknown or read-only field."]
            continue
        try:
            cleaned[name] = _clean_permissions(value, user) if name == "permissions" else RULES[name](value)
        except ValueError as exc:
            errors[name] = [str(exc)]
    if errors:
        raise ValidationFailed("Some fields need your attention.", details=errors)
    return cleaned


def list_keys(user: User) -> list[ApiKey]:
    """The member's keys, newest first (at most ``MAX_KEYS_PER_MEMBER`` exist)."""
    from webapp.usage.counter import flush

    flush()  # show usage counts as of now, not as of the last periodic flush
    query = sa.select(ApiKey).where(ApiKey.user_id == user.id).order_by(ApiKey.created_at.desc())
    return list(db.session.scalars(query))


def get_key(user: User, key_id: uuid.UUID | str) -> ApiKey:
    """The member's key with this id, or ``NotFound`` (also for other members' keys)."""
    key_uuid = parse_uuid(key_id, "No such API key.")
    key = db.session.scalar(sa.select(ApiKey).where(ApiKey.id == key_uuid, ApiKey.user_id == user.id))
    if key is None:
        raise NotFound("No such API key.")
    return key


def create_key(user: User, data: dict[str, Any]) -> tuple[ApiKey, str]:
    """A new key and its secret, which is shown once and never stored."""
    data = {"rate_limit": 1000, **data}
    cleaned = _validate(
        user, data, ("name", "permissions", "rate_limit", "expires_at"), required=("name", "permissions")
    )
    count = db.session.scalar(sa.select(sa.func.count()).where(ApiKey.user_id == user.id))
    if count >= MAX_KEYS_PER_MEMBER:
        raise ValidationFailed(f"You can have at most {MAX_KEYS_PER_MEMBER} keys. Delete one first.")
    secret = keys.generate()
    key = ApiKey(
        user_id=user.id,
        key_hash=keys.digest(secret),
        key_prefix=keys.PREFIX,
        last_four=keys.last_four(secret),
        **cleaned,
    )
    db.session.add(key)
    db.session.commit()
    return key, secret


def update_key(user: User, key_id: uuid.UUID | str, changes: dict[str, Any]) -> ApiKey:
    """Rename, change permissions, rate limit or expiry, disable or enable."""
    key = get_key(user, key_id)
    cleaned = _validate(user, changes, ("name", "permissions", "rate_limit", "expires_at", "status"))
    for name, value in cleaned.items():
        setattr(key, name, value)
    if "expires_at" in cleaned:
        key.expiry_notified_at = None
    db.session.commit()
    return key


def regenerate_key(user: User, key_id: uuid.UUID | str) -> tuple[ApiKey, str]:
    """A new secret for the same key; the old secret stops working immediately."""
    key = get_key(user, key_id)
    secret = keys.generate()
    key.key_hash, key.last_four = keys.digest(secret), keys.last_four(secret)
    db.session.commit()
    return key, secret


def delete_key(user: User, key_id: uuid.UUID | str) -> None:
    db.session.delete(get_key(user, key_id))
    db.session.commit()


def authenticate(secret: str) -> ApiKey:
    """The active key behind ``secret``; malformed keys are refused without a query."""
    if not keys.looks_valid(secret):
        raise Unauthorized("The API key is malformed.", code="unauthorized")
    key = db.session.scalar(sa.select(ApiKey).where(ApiKey.key_hash == keys.digest(secret)))
    if key is None:
        raise Unauthorized("The API key is not valid.", code="unauthorized")
    if key.status != "active":
        raise Unauthorized("This API key is disabled.", code="key_revoked")
    if key.is_expired():
        raise Unauthorized("This API key has expired.", code="key_expired")
    _announce(key)
    return key


def _announce(key: ApiKey) -> None:
    """First use and coming expiry are told to the owner once each (atomic claim)."""
    now = utcnow()
    if key.last_used_at is None and key.usage_count == 0:
        claimed = db.session.execute(
            sa.update(ApiKey)
            .where(ApiKey.id == key.id, ApiKey.last_used_at.is_(None))
            .values(last_used_at=now, updated_at=ApiKey.updated_at)
        ).rowcount
        db.session.commit()
        if claimed:
            notify(
                key.user_id,
                "API key used for the first time",
                f"Your key “{key.name}” ({key.masked}) was just used for the first time.",
                category="security",
                metadata={"api_key_id": str(key.id)},
            )
    warn_days = current_app.config["API_KEY_EXPIRY_WARNING_DAYS"]
    if key.expires_at and key.expiry_notified_at is None and key.expires_at - now <= timedelta(days=warn_days):
        announce_expiring([key.id])


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
    db.session.commit()
    return count
