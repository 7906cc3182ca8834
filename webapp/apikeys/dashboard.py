"""The API keys domain's getting-started step."""

from __future__ import annotations

from webapp.auth.models import User


def has_key(member: User) -> bool:
    from webapp.apikeys import service as apikeys

    return apikeys.count_keys(member) > 0
