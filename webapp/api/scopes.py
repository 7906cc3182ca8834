"""The registry of API scopes: one per domain and verb. Routes declare the scope they need."""

from __future__ import annotations

SCOPES: dict[str, str] = {}


def register(name: str, description: str) -> str:
    """Declare a scope (idempotent) and return its name."""
    SCOPES.setdefault(name, description)
    return name


PROFILE_READ = register("profile:read", "Read your profile, CV and settings")
PROFILE_WRITE = register("profile:write", "Change your profile, CV, avatar and settings")
ACCOUNT_DELETE = register("account:delete", "Delete your account")
