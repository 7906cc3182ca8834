"""API rate limits, enforced by Flask-Limiter with limits chosen per caller.

An API key is limited by its own ``rate_limit`` per hour; a member using a session or an
access token by ``API_LIMIT_PER_MEMBER``; unauthenticated calls by IP. Flask-Limiter adds
``X-RateLimit-*`` headers to every answer and ``Retry-After`` to 429s.
"""

from __future__ import annotations

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
