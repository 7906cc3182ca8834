"""The API keys domain's getting-started step."""

from __future__ import annotations

from webapp.auth.models import User


def has_key(member: User) -> bool:
    from webapp.apikeys import service as apikeys

    _, total = apikeys.list_keys(member, limit=0)
    return total > 0
