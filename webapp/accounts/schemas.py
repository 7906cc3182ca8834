"""JSON shapes of profiles, CVs and settings: serializers and their JSON Schemas."""

from __future__ import annotations

from typing import Any

from webapp import storage
from webapp.accounts import validation
from webapp.accounts.models import Profile

_STR = {"type": ["string", "null"]}
_BOOL = {"type": "boolean"}
_MONEY = {
    "type": ["integer", "null"],
    "minimum": 0,
    "maximum": validation.MAX_MONEY_CENTS,
    "description": "Amount in cents",
}

PROFILE_WRITABLE: dict[str, Any] = {
    "first_name": {**_STR, "maxLength": 100},
    "last_name": {**_STR, "maxLength": 100},
    "phone": {**_STR, "description": "E.164, e.g. +14155550123"},
    "bio": {**_STR, "maxLength": 2000},
    "company": {**_STR, "maxLength": 200},
    "job_title": {**_STR, "maxLength": 200},
    "location": {**_STR, "maxLength": 200},
    "website": {**_STR, "format": "uri"},
    "linkedin_username": _STR,
    "github_username": _STR,
    "twitter_username": _STR,
    "timezone": {"type": "string", "description": "IANA time zone"},
    "language": {"type": "string", "enum": list(validation.LANGUAGES)},
    "public_profile": _BOOL,
    "email_notifications": _BOOL,
    "marketing_emails": _BOOL,
    "slug": {"type": "string", "pattern": validation.SLUG_RE.pattern},
    "display_name": {"type": "string", "minLength": 1, "maxLength": 100},
    "categories": {"type": "array", "items": {"type": "string", "maxLength": 40}, "maxItems": 10},
    "budget_min": _MONEY,
    "budget_max": _MONEY,
}

CV_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "headline": {"type": "string", "maxLength": 200},
        "experience": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["title", "company", "start"],
                "properties": {
                    "title": {"type": "string"},
                    "company": {"type": "string"},
                    "start": {"type": "string", "pattern": r"^\d{4}-\d{2}$"},
                    "end": {"type": ["string", "null"], "pattern": r"^\d{4}-\d{2}$"},
                    "description": {"type": ["string", "null"]},
                },
            },
        },
        "education": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["school"],
                "properties": {
                    "school": {"type": "string"},
                    "degree": {"type": ["string", "null"]},
                    "start": {"type": ["string", "null"]},
                    "end": {"type": ["string", "null"]},
                },
            },
        },
        "skills": {"type": "array", "items": {"type": "string"}},
        "links": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["label", "url"],
                "properties": {"label": {"type": "string"}, "url": {"type": "string", "format": "uri"}},
            },
        },
    },
}

PROFILE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "user_id": {"type": "string", "format": "uuid"},
        "email": {"type": "string", "format": "email"},
        "avatar_url": _STR,
        **PROFILE_WRITABLE,
        "profile_data": CV_SCHEMA,
        "created_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": "string", "format": "date-time"},
    },
}
PROFILE_PATCH_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": PROFILE_WRITABLE,
    "additionalProperties": False,
}

SETTINGS_PROPERTIES: dict[str, Any] = {
    "theme": {"type": "string", "enum": list(validation.THEMES)},
    "compact_mode": _BOOL,
    "default_view": {"type": "string", "enum": list(validation.VIEWS)},
    "items_per_page": {"type": "integer", "minimum": 5, "maximum": 100},
    "show_thumbnails": _BOOL,
    "auto_expand_folders": _BOOL,
    "confirm_delete": _BOOL,
    "show_activity": _BOOL,
    "allow_analytics": _BOOL,
    **{name: PROFILE_WRITABLE[name] for name in validation.PROFILE_PREFERENCES},
}
SETTINGS_SCHEMA: dict[str, Any] = {"type": "object", "properties": SETTINGS_PROPERTIES}
SETTINGS_PATCH_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": SETTINGS_PROPERTIES,
    "additionalProperties": False,
}
AVATAR_SCHEMA: dict[str, Any] = {"type": "object", "properties": {"avatar_url": {"type": "string"}}}
DELETE_ACCOUNT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["password"],
    "properties": {"password": {"type": "string"}},
}


def profile_json(profile: Profile) -> dict[str, Any]:
    """The profile as the API shows it."""
    data = {name: getattr(profile, name) for name in PROFILE_WRITABLE}
    data.update(
        id=str(profile.id),
        user_id=str(profile.user_id),
        email=profile.email,
        avatar_url=storage.absolute_url(profile.avatar_url),
        profile_data=profile.profile_data,
        created_at=profile.created_at.isoformat(),
        updated_at=profile.updated_at.isoformat(),
    )
    return data
