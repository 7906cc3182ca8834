"""Who is calling the API, and with which scopes.

Issue 2: the browser session (CSRF is checked on writes by ``webapp.auth.login``).
The API-platform issue adds API keys and JWT access tokens here, behind the same interface.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import g
from flask_login import current_user

from webapp.api import scopes as scope_registry
from webapp.auth.models import User
from webapp.errors import Forbidden, Unauthorized


@dataclass(frozen=True)
class Principal:
    """The member behind a request and what this credential lets them do."""

    user: User
    via: str  # "session", "token" or "key"
    scopes: frozenset[str] = field(default_factory=lambda: frozenset(scope_registry.SCOPES))

    def can(self, scope: str) -> bool:
        return scope in self.scopes


def authenticate() -> Principal:
    """The request's principal, or ``Unauthorized``; suspended members are refused."""
    if not current_user.is_authenticated:
        raise Unauthorized("Sign in or send a valid bearer token.")
    principal = Principal(user=current_user._get_current_object(), via="session")
    _check_standing(principal.user)
    return principal


def _check_standing(user: User) -> None:
    if user.is_suspended:
        raise Forbidden("This account is suspended.", code="account_suspended")
    if not user.is_active:
        raise Forbidden("This account is deactivated.", code="account_inactive")


def require_scope(principal: Principal, scope: str | None) -> None:
    """``insufficient_scope`` naming the missing scope."""
    if scope and not principal.can(scope):
        raise Forbidden(
            f"This credential lacks the '{scope}' scope.",
            code="insufficient_scope",
            details={"required_scope": scope},
        )


def current_principal() -> Principal:
    return g.principal
