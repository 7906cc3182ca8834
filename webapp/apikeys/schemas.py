"""The JSON shape of an API key (never its secret, except once at creation)."""

from __future__ import annotations

from typing import Any

from webapp.apikeys.models import ApiKey

_DT = {"type": ["string", "null"], "format": "date-time"}
# Resolved by webapp.api.openapi to the scope registry as it stands when the document is built,
# so scopes that later domains register are listed without touching this module.
SCOPE_REF = {"$ref": "#/components/schemas/Scope"}

KEY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "name": {"type": "string"},
        "key_prefix": {"type": "string"},
        "last_four": {"type": "string"},
        "status": {"type": "string", "enum": ["active", "disabled", "expired"]},
        "permissions": {"type": "array", "items": SCOPE_REF},
        "rate_limit": {"type": "integer", "description": "Requests per hour"},
        "usage_count": {"type": "integer"},
        "last_used_at": _DT,
        "expires_at": _DT,
        "created_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": "string", "format": "date-time"},
    },
}
KEY_WITH_SECRET_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {**KEY_SCHEMA["properties"], "key": {"type": "string", "description": "Shown once"}},
}
KEY_LIST_SCHEMA: dict[str, Any] = {"type": "array", "items": KEY_SCHEMA}
_WRITABLE = {
    "name": {"type": "string", "minLength": 1, "maxLength": 200},
    "permissions": {
        "type": "array",
        "items": SCOPE_REF,
        "minItems": 1,
        "description": "Scopes; staff scopes need a staff role",
    },
    "rate_limit": {"type": "integer", "minimum": 1, "maximum": 100000},
    "expires_at": _DT,
}
CREATE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["name", "permissions"],
    "properties": _WRITABLE,
    "additionalProperties": False,
}
UPDATE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {**_WRITABLE, "status": {"type": "string", "enum": ["active", "disabled"]}},
    "additionalProperties": False,
}


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
    if secret is not None:
        data["key"] = secret
    return data
