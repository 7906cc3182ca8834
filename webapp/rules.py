"""Field rules shared by every domain: each rule checks a value and documents itself.

A contract (``webapp.contracts``) declares its fields with the types built here:

    class ProfileChanges(Contract):
        first_name: rules.Text(100)
        website: rules.Url

Each type carries its check, which returns the value to store or raises ``ValueError`` with a
message written for the member, and its JSON Schema; both come from the same parameters, so
the OpenAPI document cannot say something the API does not do. The JSON API is as strict as
the schema (a boolean is ``true`` or ``false``, never ``"yes"``); pages convert what a browser
sends (text) before they call a service, as their forms do.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from pydantic import PlainValidator, ValidationInfo, WithJsonSchema

from webapp.timeutil import all_timezones, is_timezone

# JSON Schema patterns for text without NUL (PostgreSQL cannot store it) and text that is not
# blank either. Whitespace is spelled out as Python's str.strip() sees it: ``\s`` means less in
# the ECMA regexes that JSON Schema uses. No look-arounds: generators of test data lack them.
SPACE = r"\t\n\u000b\u000c\r\u001c-\u001f \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
NO_NUL = r"^[^\u0000]*$"
NOT_BLANK = rf"^[^\u0000]*[^{SPACE}\u0000][^\u0000]*$"
MONTH = r"\d{4}-(0[1-9]|1[0-2])"
MONTH_RE = re.compile(rf"^{MONTH}$")
URL = rf"https?://[^{SPACE}\u0000-\u0020\u007f/?#\[\]@\\]+([/?#][^{SPACE}\u0000-\u0020\u007f]*)?"
URL_RE = re.compile(rf"^{URL}$")

REQUIRED = "This field is required."


def rule(
    check: Callable[..., Any],
    schema: dict[str, Any] | Callable[[], dict[str, Any]],
    description: str | None = None,
) -> Any:
    """A field type: ``check`` validates (it may take the contract's context as a second
    argument), ``schema`` documents, with ``description`` when given. The one place a rule and
    its documentation meet.

    ``schema`` may be a function, called whenever a document is built, for a rule over a
    registry that domains fill as they load (the API's scopes)."""
    if isinstance(schema, dict):
        documented = WithJsonSchema({**schema, "description": description} if description else schema)
    else:
        documented = _LateSchema(schema)
    return Annotated[Any, PlainValidator(check), documented]


@dataclass(frozen=True)
class _LateSchema:
    build: Callable[[], dict[str, Any]]

    def __get_pydantic_json_schema__(self, core_schema: Any, handler: Any) -> dict[str, Any]:
        return self.build()


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {**schema, "type": [schema["type"], "null"]}


def _or_empty(pattern: str) -> str:
    """A pattern that also matches the empty string, which clears an optional field."""
    return rf"^(|{pattern})$"


# --- Text -----------------------------------------------------------------------------------


def _text_as_sent(value: Any, max_length: int) -> str:
    """Text with line breaks as one character each (a browser sends CRLF), within the limit."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError("Must be text.")
    if "\x00" in value:
        raise ValueError("Contains a character that is not allowed.")
    value = value.replace("\r\n", "\n")
    if len(value) > max_length:
        raise ValueError(f"At most {max_length} characters.")
    return value


def text(max_length: int, *, required: bool = False, missing: str = REQUIRED) -> Callable[[Any], str | None]:
    """Free text of at most ``max_length`` characters, stored trimmed; blank becomes None."""

    def clean(value: Any) -> str | None:
        value = _text_as_sent(value, max_length).strip()
        if not value:
            if required:
                raise ValueError(missing)
            return None
        return value

    return clean


def exact(max_length: int, *, required: bool = False, missing: str = REQUIRED) -> Callable[[Any], str | None]:
    """Text that a pattern, a list or a format describes, taken exactly as sent: spaces around
    it are refused, not trimmed, as the documented pattern refuses them (pages trim what people
    type before they send it); empty becomes None."""

    def clean(value: Any) -> str | None:
        value = _text_as_sent(value, max_length)
        if not value:
            if required:
                raise ValueError(missing)
            return None
        if value != value.strip():
            raise ValueError("Remove the spaces at the start or end.")
        return value

    return clean


def Text(  # noqa: N802
    max_length: int, *, required: bool = False, missing: str = REQUIRED, description: str | None = None
) -> Any:
    schema: dict[str, Any] = {"type": "string", "maxLength": max_length}
    if required:
        schema.update(minLength=1, pattern=NOT_BLANK)
    else:
        schema = _nullable({**schema, "pattern": NO_NUL})
    return rule(text(max_length, required=required, missing=missing), schema, description)


def secret(max_length: int | None, *, missing: str = REQUIRED) -> Callable[[Any], str]:
    """A password or token exactly as sent: never trimmed, since every character counts.
    ``max_length`` None leaves the length to a rule that judges the value with its own words
    (a new password's strength)."""

    def clean(value: Any) -> str:
        if value is not None and not isinstance(value, str):
            raise ValueError("Must be text.")
        if not value:
            raise ValueError(missing)
        if max_length is not None and len(value) > max_length:
            raise ValueError(f"At most {max_length} characters.")
        return value

    return clean


def Secret(max_length: int, *, missing: str = REQUIRED, min_length: int = 1, description: str | None = None) -> Any:  # noqa: N802
    """``secret``'s type. ``min_length`` only documents a longer minimum that a service
    checks with its own wording (a new password's strength rule)."""
    schema: dict[str, Any] = {"type": "string", "minLength": min_length, "maxLength": max_length}
    return rule(secret(max_length, missing=missing), schema, description)


EMAIL_MISSING = "Enter your email address."


def email(value: Any) -> str:
    """An address in its canonical form (lowercase, internationalized domains normalized)."""
    value = exact(320, required=True, missing=EMAIL_MISSING)(value)
    try:
        # ASCII addresses only, as JSON Schema's "email" format says (and as every relay takes).
        result = validate_email(value, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from None
    return result.normalized.lower()


Email = rule(email, {"type": "string", "format": "email", "maxLength": 320})


def boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("Must be true or false.")
    return value


Boolean = rule(boolean, {"type": "boolean"})


def choice(options: tuple[str, ...], message: str | None = None) -> Callable[[Any], str]:
    """One of ``options``; ``message`` words the refusal where the list is too long to name."""

    def clean(value: Any) -> str:
        if not isinstance(value, str) or value not in options:
            raise ValueError(message or f"Choose one of: {', '.join(options)}.")
        return value

    return clean


def Choice(  # noqa: N802
    options: tuple[str, ...], *, message: str | None = None, description: str | None = None, in_query: bool = False
) -> Any:
    """One of ``options``; ``in_query`` documents that a query string may also leave it blank
    (``?type=``), which ``Contract.read_query`` takes as not given."""
    documented = [*options, ""] if in_query else list(options)
    return rule(choice(options, message), {"type": "string", "enum": documented}, description)


def url(value: Any) -> str | None:
    """An absolute http(s) address, or nothing."""
    value = exact(2000)(value)
    if value is None:
        return None
    if not URL_RE.match(value):
        raise ValueError("Enter a full web address starting with http:// or https://")
    return value


Url = rule(
    url,
    {
        "type": ["string", "null"],
        "maxLength": 2000,
        "pattern": _or_empty(URL),
        "description": "An http:// or https:// address; empty or null clears it",
    },
)


def required_url(value: Any) -> str:
    cleaned = url(value)
    if cleaned is None:
        raise ValueError(REQUIRED)
    return cleaned


RequiredUrl = rule(required_url, {"type": "string", "maxLength": 2000, "pattern": f"^{URL}$"})


def phone(value: Any) -> str | None:
    """A phone number with its country code, stored in E.164 (``+14155550123``)."""
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


Phone = rule(
    phone,
    {
        "type": ["string", "null"],
        "maxLength": 32,
        "format": "phone",
        "description": "International format with the country code (E.164), e.g. +14155550123",
    },
)


def username(pattern: str, max_length: int, site: str) -> Any:
    """A handle on another site, without the link or the @ (it is shown with both)."""
    matcher = re.compile(rf"^{pattern}$")

    def clean(value: Any) -> str | None:
        value = exact(max_length + 1)(value)  # the @ that is dropped does not count
        if value is None:
            return None
        value = value.removeprefix("@")
        if "/" in value or value.startswith("@") or ("." in value and site != "LinkedIn"):
            raise ValueError(f"Enter just your {site} username, not the link.")
        if len(value) > max_length:
            raise ValueError(f"At most {max_length} characters.")
        if not matcher.match(value):
            raise ValueError(f"This is not a valid {site} username.")
        return value

    schema = {"type": ["string", "null"], "maxLength": max_length + 1, "pattern": _or_empty(f"@?({pattern})")}
    return rule(clean, {**schema, "description": f"Your {site} username (a leading @ is dropped), not the link"})


def timezone_name(value: Any) -> str:
    value = exact(100, required=True)(value)
    if not is_timezone(value):
        raise ValueError("Choose a time zone from the list (for example Europe/Paris).")
    return value


TimeZone = rule(
    timezone_name,
    {"type": "string", "enum": sorted({*all_timezones(), "UTC"}), "description": "IANA time zone"},
)


def month(*, required: bool = False) -> Callable[[Any], str | None]:
    def clean(value: Any) -> str | None:
        value = exact(100, required=required)(value)
        if value is not None and not MONTH_RE.match(value):
            raise ValueError("Use the form YYYY-MM.")
        return value

    return clean


def Month(*, required: bool = False) -> Any:  # noqa: N802
    if required:
        return rule(month(required=True), {"type": "string", "pattern": f"^{MONTH}$", "examples": ["2024-09"]})
    return rule(month(), {"type": ["string", "null"], "pattern": _or_empty(MONTH), "examples": ["2024-09"]})


# --- Lists ----------------------------------------------------------------------------------


def tags(limit: int, each_max: int = 40) -> Callable[[Any], list[str]]:
    """Up to ``limit`` entries of text as sent; stored trimmed, without blanks or repeats
    (compared without case). A string is refused, as the schema says: pages split theirs."""

    def clean(value: Any) -> list[str]:
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError("Must be a list of text.")
        if len(value) > limit:
            raise ValueError(f"At most {limit} entries.")
        cleaned: list[str] = []
        for position, tag in enumerate(value, start=1):
            if "\x00" in tag:
                raise ValueError(f"Entry {position} contains a character that is not allowed.")
            if len(tag) > each_max:
                raise ValueError(f"Each entry can be at most {each_max} characters.")
            tag = tag.strip()
            if tag and tag.lower() not in (t.lower() for t in cleaned):
                cleaned.append(tag)
        return cleaned

    return clean


def Tags(limit: int, each_max: int = 40, *, description: str | None = None) -> Any:  # noqa: N802
    schema: dict[str, Any] = {
        "type": ["array", "null"],
        "maxItems": limit,
        "items": {"type": "string", "maxLength": each_max, "pattern": NO_NUL},
    }
    return rule(tags(limit, each_max), schema, description)


def comma_list(value: str | None) -> list[str]:
    """A form's comma-separated text as the list the API sends."""
    return [part for part in (value or "").split(",") if part.strip()]


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


def Rows(entry: Any, *, limit: int, section: str) -> Any:  # noqa: N802
    """A list of at most ``limit`` objects, each checked by the contract ``entry``; every
    failing row is named at once (``RowErrors``)."""

    def clean(value: Any) -> list[dict[str, Any]]:
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(row, dict) for row in value):
            raise ValueError(f"{section.capitalize()} must be a list of objects.")
        if len(value) > limit:
            raise ValueError(f"At most {limit} {section} entries.")
        rows, problems = [], {}
        for index, row in enumerate(value):
            cleaned, errors = entry.check(row)
            if errors:
                problems[index] = errors
            rows.append({name: cleaned.get(name) for name in entry.model_fields})
        if problems:
            raise RowErrors(section, problems)
        return rows

    return rule(clean, {"type": ["array", "null"], "maxItems": limit, "items": entry.inline_schema()})


# --- Metadata --------------------------------------------------------------------------------

METADATA_KEYS = 20
METADATA_KEY_LENGTH = 40
METADATA_VALUE_LENGTH = 500


def metadata(value: Any) -> dict[str, Any] | None:
    """Stripe-style metadata: a flat object of at most 20 keys whose values are text, numbers or
    booleans, so that a caller can label a row without storing arbitrary documents in it."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ValueError("Must be an object of names and values.")
    if len(value) > METADATA_KEYS:
        raise ValueError(f"At most {METADATA_KEYS} keys.")
    cleaned: dict[str, Any] = {}
    for key, item in value.items():
        if not key.strip() or len(key) > METADATA_KEY_LENGTH:
            raise ValueError(f"Each key must be 1 to {METADATA_KEY_LENGTH} characters.")
        if isinstance(item, str):
            if len(item) > METADATA_VALUE_LENGTH or "\x00" in item:
                raise ValueError(f"“{key}”: text of at most {METADATA_VALUE_LENGTH} characters.")
        elif not (isinstance(item, bool | int) or (isinstance(item, float) and math.isfinite(item))):
            raise ValueError(f"“{key}”: only text, numbers and true/false (no lists or objects).")
        cleaned[key] = item
    return cleaned


Metadata = rule(
    metadata,
    {
        "type": ["object", "null"],
        "maxProperties": METADATA_KEYS,
        "propertyNames": {"minLength": 1, "maxLength": METADATA_KEY_LENGTH},
        "additionalProperties": {
            "anyOf": [{"type": "string", "maxLength": METADATA_VALUE_LENGTH}, {"type": "number"}, {"type": "boolean"}]
        },
        "description": "Your own labels: up to 20 keys with text, number or true/false values",
    },
)


# --- Numbers and times ----------------------------------------------------------------------


def whole_number(value: Any) -> int:
    """A JSON integer: also a number without a fraction (``1.0``, ``1e2``), as JSON Schema's
    ``integer`` takes it. Fractions, booleans and text are refused, never rounded or counted."""
    if isinstance(value, bool):
        raise ValueError("Must be a whole number, not true or false.")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    raise ValueError("Must be a whole number.")


DIGITS_RE = re.compile(r"[+-]?[0-9]{1,30}")


def query_number(value: Any) -> int:
    """A whole number as a query string carries it: decimal digits."""
    if isinstance(value, str) and DIGITS_RE.fullmatch(value.strip()):
        return int(value.strip())
    return whole_number(value)


def form_number(value: Any) -> Any:
    """What a browser sent for a number: the number when it is one, else the text as it was,
    which the number's rule then refuses in its own words."""
    if isinstance(value, str) and DIGITS_RE.fullmatch(value.strip()):
        return int(value.strip())
    return value


def integer(low: int, high: int, *, parse: Callable[[Any], int] = whole_number) -> Callable[[Any], int]:
    def clean(value: Any) -> int:
        number = parse(value)
        if not low <= number <= high:
            raise ValueError(f"Must be between {low} and {high}.")
        return number

    return clean


def Integer(low: int, high: int, *, description: str | None = None, in_query: bool = False) -> Any:  # noqa: N802
    """A whole number in range; ``in_query`` also takes the digits a query string carries."""
    check = integer(low, high, parse=query_number if in_query else whole_number)
    return rule(check, {"type": "integer", "minimum": low, "maximum": high}, description)


# Money columns are 32-bit integers: PostgreSQL refuses anything above 2,147,483,647, so the rule
# stops at a round number below it rather than letting the database answer with a 500.
MAX_MONEY_CENTS = 2_000_000_000


def money(value: Any) -> int | None:
    """A non-negative whole amount in cents that fits the money columns, or nothing."""
    if value is None:
        return None
    try:
        amount = whole_number(value)
    except ValueError:
        raise ValueError("Must be a whole number.") from None
    if amount < 0:
        raise ValueError("Must not be negative.")
    if amount > MAX_MONEY_CENTS:
        raise ValueError(f"Must be at most {MAX_MONEY_CENTS // 100:,} USD ({MAX_MONEY_CENTS:,} cents).")
    return amount


Money = rule(
    money,
    {"type": ["integer", "null"], "minimum": 0, "maximum": MAX_MONEY_CENTS, "description": "Amount in cents"},
)


RFC3339_RE = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$", re.ASCII)
DATE_TIME_HINT = "Use an ISO 8601 date-time with its zone, e.g. 2027-01-31T00:00:00Z."


def date_time(value: Any) -> datetime | None:
    """An RFC 3339 date-time (JSON Schema's ``date-time``) in UTC, or nothing for null. A page
    may pass an aware ``datetime`` it built from a date picker."""
    if value is None:
        return None
    if isinstance(value, datetime) and value.tzinfo is not None:
        moment = value
    elif isinstance(value, str) and RFC3339_RE.match(value):
        try:
            moment = datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
        except ValueError:  # 2027-02-30, 25:00
            raise ValueError(DATE_TIME_HINT) from None
    else:
        raise ValueError(DATE_TIME_HINT)
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # year 1 or 9999 pushed past the ends by its offset
        raise ValueError(DATE_TIME_HINT) from None


def context(info: ValidationInfo, name: str) -> Any:
    """What the caller passed to ``Contract.clean(..., context={name: ...})`` (a rule that
    depends on the member, such as the scopes their role may grant)."""
    return (info.context or {})[name]
