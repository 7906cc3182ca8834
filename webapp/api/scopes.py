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
USERS_READ = register("users:read", "Staff: list and read members")
USERS_WRITE = register("users:write", "Staff: create, change and delete members")

# Scopes that only make sense for staff: the role permission a member needs to hold them.
STAFF_SCOPES: dict[str, str] = {USERS_READ: "users:read", USERS_WRITE: "users:write"}


def available_to(user) -> dict[str, str]:
    """The scopes ``user`` may put on a key: staff scopes only with the matching permission."""
    return {
        name: text
        for name, text in SCOPES.items()
        if name not in STAFF_SCOPES or user.has_permission(STAFF_SCOPES[name])
    }


def grouped() -> dict[str, list[tuple[str, str]]]:
    """Scopes by domain, for the checkboxes on the key form."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for name, description in SCOPES.items():
        groups.setdefault(name.split(":")[0], []).append((name, description))
    return groups
