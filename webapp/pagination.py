"""List sizes: the member's ``items_per_page`` setting is the one source for every member list.

Pages pass the signed-in member: ``sessions.active(user.id, limit=page_size(user))`` for a list
shown whole but capped; paged lists use ``page_number`` and ``last_page``; API lists read
``limit``/``offset`` with their ``ListQuery`` contract and ``window``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from webapp import rules
from webapp.contracts import Contract, Reply

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


class ListQuery(Contract):
    """The query string of every API list; a list with filters extends it. A parameter it does
    not know is refused like an unknown body field, so a typo (``limt``) is not silently
    ignored."""

    limit: rules.Integer(1, MAX_PAGE_SIZE, in_query=True, description="Defaults to your items-per-page setting") = None
    offset: rules.Integer(0, MAX_OFFSET, in_query=True, description="How many to skip (0 by default)") = None

    @classmethod
    def read(cls, args: Mapping[str, str]) -> dict[str, Any]:
        return cls.read_query(args, message="Invalid list parameters.")


class ListMeta(Reply):
    """The ``meta`` of a list's answer: the window it shows and how many there are in all."""

    total: int
    limit: int
    offset: int


def window(query: Mapping[str, Any], *, default_limit: int) -> tuple[int, int]:
    """``limit`` and ``offset`` of a cleaned ``ListQuery``, with their defaults."""
    return query.get("limit") or default_limit, query.get("offset") or 0


def page_number(raw: Any) -> int:
    """A page number from a query string: anything odd is page 1."""
    try:
        return max(1, min(int(raw), MAX_OFFSET))
    except (TypeError, ValueError):
        return 1


def last_page(total: int, size: int) -> int:
    """How many pages ``total`` items fill (at least one, for the empty state)."""
    return max(1, -(-total // size))
