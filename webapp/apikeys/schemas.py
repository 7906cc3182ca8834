"""API keys: what creating and changing one accepts, and what the API shows of a key (never
its secret, except once at creation)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import Field, ValidationInfo

from webapp import rules
from webapp.api import scopes as scope_registry
from webapp.apikeys.models import KEY_STATUSES, ApiKey
from webapp.contracts import Contract, OptionalTimestamp, Reply, Timestamp
from webapp.pagination import ListQuery
from webapp.timeutil import utcnow

MAX_RATE_LIMIT = 100_000
MAX_LIFETIME = timedelta(days=5 * 365 + 1)  # five years, a leap day included


def _permissions(value: Any, info: ValidationInfo) -> list[str]:
    """Scope names from the registry that the member's role may grant, in registry order."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError("Must be a list of scope names.")
    unknown = sorted(set(value) - set(scope_registry.SCOPES))
    if unknown:
        raise ValueError(f"Unknown scope: {', '.join(unknown)}.")
    not_allowed = sorted(set(value) - set(scope_registry.available_to(rules.context(info, "member"))))
    if not_allowed:
        raise ValueError(f"Your role cannot grant: {', '.join(not_allowed)}.")
    if not value:
        raise ValueError("Choose at least one permission.")
    return [name for name in scope_registry.SCOPES if name in value]  # no repeats


def _scopes_schema() -> dict[str, Any]:
    return {
        "type": "array",
        "items": {"type": "string", "enum": list(scope_registry.SCOPES)},
        "minItems": 1,
        "description": "Scopes; staff scopes need a staff role",
    }


Permissions = rules.rule(_permissions, _scopes_schema)


def _expiry(value: Any) -> datetime | None:
    """A moment in the next five years, or null for a key that never expires."""
    moment = rules.date_time(value)
    if moment is None:
        return None
    now = utcnow()
    if moment <= now:
        raise ValueError("The expiry must be in the future.")
    if moment - now > MAX_LIFETIME:  # aware subtraction never builds a datetime, so it cannot overflow
        raise ValueError(f"At most five years from now (by {(now + MAX_LIFETIME):%Y-%m-%d}).")
    return moment


Expiry = rules.rule(
    _expiry,
    {
        "type": ["string", "null"],
        "format": "date-time",
        "description": "When the key stops working, within five years; null for never",
    },
)
Name = rules.Text(200, required=True)
RateLimit = rules.Integer(1, MAX_RATE_LIMIT, description="Requests per hour")


class KeyCreation(Contract):
    """A new key; needs the member in the context (``context={"member": user}``)."""

    name: Name
    permissions: Permissions
    rate_limit: RateLimit = None
    expires_at: Expiry = None


class KeyChanges(Contract):
    name: Name = None
    permissions: Permissions = None
    rate_limit: RateLimit = None
    expires_at: Expiry = None
    status: rules.Choice(KEY_STATUSES, description="Your switch; an expired key says so itself") = None


class KeyListQuery(ListQuery):
    pass


class KeyReply(Reply):
    id: str = Field(json_schema_extra={"format": "uuid"})
    name: str
    key_prefix: str
    last_four: str
    status: Literal["active", "disabled", "expired"]
    permissions: list[str] = Field(description="Scopes, as listed in x-scopes")
    rate_limit: int = Field(description="Requests per hour")
    usage_count: int
    last_used_at: OptionalTimestamp
    expires_at: OptionalTimestamp
    created_at: Timestamp
    updated_at: Timestamp


class NewKeyReply(KeyReply):
    key: str = Field(description="The secret, shown this once")


def _iso(value):
    return value.isoformat() if value else None


def key_json(key: ApiKey, secret: str | None = None) -> dict[str, Any]:
    data = {
        "id": str(key.id),
        "name": key.name,
        "key_prefix": key.key_prefix,
        "last_four": key.last_four,
        "status": key.display_status,
        "permissions": list(key.permissions or []),
        "rate_limit": key.rate_limit,
        "usage_count": key.current_usage_count,
        "last_used_at": _iso(key.current_last_used_at),
        "expires_at": _iso(key.expires_at),
        "created_at": _iso(key.created_at),
        "updated_at": _iso(key.updated_at),
    }
    if secret is None:
        return KeyReply.of(data)
    return NewKeyReply.of({**data, "key": secret})
