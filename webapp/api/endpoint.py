"""Declaring API routes: authentication, scope, and the metadata OpenAPI is built from.

    @endpoint(bp, "GET", "/profile", scope=scopes.PROFILE_READ, summary="Your profile",
              response=schemas.PROFILE)
    def get_profile(principal): ...

The view receives the authenticated ``Principal`` as its first argument.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import wraps
from typing import Any, Callable

from flask import Blueprint, g, jsonify, request

from webapp.api import scopes as scope_registry
from webapp.api.auth import authenticate, require_scope
from webapp.errors import ValidationFailed


@dataclass
class Operation:
    """One documented API operation."""

    method: str
    path: str
    endpoint: str
    summary: str
    scope: str | None
    tag: str
    body: dict[str, Any] | None = None
    response: dict[str, Any] | None = None
    status: int = 200
    aliases: tuple[str, ...] = ()
    public: bool = False
    multipart: bool = False
    query: list[dict[str, Any]] = field(default_factory=list)


OPERATIONS: list[Operation] = []


def endpoint(
    bp: Blueprint,
    method: str,
    rule: str,
    *,
    summary: str,
    scope: str | None,
    tag: str,
    body: dict[str, Any] | None = None,
    response: dict[str, Any] | None = None,
    status: int = 200,
    aliases: tuple[str, ...] = (),
    multipart: bool = False,
    query: list[dict[str, Any]] | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register an authenticated JSON route (and its documented aliases) on ``bp``."""
    if scope is not None and scope not in scope_registry.SCOPES:
        raise ValueError(f"scope {scope!r} is not registered in webapp.api.scopes")

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any):
            principal = authenticate()
            require_scope(principal, scope)
            g.principal = principal
            return view(principal, *args, **kwargs)

        bp.add_url_rule(rule, endpoint=view.__name__, view_func=wrapped, methods=[method])
        for number, alias in enumerate(aliases):
            bp.add_url_rule(alias, endpoint=f"{view.__name__}_alias{number}", view_func=wrapped, methods=[method])
        prefix = bp.url_prefix or ""
        OPERATIONS.append(
            Operation(
                method=method, path=prefix + rule, endpoint=f"{bp.name}.{view.__name__}",
                summary=summary, scope=scope, tag=tag, body=body, response=response, status=status,
                aliases=tuple(prefix + a for a in aliases), multipart=multipart, query=query or [],
            )
        )
        return wrapped

    return decorator


def json_body() -> dict[str, Any]:
    """The request's JSON object, or a 422 that says what was wrong with it."""
    if not request.is_json:
        raise ValidationFailed("Send a JSON object with Content-Type: application/json.",
                               details={"body": ["Expected application/json."]})
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ValidationFailed("The body must be a JSON object.", details={"body": ["Expected a JSON object."]})
    return data


def ok(data: Any, status: int = 200, **meta: Any):
    """The success envelope: ``{"data": ...}`` plus optional ``meta``."""
    body: dict[str, Any] = {"data": data}
    if meta:
        body["meta"] = meta
    return jsonify(body), status


def no_content():
    return "", 204
