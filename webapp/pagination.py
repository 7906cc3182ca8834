"""List sizes: the member's ``items_per_page`` setting is the one source for every member list.

Pages pass the signed-in member: ``sessions.active(user.id, limit=page_size(user))`` for a list
shown whole but capped; paged lists use ``page_number`` and ``last_page``; API lists take
``limit``/``offset`` through ``window`` (documented by ``LIST_PARAMS``).
"""

from __future__ import annotations

from typing import Any

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


MAX_OFFSET = 1_000_000


def window(limit: Any, offset: Any, *, default_limit: int) -> tuple[int, int]:
    """``limit`` and ``offset`` query values checked (API lists): whole numbers in range, or a
    422 naming the parameter."""
    from webapp.accounts.validation import whole_number  # the API's one integer rule (it imports this module)
    from webapp.errors import ValidationFailed

    errors: dict[str, list[str]] = {}
    values: dict[str, int] = {}
    for name, raw, default, low, high in (
        ("limit", limit, default_limit, 1, MAX_PAGE_SIZE),
        ("offset", offset, 0, 0, MAX_OFFSET),
    ):
        try:
            values[name] = default if raw in (None, "") else whole_number(raw)
        except ValueError:
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


def last_page(total: int, size: int) -> int:
    """How many pages ``total`` items fill (at least one, for the empty state)."""
    return max(1, -(-total // size))


# OpenAPI parameters of every API list.
LIST_PARAMS = [
    {
        "name": "limit",
        "in": "query",
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
        "description": "Defaults to your items-per-page setting",
    },
    {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0}},
]
