"""Time helpers: the database holds aware UTC; pages show the member's time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from importlib import resources
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones


def utcnow() -> datetime:
    """The current instant, timezone-aware, in UTC."""
    return datetime.now(UTC)


@lru_cache(maxsize=1)
def all_timezones() -> tuple[str, ...]:
    """Every IANA zone name, sorted, computed once per process."""
    return tuple(sorted(available_timezones()))


@lru_cache(maxsize=1)
def canonical_timezones() -> tuple[str, ...]:
    """The zones the tz database lists per country (its zone.tab): canonical names only, so no
    legacy aliases such as Asia/Calcutta or US/Eastern. Read from the pinned tzdata package."""
    table = resources.files("tzdata").joinpath("zoneinfo", "zone.tab").read_text(encoding="utf-8")
    names = {line.split("\t")[2] for line in table.splitlines() if line and not line.startswith("#")}
    return tuple(sorted(names))


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


def last_day(end: datetime | None, zone: str | None) -> date | None:
    """The last day, in ``zone``, that a period ending at ``end`` covers.

    A chosen expiry day is stored as the midnight that ends it, which is already the next
    day's date; that midnight belongs to the day before. The step back is taken on the instant,
    not the wall clock, so zones whose midnight is skipped (Santiago's DST starts at 00:00)
    get the day right too.
    """
    if end is None:
        return None
    return to_zone(end - timedelta(microseconds=1), zone).date()
