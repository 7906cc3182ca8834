"""Profiles, CVs and settings: what the pages and the API accept and answer (seeds 000, 001).

Each contract is the one declaration of its fields: the services clean input with it, the
OpenAPI document describes it, and the forms take their values to it (``forms.py``).
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field

from webapp import pagination, rules, storage
from webapp.accounts.models import Profile
from webapp.config import Config
from webapp.contracts import Contract, Reply, Timestamp

# Languages Folio offers (ISO 639-1, with a few regional variants).
LANGUAGES: dict[str, str] = {
    "en": "English",
    "en-GB": "English (UK)",
    "es": "Español",
    "fr": "Français",
    "de": "Deutsch",
    "it": "Italiano",
    "pt": "Português",
    "pt-BR": "Português (Brasil)",
    "nl": "Nederlands",
    "sv": "Svenska",
    "da": "Dansk",
    "nb": "Norsk bokmål",
    "fi": "Suomi",
    "pl": "Polski",
    "cs": "Čeština",
    "tr": "Türkçe",
    "el": "Ελληνικά",
    "ru": "Русский",
    "uk": "Українська",
    "ar": "العربية",
    "he": "עברית",
    "hi": "हिन्दी",
    "ja": "日本語",
    "ko": "한국어",
    "zh": "中文",
    "id": "Bahasa Indonesia",
    "vi": "Tiếng Việt",
    "th": "ไทย",
}
# The documented upload limit: the configured one (AVATAR_MAX_BYTES) as it ships.
AVATAR_MB = Config.AVATAR_MAX_BYTES // 2**20
THEMES = ("system", "light", "dark")
VIEWS = ("grid", "list")
RESERVED_SLUGS = ("admin", "api", "auth", "settings", "profile", "p", "static", "media", "new", "edit", "folio")
SLUG = r"[a-z0-9]+(-[a-z0-9]+)*"


def _slug(value: Any) -> str:
    value = rules.exact(50, required=True)(value)
    if len(value) < 3 or not re.fullmatch(SLUG, value):
        raise ValueError("3–50 lowercase letters, digits and single hyphens, e.g. sarah-lee.")
    if value in RESERVED_SLUGS:
        raise ValueError("This address is reserved. Choose another.")
    return value


Slug = rules.rule(
    _slug,
    {
        "type": "string",
        "minLength": 3,
        "maxLength": 50,
        "pattern": f"^{SLUG}$",
        "not": {"enum": list(RESERVED_SLUGS)},
        "description": "Your page's address: /p/<slug>",
    },
)
Language = rules.Choice(
    tuple(LANGUAGES), message="Choose a language from the list.", description="Interface language (ISO 639-1)"
)
# The profile's preferences are edited on /settings, beside the workspace settings.
PROFILE_PREFERENCES = ("timezone", "language", "public_profile", "email_notifications", "marketing_emails")


class ProfileChanges(Contract):
    """The writable profile fields; a PATCH sends any of them."""

    first_name: rules.Text(100) = None
    last_name: rules.Text(100) = None
    phone: rules.Phone = None
    bio: rules.Text(2000) = None
    company: rules.Text(200) = None
    job_title: rules.Text(200) = None
    location: rules.Text(200) = None
    website: rules.Url = None
    linkedin_username: rules.username("[A-Za-z0-9-]{3,100}", 100, "LinkedIn") = None
    github_username: rules.username("[A-Za-z0-9]+(-[A-Za-z0-9]+)*", 39, "GitHub") = None
    twitter_username: rules.username("[A-Za-z0-9_]{1,15}", 15, "X (Twitter)") = None
    timezone: rules.TimeZone = None
    language: Language = None
    public_profile: rules.Boolean = None
    email_notifications: rules.Boolean = None
    marketing_emails: rules.Boolean = None
    slug: Slug = None
    display_name: rules.Text(100, required=True) = None
    categories: rules.Tags(10, description="Up to 10, e.g. Fashion, Travel") = None
    budget_min: rules.Money = None
    budget_max: rules.Money = None


class ExperienceEntry(Contract):
    title: rules.Text(200, required=True)
    company: rules.Text(200, required=True)
    start: rules.Month(required=True)
    end: rules.Month() = None
    description: rules.Text(2000) = None

    @classmethod
    def problems(cls, cleaned: dict[str, Any], context: dict[str, Any]) -> dict[str, list[str]]:
        return _dates_in_order(cleaned.get("start"), cleaned.get("end"))


class EducationEntry(Contract):
    school: rules.Text(200, required=True)
    degree: rules.Text(200) = None
    start: rules.Month() = None
    end: rules.Month() = None

    @classmethod
    def problems(cls, cleaned: dict[str, Any], context: dict[str, Any]) -> dict[str, list[str]]:
        return _dates_in_order(cleaned.get("start"), cleaned.get("end"))


def _dates_in_order(start: str | None, end: str | None) -> dict[str, list[str]]:
    if start and end and end < start:
        return {"end": ["The end date is before the start date."]}
    return {}


class LinkEntry(Contract):
    label: rules.Text(100, required=True)
    url: rules.RequiredUrl


def _headline(value: Any) -> str:
    return rules.text(200)(value) or ""


class CVDocument(Contract):
    """Seed 001's CV (``profile_data``): sections left out are kept by POST, emptied by PUT."""

    headline: rules.rule(_headline, {"type": ["string", "null"], "maxLength": 200, "pattern": rules.NO_NUL}) = None
    experience: rules.Rows(ExperienceEntry, limit=30, section="experience") = None
    education: rules.Rows(EducationEntry, limit=20, section="education") = None
    skills: rules.Tags(50, 60) = None
    links: rules.Rows(LinkEntry, limit=20, section="links") = None


class SettingsChanges(Contract):
    """Workspace settings and the profile preferences shown beside them."""

    theme: rules.Choice(THEMES) = None
    compact_mode: rules.Boolean = None
    default_view: rules.Choice(VIEWS) = None
    items_per_page: rules.Integer(pagination.MIN_PAGE_SIZE, pagination.MAX_PAGE_SIZE) = None
    show_thumbnails: rules.Boolean = None
    auto_expand_folders: rules.Boolean = None
    confirm_delete: rules.Boolean = None
    show_activity: rules.Boolean = None
    allow_analytics: rules.Boolean = None
    timezone: rules.TimeZone = None
    language: Language = None
    public_profile: rules.Boolean = None
    email_notifications: rules.Boolean = None
    marketing_emails: rules.Boolean = None


WORKSPACE_SETTINGS = tuple(name for name in SettingsChanges.model_fields if name not in PROFILE_PREFERENCES)


class AccountDeletion(Contract):
    password: rules.Secret(1024, missing="Enter your password.")


# --- Answers --------------------------------------------------------------------------------


class ExperienceRow(Reply):
    title: str
    company: str
    start: str
    end: str | None = None
    description: str | None = None


class EducationRow(Reply):
    school: str
    degree: str | None = None
    start: str | None = None
    end: str | None = None


class LinkRow(Reply):
    label: str
    url: str


class CV(Reply):
    headline: str
    experience: list[ExperienceRow]
    education: list[EducationRow]
    skills: list[str]
    links: list[LinkRow]


class ProfileReply(Reply):
    id: str = Field(json_schema_extra={"format": "uuid"})
    user_id: str = Field(json_schema_extra={"format": "uuid"})
    email: str = Field(json_schema_extra={"format": "email"})
    avatar_url: str | None
    first_name: str | None
    last_name: str | None
    phone: str | None
    bio: str | None
    company: str | None
    job_title: str | None
    location: str | None
    website: str | None
    linkedin_username: str | None
    github_username: str | None
    twitter_username: str | None
    timezone: str
    language: str
    public_profile: bool
    email_notifications: bool
    marketing_emails: bool
    slug: str
    display_name: str
    categories: list[str]
    budget_min: int | None = Field(description="Amount in cents")
    budget_max: int | None = Field(description="Amount in cents")
    profile_data: CV
    created_at: Timestamp
    updated_at: Timestamp


class SettingsReply(Reply):
    theme: str
    compact_mode: bool
    default_view: str
    items_per_page: int
    show_thumbnails: bool
    auto_expand_folders: bool
    confirm_delete: bool
    show_activity: bool
    allow_analytics: bool
    timezone: str
    language: str
    public_profile: bool
    email_notifications: bool
    marketing_emails: bool


class AvatarReply(Reply):
    avatar_url: str


def profile_json(profile: Profile) -> dict[str, Any]:
    """The profile as the API shows it."""
    data = {name: getattr(profile, name) for name in ProfileChanges.model_fields}
    data.update(
        id=str(profile.id),
        user_id=str(profile.user_id),
        email=profile.email,
        avatar_url=storage.absolute_url(profile.avatar_url),
        profile_data=profile.profile_data,
        created_at=profile.created_at.isoformat(),
        updated_at=profile.updated_at.isoformat(),
    )
    return ProfileReply.of(data)
