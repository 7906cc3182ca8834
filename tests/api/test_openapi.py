"""The OpenAPI 3.1 document, the reference page, and a bounded schemathesis run against the app."""

from __future__ import annotations

import itertools
import re

import pytest

from tests.helpers import bearer, make_key, make_staff, registered_operations
from webapp.api.openapi import _openapi_path
from webapp.contracts import json_schema, resolve

OPERATIONS = registered_operations()


@pytest.fixture
def spec(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    return response.get_json()


def test_document_is_valid_openapi_3_1(spec):
    from openapi_spec_validator import OpenAPIV31SpecValidator, validate

    assert spec["openapi"].startswith("3.1")
    validate(spec, cls=OpenAPIV31SpecValidator)


def test_every_api_rule_is_documented(app, spec):
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        path = _openapi_path(rule.rule)
        assert path in spec["paths"], path
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert method.lower() in spec["paths"][path], f"{method} {path}"


def test_operations_document_scopes_errors_and_bodies(spec):
    assert set(spec["x-scopes"]) >= {"profile:read", "keys:manage", "users:read"}
    for op in OPERATIONS:
        documented = spec["paths"][_openapi_path(op.path)][op.method.lower()]
        assert documented["summary"] and documented["operationId"]
        if not op.public:
            assert documented["x-required-scope"] == op.scope
            assert {"401", "403", "429"} <= set(documented["responses"])
            assert documented["security"]
        if op.body is not None:
            assert documented["requestBody"]["content"]["application/json"]["schema"] == json_schema(op.body, {})
            assert "422" in documented["responses"]
        if "{" in _openapi_path(op.path):
            assert "404" in documented["responses"]
    operation_ids = [o["operationId"] for item in spec["paths"].values() for o in item.values()]
    assert len(operation_ids) == len(set(operation_ids))


def test_reference_page_shows_every_operation_with_curl(client):
    response = client.get("/api/docs")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<html" in html
    for op in OPERATIONS:
        path = _openapi_path(op.path)
        assert re.search(rf"curl -X {op.method} \S*{re.escape(path)}", html), f"{op.method} {path}"
        assert op.summary.replace("'", "&#39;").replace('"', "&#34;") in html or op.summary in html
        if op.scope:
            assert op.scope in html
    assert "Authorization: Bearer" in html


def test_reference_page_curl_bodies_are_json(client):
    """The -d payloads must be valid JSON a reader can paste."""
    import html as html_lib
    import json

    page = html_lib.unescape(client.get("/api/docs").get_data(as_text=True))
    bodies = re.findall(r"-d '([^']*)'", page)
    assert bodies
    for body in bodies:
        json.loads(body)


# --- schemathesis ------------------------------------------------------------------------------

# Deleting the account would end the run if the fuzzer ever sent the admin's password.
NOT_FUZZED = [("DELETE", "/api/v1/account")]


def _describe(exc: BaseException) -> str:
    parts = [str(e) for e in getattr(exc, "exceptions", ())] or [str(exc)]
    return " | ".join(p.strip()[:400] for p in parts)


def test_schemathesis_finds_no_server_errors_or_schema_breaks(app, make_user, monkeypatch):
    import schemathesis
    from hypothesis import HealthCheck, Phase, given, settings
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

    admin = make_staff(make_user(email="fuzzer@example.com"))
    _, secret = make_key(admin, rate_limit=100_000)
    # Id-taking operations are pointed at real rows half the time (random ids only reach 404),
    # never at the fuzzing admin or its own key.
    victims = {
        "key_id": lambda: str(make_key(admin, name="victim")[0].id),
        "user_id": lambda: str(make_user().id),
    }
    # The auth routes' strict limits would turn most of their cases into 429s.
    monkeypatch.setitem(app.config, "API_AUTH_LIMIT", "10000 per minute")
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_ACCOUNT", "10000 per minute")
    turns = itertools.count()
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    checks = [not_a_server_error, response_schema_conformance, status_code_conformance]
    failures, fuzzed = [], 0

    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in NOT_FUZZED:
            continue

        @settings(
            max_examples=6,
            phases=[Phase.explicit, Phase.generate],
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def fuzz(case):
            for name in set(case.path_parameters or {}) & set(victims):
                if next(turns) % 2:
                    case.path_parameters[name] = victims[name]()
            try:
                case.call_and_validate(headers=bearer(secret), checks=checks)
            except (Exception, BaseExceptionGroup) as exc:  # schemathesis raises a BaseExceptionGroup
                # Collected rather than raised, so that one run reports every broken operation.
                failures.append(f"{case.method} {case.formatted_path}: {_describe(exc)}")

        fuzz()
        fuzzed += 1

    assert fuzzed >= len(OPERATIONS) - len(NOT_FUZZED)
    assert failures == [], "\n\n".join(dict.fromkeys(failures))


SNAKE_CASE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")


def _property_names(schema):
    """Every property name declared anywhere in ``schema`` (nested objects and arrays too)."""
    if isinstance(schema, dict):
        for name, value in schema.items():
            if name == "properties" and isinstance(value, dict):
                yield from value
            yield from _property_names(value)
    elif isinstance(schema, list):
        for value in schema:
            yield from _property_names(value)


def test_field_names_are_snake_case_except_under_the_auth_tag(spec):
    """Folio's JSON is snake_case; /api/v1/auth/* keeps its specification's camelCase, and the
    document says so where a reader looks (the description and the Auth tag)."""
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            operation = resolve(operation, spec["components"]["schemas"])
            # Header names are HTTP's own (Idempotency-Key), not JSON fields.
            parameters = [p["name"] for p in operation["parameters"] if p["in"] != "header"]
            names = [*_property_names(operation), *parameters]
            if operation["tags"] == ["Auth"]:
                assert path.startswith("/api/v1/auth/"), path
                continue
            wrong = [name for name in names if not SNAKE_CASE.match(name)]
            assert not wrong, f"{method.upper()} {path}: {wrong}"
    login = resolve(spec["paths"]["/api/v1/auth/login"]["post"], spec["components"]["schemas"])
    assert "accessToken" in set(_property_names(login))
    assert "snake_case" in spec["info"]["description"] and "camelCase" in spec["info"]["description"]
    auth_tag = next(tag for tag in spec["tags"] if tag["name"] == "Auth")
    assert "camelCase" in auth_tag["description"]


def test_file_parts_are_documented_as_a_multipart_body(spec):
    """``endpoint(files=...)``: the avatar upload's body is multipart with its one binary part."""
    operation = spec["paths"]["/api/v1/profile/avatar"]["post"]
    schema = operation["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert list(operation["requestBody"]["content"]) == ["multipart/form-data"]
    assert schema["required"] == ["avatar"]
    assert schema["properties"]["avatar"]["type"] == "string"
    assert schema["properties"]["avatar"]["format"] == "binary"
    assert {"413", "422"} <= set(operation["responses"])
