"""Time helpers: the database holds aware UTC; pages show the member's time zone."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones


def utcnow() -> datetime:
    """The current instant, timezone-aware, in UTC."""
    return datetime.now(UTC)


@lru_cache(maxsize=1)
def all_timezones() -> tuple[str, ...]:
    """Every IANA zone name, sorted, computed once per process."""
    return tuple(sorted(available_timezones()))


def is_timezone(name: str) -> bool:
    """True when ``name`` is an IANA zone this machine knows."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return name in all_timezones() or name == "UTC"


def to_zone(value: datetime | None, zone: str | None) -> datetime | None:
    """``value`` converted to ``zone`` (UTC when the zone is unknown)."""
    if value is None:
        return None
    try:
        tz = ZoneInfo(zone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        tz = UTC
    return value.astimezone(tz)
