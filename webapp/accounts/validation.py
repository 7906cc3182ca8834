"""Field rules for profiles, CVs and settings, shared by the pages and the JSON API.

Each cleaner takes the submitted value and returns the value to store, or raises
``ValueError`` with a message written for the member.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

import phonenumbers

from webapp import pagination
from webapp.timeutil import is_timezone

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
THEMES = ("system", "light", "dark")
VIEWS = ("grid", "list")
RESERVED_SLUGS = {"admin", "api", "auth", "settings", "profile", "p", "static", "media", "new", "edit", "folio"}

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{1,48}[a-z0-9])$")
LINKEDIN_RE = re.compile(r"^[A-Za-z0-9-]{3,100}$")
GITHUB_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")
TWITTER_RE = re.compile(r"^[A-Za-z0-9_]{1,15}$")
MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def text(max_length: int, *, required: bool = False) -> Callable[[Any], str | None]:
    """A trimmed string of at most ``max_length`` characters; blank becomes None."""

    def clean(value: Any) -> str | None:
        if value is None:
            value = ""
        if not isinstance(value, str):
            raise ValueError("Must be text.")
        value = value.strip()
        if "\x00" in value:  # PostgreSQL cannot store it; refuse it here rather than fail later
            raise ValueError("Contains a character that is not allowed.")
        if not value:
            if required:
                raise ValueError("This field is required.")
            return None
        if len(value) > max_length:
            raise ValueError(f"At most {max_length} characters.")
        return value

    return clean


def boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in {"true", "false", "1", "0", "on", "off", "y", "n", "yes", "no"}:
        return value.lower() in {"true", "1", "on", "y", "yes"}
    raise ValueError("Must be true or false.")


def url(value: Any) -> str | None:
    """An absolute http(s) URL."""
    value = text(2000)(value)
    if value is None:
        return None
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc or " " in value:
        raise ValueError("Enter a full web address starting with http:// or https://")
    return value


def phone(value: Any) -> str | None:
    """A phone number in E.164 (``+14155550123``)."""
    value = text(32)(value)
    if value is None:
        return None
    if not value.startswith("+"):
        raise ValueError("Use the international format with a country code, e.g. +14155550123.")
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        raise ValueError("This is not a valid phone number.") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError("This is not a valid phone number.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _username(pattern: re.Pattern[str], site: str) -> Callable[[Any], str | None]:
    def clean(value: Any) -> str | None:
        value = text(100)(value)
        if value is None:
            return None
        value = value.removeprefix("@")
        if "/" in value or "." in value and site != "LinkedIn":
            raise ValueError(f"Enter just your {site} username, not the link.")
        if not pattern.match(value):
            raise ValueError(f"This is not a valid {site} username.")
        return value

    return clean


linkedin_username = _username(LINKEDIN_RE, "LinkedIn")
github_username = _username(GITHUB_RE, "GitHub")
twitter_username = _username(TWITTER_RE, "X (Twitter)")


def timezone_name(value: Any) -> str:
    value = text(100, required=True)(value)
    if not is_timezone(value):
        raise ValueError("Choose a time zone from the list (for example Europe/Paris).")
    return value


def language(value: Any) -> str:
    value = text(10, required=True)(value)
    if value not in LANGUAGES:
        raise ValueError("Choose a language from the list.")
    return value


def slug(value: Any) -> str:
    value = text(50, required=True)(value).lower()
    if not SLUG_RE.match(value) or "--" in value:
        raise ValueError("3–50 lowercase letters, digits and single hyphens, e.g. sarah-lee.")
    if value in RESERVED_SLUGS:
        raise ValueError("This address is reserved. Choose another.")
    return value


def comma_list(value: str | None) -> list[str]:
    """A form's comma-separated text as the list the API sends: the rules take lists only."""
    return (value or "").split(",")


def tags(limit: int, each_max: int = 40) -> Callable[[Any], list[str]]:
    """Up to ``limit`` distinct tags, given as a list of text (the pages split theirs with
    ``comma_list``, so a string from the API is refused as the schema says, not split)."""

    def clean(value: Any) -> list[str]:
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError("Must be a list of text.")
        cleaned: list[str] = []
        for position, tag in enumerate((v.strip() for v in value), start=1):
            if "\x00" in tag:  # as in ``text``: PostgreSQL cannot store it
                raise ValueError(f"Entry {position} contains a character that is not allowed.")
            if tag and tag.lower() not in (t.lower() for t in cleaned):
                if len(tag) > each_max:
                    raise ValueError(f"Each entry can be at most {each_max} characters.")
                cleaned.append(tag)
        if len(cleaned) > limit:
            raise ValueError(f"At most {limit} entries.")
        return cleaned

    return clean


categories = tags(10)
skills = tags(50, each_max=60)


DIGITS_RE = re.compile(r"[+-]?[0-9]{1,30}")


def whole_number(value: Any) -> int:
    """An integer as JSON or a form sends it; anything else is refused, never rounded.

    JSON integers, and JSON numbers without a fraction (``1.0``, ``1e2``: JSON Schema's
    ``integer`` takes them, and so do the API's documented schemas); decimal digits in a
    string, since forms send text. Fractions (``1.9``), ``true``/``false`` and non-finite
    numbers are refused: Python's ``int()`` would truncate the first and count the second as 1.
    """
    if isinstance(value, bool):
        raise ValueError("Must be a whole number, not true or false.")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, str) and DIGITS_RE.fullmatch(value.strip()):
        return int(value.strip())
    raise ValueError("Must be a whole number.")


# The budget columns are 32-bit integers: PostgreSQL refuses anything above 2,147,483,647, so the
# rule stops at a round number below it rather than letting the database answer with a 500.
MAX_MONEY_CENTS = 2_000_000_000


def money(value: Any) -> int | None:
    """A non-negative whole amount in cents that fits the budget columns."""
    if value is None or value == "":
        return None
    try:
        amount = whole_number(value)
    except ValueError:
        raise ValueError("Must be a whole number of cents.") from None
    if amount < 0:
        raise ValueError("Must not be negative.")
    if amount > MAX_MONEY_CENTS:
        raise ValueError(f"Must be at most {MAX_MONEY_CENTS // 100:,} USD ({MAX_MONEY_CENTS:,} cents).")
    return amount


def choice(options: tuple[str, ...]) -> Callable[[Any], str]:
    def clean(value: Any) -> str:
        if value not in options:
            raise ValueError(f"Choose one of: {', '.join(options)}.")
        return value

    return clean


def integer(low: int, high: int) -> Callable[[Any], int]:
    def clean(value: Any) -> int:
        number = whole_number(value)
        if not low <= number <= high:
            raise ValueError(f"Must be between {low} and {high}.")
        return number

    return clean


PROFILE_FIELDS: dict[str, Callable[[Any], Any]] = {
    "first_name": text(100),
    "last_name": text(100),
    "phone": phone,
    "bio": text(2000),
    "company": text(200),
    "job_title": text(200),
    "location": text(200),
    "website": url,
    "linkedin_username": linkedin_username,
    "github_username": github_username,
    "twitter_username": twitter_username,
    "timezone": timezone_name,
    "language": language,
    "public_profile": boolean,
    "email_notifications": boolean,
    "marketing_emails": boolean,
    "slug": slug,
    "display_name": text(100, required=True),
    "categories": categories,
    "budget_min": money,
    "budget_max": money,
}

# Preferences that live on the profile row but are edited on /settings.
PROFILE_PREFERENCES = ("timezone", "language", "public_profile", "email_notifications", "marketing_emails")

SETTINGS_FIELDS: dict[str, Callable[[Any], Any]] = {
    "theme": choice(THEMES),
    "compact_mode": boolean,
    "default_view": choice(VIEWS),
    "items_per_page": integer(pagination.MIN_PAGE_SIZE, pagination.MAX_PAGE_SIZE),
    "show_thumbnails": boolean,
    "auto_expand_folders": boolean,
    "confirm_delete": boolean,
    "show_activity": boolean,
    "allow_analytics": boolean,
}


class RowErrors(ValueError):
    """Errors in rows of a list (CV experience, education, links).

    The message names every entry that needs fixing ("Check experience entries 2 and 3."), for
    API clients reading the list's own key; ``fields`` names every failing field by dotted path
    (``experience.1.title``) so that forms can show each error inside its own row.
    """

    def __init__(self, section: str, problems: dict[int, dict[str, list[str]]]):
        positions = [str(index + 1) for index in problems]
        listing = positions[0] if len(positions) == 1 else f"{', '.join(positions[:-1])} and {positions[-1]}"
        noun = "entry" if len(positions) == 1 else "entries"
        super().__init__(f"Check {section} {noun} {listing}.")
        self.fields = {
            f"{section}.{row}.{name}": list(messages)
            for row, row_errors in problems.items()
            for name, messages in row_errors.items()
        }


def clean_fields(
    changes: dict[str, Any], rules: dict[str, Callable[[Any], Any]]
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Apply ``rules`` to ``changes``: the cleaned values and per-field errors."""
    cleaned: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for name, value in changes.items():
        rule = rules.get(name)
        if rule is None:
            errors[name] = ["Unknown field."]
            continue
        try:
            cleaned[name] = rule(value)
        except RowErrors as exc:
            errors[name] = [str(exc)]
            errors.update(exc.fields)
        except ValueError as exc:
            errors[name] = [str(exc)]
    return cleaned, errors


# --- The CV document (seed 001) -----------------------------------------------------------


def _month(value: Any, *, required: bool = False) -> str | None:
    value = text(7, required=required)(value)
    if value is not None and not MONTH_RE.match(value):
        raise ValueError("Use the form YYYY-MM.")
    return value


def _rows(value: Any, fields: dict[str, Callable[[Any], Any]], limit: int, section: str) -> list[dict[str, Any]]:
    label = section.capitalize()
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(row, dict) for row in value):
        raise ValueError(f"{label} must be a list of objects.")
    if len(value) > limit:
        raise ValueError(f"At most {limit} {section} entries.")
    rows, problems = [], {}
    for index, row in enumerate(value):
        cleaned, errors = clean_fields({k: row.get(k) for k in fields}, fields)
        errors.update({k: ["Unknown field."] for k in set(row) - set(fields)})
        if not errors and cleaned.get("start") and cleaned.get("end") and cleaned["end"] < cleaned["start"]:
            errors["end"] = ["The end date is before the start date."]
        if errors:
            problems[index] = errors
        rows.append(cleaned)
    if problems:
        raise RowErrors(section, problems)
    return rows


EXPERIENCE_FIELDS = {
    "title": text(200, required=True),
    "company": text(200, required=True),
    "start": lambda v: _month(v, required=True),
    "end": _month,
    "description": text(2000),
}
EDUCATION_FIELDS = {
    "school": text(200, required=True),
    "degree": text(200),
    "start": _month,
    "end": _month,
}
LINK_FIELDS = {"label": text(100, required=True), "url": lambda v: url(v) or _required()}


def _required():
    raise ValueError("This field is required.")


CV_FIELDS: dict[str, Callable[[Any], Any]] = {
    "headline": lambda v: text(200)(v) or "",
    "experience": lambda v: _rows(v, EXPERIENCE_FIELDS, 30, "experience"),
    "education": lambda v: _rows(v, EDUCATION_FIELDS, 20, "education"),
    "skills": skills,
    "links": lambda v: _rows(v, LINK_FIELDS, 20, "links"),
}
