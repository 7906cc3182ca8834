"""API rate limits, enforced by Flask-Limiter with limits chosen per caller.

An operation names its policy with ``endpoint(..., limit=...)``: ``PER_CALLER`` (the default)
limits an API key by its own ``rate_limit`` per hour, a member using a session or an access
token by ``API_LIMIT_PER_MEMBER``, and unauthenticated calls by IP; ``PER_IP`` is the stricter
per-address budget of the routes that take no credentials (sign-up, sign-in, refresh).
Flask-Limiter adds ``X-RateLimit-*`` headers to every answer and ``Retry-After`` to 429s.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app, g

from webapp.security import client_ip


def limit_for_caller() -> str:
    principal = g.get("principal")
    if principal is None:
        return current_app.config["API_LIMIT_ANONYMOUS"]
    if principal.api_key_id is not None:
        return f"{principal.api_key_rate_limit} per hour"
    return current_app.config["API_LIMIT_PER_MEMBER"]


def caller_key() -> str:
    principal = g.get("principal")
    if principal is None:
        return f"api-ip:{client_ip()}"
    if principal.api_key_id is not None:
        return f"api-key:{principal.api_key_id}"
    return f"api-member:{principal.user.id}"


def auth_route_limit() -> str:
    return current_app.config["API_AUTH_LIMIT"]


def ip_key() -> str:
    return f"api-auth-ip:{client_ip()}"


@dataclass(frozen=True)
class Limit:
    """A rate limit that operations share: ``value`` ("10 per minute", or a callable giving it
    per request), ``key`` (whose budget a call draws from) and ``scope`` (the bucket's name:
    every route with the same policy counts in the same bucket)."""

    value: str | Callable[[], str]
    key: Callable[[], str]
    scope: str


PER_CALLER = Limit(limit_for_caller, caller_key, "api")
PER_IP = Limit(auth_route_limit, ip_key, "api-auth")
