"""The registry of API scopes: one per domain and verb. Routes declare the scope they need;
API keys hold a subset, chosen by their owner; sessions and access tokens hold them all.

Each domain registers its own scopes from its ``init_app`` with ``register_scopes``; the
registry keeps them in the order they came (domains in ``webapp.DOMAINS`` order).
"""

from __future__ import annotations

SCOPES: dict[str, str] = {}

# Scopes that only make sense for staff: the role permission a member needs to hold them.
STAFF_SCOPES: dict[str, str] = {}


def register_scopes(scopes: dict[str, str], *, staff: dict[str, str] | None = None) -> None:
    """Declare a domain's scopes, name -> description (idempotent: every app registers them).
    ``staff`` maps those of them that are for staff to the role permission they need."""
    for name, description in scopes.items():
        SCOPES.setdefault(name, description)
    for name, permission in (staff or {}).items():
        if name not in scopes:
            raise ValueError(f"staff scope {name!r} is not among the scopes registered with it")
        STAFF_SCOPES.setdefault(name, permission)


def available_to(user) -> dict[str, str]:
    """The scopes ``user`` may put on a key: staff scopes only with the matching permission."""
    return {
        name: text
        for name, text in SCOPES.items()
        if name not in STAFF_SCOPES or user.has_permission(STAFF_SCOPES[name])
    }
