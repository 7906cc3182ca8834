"""Who is calling the API, and with which scopes.

One layer for every /api/v1 route: ``Authorization: Bearer <API key | access token>``, or the
browser session (whose writes must carry a CSRF token, checked here once we know the caller
uses the cookie, so that a request with no credentials at all gets 401, not a CSRF 400). A key holds the
scopes its owner chose; sessions and access tokens hold every scope of their member.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from flask import request
from flask_login import current_user

from webapp.api import scopes as scope_registry
from webapp.auth.models import User
from webapp.errors import Forbidden, Unauthorized
from webapp.extensions import csrf
from webapp.security import SAFE_METHODS


@dataclass(frozen=True)
class Principal:
    """The member behind a request and what this credential lets them do."""

    user: User
    via: str  # "session", "token" or "key"
    scopes: frozenset[str] = field(default_factory=lambda: frozenset(scope_registry.SCOPES))
    api_key_id: uuid.UUID | None = None
    api_key_rate_limit: int | None = None
    api_key_expires_at: datetime | None = None

    def can(self, scope: str) -> bool:
        return scope in self.scopes


def bearer_token() -> str | None:
    """The bearer credential, ``""`` when the header is malformed, None when absent."""
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return ""
    return token.strip()


def authenticate() -> Principal:
    """The request's principal, or ``Unauthorized``; suspended members get 403."""
    token = bearer_token()
    if token == "":
        raise Unauthorized("Send 'Authorization: Bearer <API key or access token>'.")
    if token is None:
        principal = _from_session()
    elif token.startswith("pk_"):
        principal = _from_api_key(token)
    else:
        principal = _from_access_token(token)
    _check_standing(principal.user)
    return principal


def _from_session() -> Principal:
    if not current_user.is_authenticated:
        raise Unauthorized("Sign in or send a valid bearer token.")
    if request.method not in SAFE_METHODS:
        csrf.protect()  # the cookie is ambient authority: a write must prove it came from our pages
    return Principal(user=current_user._get_current_object(), via="session")


def _from_api_key(token: str) -> Principal:
    from webapp.apikeys import service as apikeys

    key, user = apikeys.authenticate(token)
    granted = frozenset(key.permissions or []) & frozenset(scope_registry.SCOPES)
    return Principal(
        user=user,
        via="key",
        scopes=granted,
        api_key_id=key.id,
        api_key_rate_limit=key.rate_limit,
        api_key_expires_at=key.expires_at,
    )


def _from_access_token(token: str) -> Principal:
    from webapp.auth.access import user_from_access_token

    return Principal(user=user_from_access_token(token), via="token")


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


def require_permission(principal: Principal, permission: str | None) -> None:
    """Staff routes: the member's role must grant ``permission``."""
    if permission and not principal.user.has_permission(permission):
        raise Forbidden("Your role does not allow this.", code="forbidden", details={"required_permission": permission})
