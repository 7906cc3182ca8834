"""The OpenAPI 3.1 document, built from the operations the ``endpoint`` decorator recorded,
and the human-readable reference page at /api/docs."""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Blueprint, Flask, current_app, jsonify, render_template

from webapp.api import idempotency
from webapp.api import scopes as scope_registry
from webapp.api.endpoint import OPERATIONS, Operation
from webapp.contracts import inline_json_schema, json_schema

bp = Blueprint("openapi", __name__)

PATH_PARAM = re.compile(r"<(?:\w+:)?(\w+)>")
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {"type": "object"},
            },
        }
    },
}
ERROR_TEXT = {
    400: "A cookie-authenticated write without its CSRF token (X-CSRFToken)",
    401: "Missing, malformed, expired or revoked credentials",
    402: "Not enough credits, or past the monthly limit (`insufficient_credits`, `monthly_limit_reached`)",
    403: "Authenticated, but the credential lacks the scope or the role lacks the permission",
    404: "No such resource, or it belongs to someone else",
    409: "Conflicts with existing data, or the same Idempotency-Key is still being answered",
    413: "Upload too large",
    422: "The body or query failed validation; `details` names each field",
    429: "Rate limit exceeded; see Retry-After",
    503: "Not available on this server (for example, no payment provider is set up)",
}


def _openapi_path(path: str) -> str:
    return PATH_PARAM.sub(r"{\1}", path)


def _error(status: int) -> dict[str, Any]:
    return {
        "description": ERROR_TEXT[status],
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _success(op: Operation, components: dict[str, Any]) -> dict[str, Any]:
    if op.raw_response is not None:
        return {"description": "Success", "content": {"application/json": {"schema": op.raw_response}}}
    if op.status == 204 or op.response is None:
        return {"description": "Done; no content"}
    envelope = {
        "type": "object",
        "required": ["data"],
        "properties": {
            "data": json_schema(op.response, components),
            "meta": json_schema(op.meta, components) if op.meta is not None else {"type": "object"},
        },
    }
    return {"description": "Success", "content": {"application/json": {"schema": envelope}}}


def _request_body(op: Operation, components: dict[str, Any]) -> dict[str, Any] | None:
    if op.files:
        schema = {
            "type": "object",
            "required": list(op.files),
            "properties": {
                name: {"type": "string", "format": "binary", "description": text} for name, text in op.files.items()
            },
        }
        return {"required": True, "content": {"multipart/form-data": {"schema": schema}}}
    if op.body is None:
        return None
    return {"required": True, "content": {"application/json": {"schema": json_schema(op.body, components)}}}


def _query_parameters(op: Operation) -> list[dict[str, Any]]:
    """One parameter per field of the operation's query contract."""
    if op.query is None:
        return []
    schema = inline_json_schema(op.query)
    parameters = []
    for name, field in schema.get("properties", {}).items():
        field = dict(field)
        parameter = {"name": name, "in": "query", "required": name in schema.get("required", ())}
        if "description" in field:
            parameter["description"] = field.pop("description")
        parameters.append({**parameter, "schema": field})
    return parameters


def _operation(op: Operation, components: dict[str, Any], alias_of: str | None = None) -> dict[str, Any]:
    params = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in PATH_PARAM.findall(op.path)
    ]
    responses: dict[str, Any] = {str(op.status): _success(op, components)}
    statuses = [429, *op.errors]
    if not op.public:
        statuses += [401, 403]
        if op.method != "GET":
            statuses.append(400)  # a session-cookie write without its CSRF token
    if params:
        statuses.append(404)
    if op.body is not None or op.query or op.multipart or op.method != "GET":
        statuses.append(422)  # writes: also a JSON body that is not strict JSON, whether or not one is read
    if op.multipart:
        statuses.append(413)
    if op.idempotent:
        statuses.append(409)  # the same key while its first request is still being answered
    for status in sorted(set(statuses)):
        responses[str(status)] = _error(status)
    if op.raw_response is not None:  # bare JSON (health, this document), not rate limited
        responses = {"200": _success(op, components)}
        if op.endpoint == "health.health":  # the same body with 503 when the database is down
            responses["503"] = {**_success(op, components), "description": "Database unreachable"}
    operation: dict[str, Any] = {
        "operationId": op.endpoint.split(".")[-1] + (f"_via_{alias_of}" if alias_of else ""),
        "summary": op.summary,
        "tags": [op.tag],
        "parameters": params + _query_parameters(op) + ([idempotency.HEADER_PARAMETER] if op.idempotent else []),
        "responses": responses,
        "security": [] if op.public else [{"bearerAuth": []}, {"sessionCookie": []}],
    }
    if op.scope:
        operation["x-required-scope"] = op.scope
        operation["description"] = f"Requires the `{op.scope}` scope."
    if op.permission:
        operation["description"] = operation.get("description", "") + f" Staff only: the role needs `{op.permission}`."
    if alias_of:
        operation["description"] = (operation.get("description", "") + f" Alias of `{alias_of}`.").strip()
    body = _request_body(op, components)
    if body:
        operation["requestBody"] = body
    return operation


# Tags by name, in the order domains register them (``webapp.DOMAINS``): the reference reads
# top to bottom that way, signing in first, staff and plumbing last.
TAGS: dict[str, str] = {}

NAMING = (
    "Field names are snake_case (`first_name`, `avatar_url`), as in the rest of Folio, except "
    "under `/api/v1/auth/*` (the Auth tag), which keeps the camelCase of the sign-in API it "
    "was specified with (`accessToken`, `firstName`)."
)


def register_tag(name: str, description: str) -> None:
    """Declare an OpenAPI tag (idempotent: every app registers it); a domain's routes use it."""
    TAGS.setdefault(name, description)


def check_operations(app: Flask) -> None:
    """Refuse to start when a route of ``app`` needs a scope or a tag that no domain registered
    (a typo, or a domain whose ``init_app`` forgot to)."""
    for op in OPERATIONS:
        if op.endpoint not in app.view_functions:
            continue
        if op.scope is not None and op.scope not in scope_registry.SCOPES:
            raise ValueError(f"{op.endpoint}: scope {op.scope!r} is not registered (scopes.register_scopes)")
        if op.tag not in TAGS:
            raise ValueError(f"{op.endpoint}: OpenAPI tag {op.tag!r} is not registered (openapi.register_tag)")


def served_operations() -> list[Operation]:
    """The recorded operations whose view this app serves (a module can be imported without its
    blueprint being registered, e.g. by a test)."""
    return [op for op in OPERATIONS if op.endpoint in current_app.view_functions]


def _tag_rank(tag: str) -> int:
    return list(TAGS).index(tag) if tag in TAGS else len(TAGS)


def build_spec() -> dict[str, Any]:
    """The whole document; every recorded operation and alias becomes a path item."""
    paths: dict[str, dict[str, Any]] = {}
    components: dict[str, Any] = {}
    for op in served_operations():
        paths.setdefault(_openapi_path(op.path), {})[op.method.lower()] = _operation(op, components)
        for alias in op.aliases:
            paths.setdefault(_openapi_path(alias), {})[op.method.lower()] = _operation(op, components, alias_of=op.path)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Folio API",
            "version": "1.0.0",
            "description": "JSON API for Folio members, their scripts and apps. Authenticate with "
            "`Authorization: Bearer <API key or access token>`. " + NAMING,
        },
        "servers": [{"url": "/"}],
        "tags": [{"name": name, "description": text} for name, text in TAGS.items()],
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": {
                **dict(sorted(components.items())),
                "Error": ERROR_SCHEMA,
            },
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API key (pk_live_…) or a JWT access token from /api/v1/auth/login",
                },
                "sessionCookie": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "folio_session",
                    "description": "The browser session; writes also need the X-CSRFToken header",
                },
            },
        },
        "x-scopes": dict(scope_registry.SCOPES),
    }


@bp.get("/api/v1/openapi.json")
def openapi_json():
    """The machine-readable API description."""
    return jsonify(build_spec())


# The document describes itself too, so that every /api/v1 rule is in it.
OPERATIONS.append(
    Operation(
        method="GET",
        path="/api/v1/openapi.json",
        endpoint="openapi.openapi_json",
        summary="This OpenAPI 3.1 document",
        scope=None,
        tag="Meta",
        public=True,
        raw_response={"type": "object", "required": ["openapi", "info", "paths"]},
    )
)


def example(schema: dict[str, Any] | None, *, full: bool = False) -> Any:
    """A small example value for a JSON Schema, for the curl snippets on the reference page."""
    if not schema:
        return None
    if "examples" in schema:
        return schema["examples"][0]
    if "anyOf" in schema:  # an optional field: show the value it has when set
        return example(next((s for s in schema["anyOf"] if s.get("type") != "null"), {}), full=full)
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    kind = next((k for k in kind if k != "null"), "string") if isinstance(kind, list) else kind
    if kind == "object":
        # Answers show every field; request bodies show what is required (or a few fields).
        props = schema.get("properties", {})
        shown = list(props) if full else (schema.get("required") or list(props)[:3])
        return {name: example(props[name], full=full) for name in shown if name in props}
    if kind == "array":
        return [example(schema.get("items"), full=full)] if schema.get("items") else []
    if kind == "integer":
        return schema.get("minimum", 1)
    if kind == "boolean":
        return True
    fmt = schema.get("format")
    return {
        "email": "you@example.com",
        "uuid": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
        "date-time": "2027-01-31T00:00:00Z",
        "uri": "https://example.com",
    }.get(fmt, "string")


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


def _inline(declared: Any) -> dict[str, Any] | None:
    """A body or answer's schema with its references resolved, for the examples."""
    return None if declared is None else inline_json_schema(declared)


def _curl(op: Operation, base: str) -> str:
    path = _openapi_path(op.path)
    lines = [f"curl -X {op.method} {base}{path}"]
    if not op.public:
        lines.append('  -H "Authorization: Bearer $FOLIO_API_KEY"')
    if op.files:
        lines.extend(f'  -F "{name}=@{name}.jpg"' for name in op.files)
    elif op.body is not None:
        lines.append('  -H "Content-Type: application/json"')
        lines.append(f"  -d '{json.dumps(example(_inline(op.body)), ensure_ascii=False)}'")
    return " \\\n".join(lines)


@bp.get("/api/docs")
def docs():
    """The API reference: every operation with its scope, body and a curl example."""
    base = current_app.config["BASE_URL"].rstrip("/")
    groups: dict[str, list[dict[str, Any]]] = {}
    for op in sorted(served_operations(), key=lambda o: _tag_rank(o.tag)):
        groups.setdefault(op.tag, []).append(
            {
                "op": op,
                "curl": _curl(op, base),
                "body": _pretty(example(_inline(op.body))) if op.body else None,
                "response": _pretty({"data": example(_inline(op.response), full=True)}) if op.response else None,
            }
        )
    return render_template("api/docs.html", groups=groups, scopes=scope_registry.SCOPES, base=base)
