"""Declaring API routes: authentication, scope, and the metadata OpenAPI is built from.

    @endpoint(bp, "PATCH", "/profile", scope=PROFILE_WRITE, tag="Profile", summary="Update fields",
              body=schemas.ProfileChanges, response=schemas.ProfileReply)
    def patch_profile(principal): ...

The view receives the authenticated ``Principal`` as its first argument. ``body``, ``query``
and ``response`` are the resource's declarations from its ``schemas.py`` (``webapp.contracts``);
the service the view calls cleans the input with the same contract. Every operation is
recorded in ``OPERATIONS``, from which ``webapp.api.openapi`` builds the OpenAPI document.
The scope and the tag are the ones a domain registers from its ``init_app``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

from flask import Blueprint, g, jsonify, make_response, request

from webapp.api import idempotency
from webapp.api.auth import authenticate, require_permission, require_scope
from webapp.api.ratelimit import PER_CALLER, Limit
from webapp.api.strict_json import InvalidJSON
from webapp.api.strict_json import loads as strict_loads
from webapp.contracts import inline_json_schema
from webapp.errors import ServiceError, ValidationFailed
from webapp.extensions import limiter
from webapp.usage.counter import record_api_call


@dataclass
class Operation:
    """One documented API operation."""

    method: str
    path: str
    endpoint: str
    summary: str
    scope: str | None
    tag: str
    body: Any = None  # a Contract (webapp.contracts), or a JSON Schema
    response: Any = None  # a Reply, a type over Replies (list[KeyReply]), or a JSON Schema
    meta: Any = None  # the Reply of the answer's ``meta`` (pagination.ListMeta for lists)
    status: int = 200
    aliases: tuple[str, ...] = ()
    public: bool = False
    permission: str | None = None
    raw_response: dict[str, Any] | None = None  # documented without the {"data": ...} envelope
    files: dict[str, str] = field(default_factory=dict)  # multipart file parts: name -> description
    query: Any = None  # a Contract whose fields are the query parameters
    errors: tuple[int, ...] = ()  # statuses beyond those every operation of its kind can answer
    idempotent: bool = False  # takes an Idempotency-Key header (webapp.api.idempotency)
    limit: Limit | None = None  # its rate-limit policy (webapp.api.ratelimit)

    @property
    def body_schema(self) -> dict[str, Any] | None:
        """The body's JSON Schema with nothing left to resolve."""
        return None if self.body is None else inline_json_schema(self.body)

    @property
    def multipart(self) -> bool:
        """The body is multipart/form-data (file parts), not JSON."""
        return bool(self.files)


OPERATIONS: list[Operation] = []


def endpoint(
    bp: Blueprint,
    method: str,
    rule: str,
    *,
    summary: str,
    scope: str | None,
    tag: str,
    body: Any = None,
    response: Any = None,
    meta: Any = None,
    status: int = 200,
    aliases: tuple[str, ...] = (),
    files: dict[str, str] | None = None,
    query: Any = None,
    public: bool = False,
    permission: str | None = None,
    errors: tuple[int, ...] = (),
    limit: Limit = PER_CALLER,
    idempotent: bool = False,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a JSON route (and its documented aliases) on ``bp``.

    Authenticated routes (the default) receive the ``Principal`` as first argument; ``public``
    routes (sign-up, sign-in, refresh) take no credentials. ``limit`` is the rate-limit policy
    (``webapp.api.ratelimit``: ``PER_CALLER``, ``PER_IP`` or another ``Limit``); on
    authenticated routes it is evaluated after authentication, so it can depend on the caller.
    ``files`` names the file parts of a multipart body (name -> description); the route then
    reads ``request.files`` and the document describes that body instead of JSON.
    ``idempotent`` routes honour an ``Idempotency-Key`` header: a repeat replays the first
    answer and writes nothing (``webapp.api.idempotency``).
    A route's scope and tag are checked once every domain has registered its own
    (``openapi.check_operations``), since a route may use a scope another domain owns.
    """

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        operation = f"{bp.name}.{view.__name__}"
        if public:
            wrapped = _public(view, limit)
        else:
            wrapped = _authenticated(view, scope, permission, limit, operation if idempotent else None)
        bp.add_url_rule(rule, endpoint=view.__name__, view_func=wrapped, methods=[method])
        for number, alias in enumerate(aliases):
            bp.add_url_rule(alias, endpoint=f"{view.__name__}_alias{number}", view_func=wrapped, methods=[method])
        prefix = bp.url_prefix or ""
        OPERATIONS.append(
            Operation(
                method=method,
                path=prefix + rule,
                endpoint=operation,
                summary=summary,
                scope=scope,
                tag=tag,
                body=body,
                response=response,
                meta=meta,
                status=status,
                aliases=tuple(prefix + a for a in aliases),
                files=dict(files or {}),
                query=query,
                public=public,
                permission=permission,
                errors=errors,
                idempotent=idempotent,
                limit=limit,
            )
        )
        return wrapped

    return decorator


def _limited(view: Callable[..., Any], limit: Limit) -> Callable[..., Any]:
    return limiter.shared_limit(limit.value, scope=limit.scope, key_func=limit.key)(view)


def _public(view: Callable[..., Any], limit: Limit) -> Callable[..., Any]:
    limited = _limited(view, limit)

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any):
        g.principal = None
        # Checked here, not inside the limit: a view with limits of its own (login) runs them all
        # from its innermost wrapper, which would put the check on the other side for it alone.
        # A body that is not JSON reaches no account, so refusing it uncounted costs nothing.
        read_json_body()
        return limited(*args, **kwargs)

    wrapped.csrf_exempt = True  # takes no cookie, so there is nothing to forge
    return wrapped


def _authenticated(
    view: Callable[..., Any], scope: str | None, permission: str | None, limit: Limit, idempotent_as: str | None
) -> Callable[..., Any]:
    @wraps(view)
    def checked(*args: Any, **kwargs: Any):
        failure = g.pop("auth_failure", None)
        if failure is not None:
            raise failure
        principal = g.principal
        record_api_call(principal.user.id, principal.api_key_id, principal.user.plan)
        require_scope(principal, scope)
        require_permission(principal, permission)
        body = read_json_body()
        if idempotent_as is None:
            return view(principal, *args, **kwargs)
        replay = idempotency.claim(principal.user.id, idempotent_as, body)
        if replay is not None:
            return replay
        return idempotency.remember(view(principal, *args, **kwargs))

    # The limit is evaluated inside this wrapper, after authentication, so it can depend on
    # the caller; unauthenticated attempts count against their IP.
    limited = _limited(checked, limit)

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any):
        try:
            g.principal = authenticate()
        except ServiceError as exc:
            g.principal, g.auth_failure = None, exc
        return limited(*args, **kwargs)

    # The app-wide CSRF hook skips these routes: ``authenticate`` checks the token itself when
    # the caller turns out to use the session cookie (bearer callers carry no ambient credential).
    wrapped.csrf_exempt = True
    return wrapped


_UNREAD = object()


def read_json_body() -> Any:
    """The parsed body of a request sent as JSON (None when it sent none), or a 422 naming what
    makes it not strict JSON. Every operation calls it before its view, so a malformed body is
    refused the same way on every route, whether or not the route reads a body."""
    # Kept on the request, not on ``g``: an app context (so ``g``) can outlive one request.
    parsed = request.environ.get("folio.json_body", _UNREAD)
    if parsed is _UNREAD:
        raw = request.get_data(cache=True) if request.is_json else b""
        try:
            parsed = strict_loads(raw) if raw.strip() else None
        except InvalidJSON as exc:
            raise ValidationFailed("The body is not valid JSON.", details={"body": [str(exc)]}) from None
        request.environ["folio.json_body"] = parsed
    return parsed


def json_body() -> dict[str, Any]:
    """The request's JSON object, or a 422 that says what was wrong with it."""
    if not request.is_json:
        raise ValidationFailed(
            "Send a JSON object with Content-Type: application/json.", details={"body": ["Expected application/json."]}
        )
    data = read_json_body()
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


def no_store(result: Any):
    """An answer that carries a secret (an API key, a token): no browser or proxy may keep it."""
    response = make_response(result)
    response.headers["Cache-Control"] = "no-store"
    return response
