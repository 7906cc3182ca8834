"""List sizes: the member's ``items_per_page`` setting is the one source for every member list.

Views pass the signed-in member: ``sessions.active(user.id, limit=page_size(user))`` for a list
shown whole but capped, ``paginate(query, user=user, page=page)`` for one with pages.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from webapp.extensions import db

DEFAULT_PAGE_SIZE = 20
MIN_PAGE_SIZE = 5
MAX_PAGE_SIZE = 100


def page_size(user: Any = None) -> int:
    """How many items a list shows this member: their setting, or the default for anyone else
    (a visitor, or an account without settings). Kept within bounds, so a bad row can't make a
    list unbounded."""
    settings = getattr(user, "settings", None) if getattr(user, "is_authenticated", False) else None
    size = getattr(settings, "items_per_page", None)
    if not isinstance(size, int):
        return DEFAULT_PAGE_SIZE
    return max(MIN_PAGE_SIZE, min(size, MAX_PAGE_SIZE))


def paginate(query: sa.Select, *, user: Any, page: int | None = None):
    """One page of ``query`` at the member's size; an out-of-range page is empty, not a 404."""
    return db.paginate(query, page=page or 1, per_page=page_size(user), max_per_page=MAX_PAGE_SIZE, error_out=False)


MAX_OFFSET = 1_000_000


def window(limit: Any, offset: Any, *, default_limit: int) -> tuple[int, int]:
    """``limit`` and ``offset`` query values checked (API lists): whole numbers in range, or a
    422 naming the parameter."""
    from webapp.errors import ValidationFailed

    errors: dict[str, list[str]] = {}
    values: dict[str, int] = {}
    for name, raw, default, low, high in (
        ("limit", limit, default_limit, 1, MAX_PAGE_SIZE),
        ("offset", offset, 0, 0, MAX_OFFSET),
    ):
        try:
            values[name] = default if raw in (None, "") else int(raw)
        except (TypeError, ValueError):
            errors[name] = ["Must be a whole number."]
            continue
        if not low <= values[name] <= high:
            errors[name] = [f"Between {low} and {high:,}."]
    if errors:
        raise ValidationFailed("Invalid list parameters.", details=errors)
    return values["limit"], values["offset"]


def page_number(raw: Any) -> int:
    """A page number from a query string: anything odd is page 1."""
    try:
        return max(1, min(int(raw), MAX_OFFSET))
    except (TypeError, ValueError):
        return 1
