"""The registry of API scopes: one per domain and verb. Routes declare the scope they need;
API keys hold a subset, chosen by their owner; sessions and access tokens hold them all.
Later domains register their own scopes next to their routes with ``register``.
"""

from __future__ import annotations

SCOPES: dict[str, str] = {}


def register(name: str, description: str) -> str:
    """Declare a scope (idempotent) and return its name."""
    SCOPES.setdefault(name, description)
    return name


PROFILE_READ = register("profile:read", "Read your profile, CV and settings")
PROFILE_WRITE = register("profile:write", "Change your profile, CV, avatar and settings")
ACCOUNT_DELETE = register("account:delete", "Delete your account")
KEYS_READ = register("keys:read", "List your API keys")
KEYS_MANAGE = register("keys:manage", "Create, change, regenerate and delete API keys")
USERS_READ = register("users:read", "Staff: list and read members (needs a staff role)")
USERS_WRITE = register("users:write", "Staff: create, change and delete members (needs a staff role)")


def grouped() -> dict[str, list[tuple[str, str]]]:
    """Scopes by domain, for the checkboxes on the key form."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for name, description in SCOPES.items():
        groups.setdefault(name.split(":")[0], []).append((name, description))
    return groups
