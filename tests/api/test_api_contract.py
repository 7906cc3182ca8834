"""The API's input contract on every write operation: what a body may hold, and which error
wins when a request is wrong in more than one way.

The operations come from ``OPERATIONS``, so a route added by a later domain is held to the same
rules without being listed here.
"""

from __future__ import annotations

import json

import pytest

from tests.helpers import (
    assert_json_error,
    bearer,
    fill,
    make_key,
    op_id,
    path_params,
    registered_operations,
    table_counts,
)
from webapp.credits import service as credits
from webapp.extensions import db

OPERATIONS = registered_operations()
WRITES = [op for op in OPERATIONS if op.method in ("POST", "PUT", "PATCH", "DELETE")]


def _ids(ops):
    return [op_id(op) for op in ops]


def _real_path(op, admin, make_user) -> str:
    """``op``'s path with ids that exist and are the caller's to touch."""
    values = {}
    for name in path_params(op):
        if name == "key_id":
            values[name] = make_key(admin, name="Target key")[0].id
        elif name == "user_id":
            values[name] = make_user(email="target@example.com").id
        else:  # pragma: no cover - a new id parameter needs a factory here
            pytest.fail(f"no factory for path parameter {name}")
    return fill(op.path, **values)


# --- 1. Bodies that are not strict JSON --------------------------------------------------

DEEP = 10_000  # ten times past Python's recursion limit


def _bad_bodies(op) -> dict[str, str]:
    """Raw bodies, each with one thing strict JSON refuses, in every field ``op`` documents."""
    fields = list((op.body_schema or {}).get("properties", {})) or ["value"]

    def every(literal: str) -> str:
        return "{" + ", ".join(f"{json.dumps(name)}: {literal}" for name in fields) + "}"

    return {
        "deep arrays": "[" * DEEP + "]" * DEEP,
        "deep arrays in a field": "{" + f"{json.dumps(fields[0])}: " + "[" * DEEP + "]" * DEEP + "}",
        "nested past the depth limit": "{" + f"{json.dumps(fields[0])}: " + "[" * 40 + "]" * 40 + "}",
        "lone high surrogate": every('"\\ud800"'),
        "lone low surrogate in a list": every('["fine", "x\\udfffy"]'),
        "lone surrogate in a key": '{"\\ud800": "x"}',
        "Infinity": every("Infinity"),
        "-Infinity": every("-Infinity"),
        "NaN": every("NaN"),
        "1e400": every("1e400"),
        "-1e400": every("-1e400"),
    }


def _snapshot():
    """Rows per table and every key's secret and settings (usage counters may move)."""
    from webapp.apikeys.models import ApiKey

    db.session.expire_all()
    counts = {name: n for name, n in table_counts().items() if name not in ("usage_metrics", "logs")}
    keys = sorted((str(k.id), k.name, k.key_hash, k.rate_limit) for k in db.session.scalars(db.select(ApiKey)))
    return counts, keys


def _send_bad_bodies(client, op, path, headers, expected: int, code: str):
    before = _snapshot()
    for label, body in _bad_bodies(op).items():
        response = client.open(path, method=op.method, data=body, content_type="application/json", headers=headers)
        error = assert_json_error(response, expected, code)
        if expected == 422:
            assert list(error["details"]) == ["body"], (label, error)
    assert _snapshot() == before


@pytest.mark.parametrize("op", WRITES, ids=_ids(WRITES))
def test_bad_json_is_422_with_a_key_holding_every_scope(client, admin, make_user, op):
    """Not a 500 from a RecursionError, an OverflowError or a surrogate the database can't store."""
    path = _real_path(op, admin, make_user)
    _, secret = make_key(admin)
    _send_bad_bodies(client, op, path, {} if op.public else bearer(secret), 422, "validation_failed")


@pytest.mark.parametrize("op", WRITES, ids=_ids(WRITES))
def test_bad_json_anonymously_is_422_on_public_routes_and_401_on_the_others(client, admin, make_user, op):
    path = _real_path(op, admin, make_user)
    if op.public:
        _send_bad_bodies(client, op, path, {}, 422, "validation_failed")
    else:
        _send_bad_bodies(client, op, path, {}, 401, "unauthorized")


@pytest.mark.parametrize("op", WRITES, ids=_ids(WRITES))
def test_bad_json_with_a_session_is_422(client, auth, admin, make_user, op):
    path = _real_path(op, admin, make_user)
    auth.login(admin.email)
    _send_bad_bodies(client, op, path, auth.headers(), 422, "validation_failed")


def test_bad_json_message_says_what_is_wrong(client, member, auth):
    headers = auth.headers()

    def problem(body: str) -> str:
        response = client.patch("/api/v1/profile", data=body, content_type="application/json", headers=headers)
        return assert_json_error(response, 422, "validation_failed")["details"]["body"][0]

    assert "deep" in problem('{"bio": ' + "[" * 50 + "]" * 50 + "}")
    assert "surrogate" in problem('{"bio": "\\ud800"}')
    assert "Infinity" in problem('{"budget_min": Infinity}')
    assert "NaN" in problem('{"budget_min": NaN}')
    assert "too large" in problem('{"budget_min": 1e400}')
    assert "JSON" in problem('{"bio": ')


def test_strict_json_still_takes_what_json_allows(client, member, auth):
    """A surrogate pair is one character, depth within the limit is fine, numbers are numbers."""
    body = '{"bio": "Smile \\ud83d\\ude00", "budget_min": 1e2, "budget_max": 250000}'
    response = client.patch("/api/v1/profile", data=body, content_type="application/json", headers=auth.headers())
    assert response.status_code == 200, response.get_json()
    data = response.get_json()["data"]
    assert data["bio"] == "Smile \U0001f600"
    assert (data["budget_min"], data["budget_max"]) == (100, 250000)


def test_login_with_deep_json_is_422_not_a_crash_in_the_account_limit(client):
    """The per-account sign-in limit reads the body before the view does."""
    response = client.post("/api/v1/auth/login", data="[" * DEEP + "]" * DEEP, content_type="application/json")
    assert_json_error(response, 422, "validation_failed")


# --- 3. Integers are whole numbers -------------------------------------------------------


def _is_integer(prop: dict) -> bool:
    kind = prop.get("type")
    return kind == "integer" or (isinstance(kind, list) and "integer" in kind)


INTEGER_FIELDS = [
    (op, name, prop)
    for op in OPERATIONS
    if op.body
    for name, prop in op.body_schema.get("properties", {}).items()
    if _is_integer(prop)
]

# A body each operation accepts, to which the integer under test is added.
VALID_BODIES = {
    "POST /api/v1/api-keys": {"name": "Numbers", "permissions": ["profile:read"]},
    "PATCH /api/v1/api-keys/<key_id>": {},
    "PATCH /api/v1/profile": {},
    "PATCH /api/v1/settings": {},
    "PATCH /api/v1/credits/auto-refill": {},
    "POST /api/v1/credits/spend": {},
    "POST /api/v1/tokens/add": {},
}


def test_the_api_has_integer_fields_to_check():
    """So that the tests below cannot pass by finding nothing."""
    found = {(op_id(op), name) for op, name, _ in INTEGER_FIELDS}
    assert {
        ("POST /api/v1/api-keys", "rate_limit"),
        ("PATCH /api/v1/api-keys/<key_id>", "rate_limit"),
        ("PATCH /api/v1/settings", "items_per_page"),
        ("PATCH /api/v1/profile", "budget_min"),
        ("PATCH /api/v1/profile", "budget_max"),
    } <= found


def _integer_caller(client, admin, make_user, op, name):
    """Sends ``op`` a valid body with ``name`` set to the value given, as one key on one row."""
    if op_id(op) not in VALID_BODIES:  # pragma: no cover - a new integer field needs a body here
        pytest.fail(f"add a valid body for {op_id(op)} to VALID_BODIES")
    _, secret = make_key(admin)
    path = _real_path(op, admin, make_user)
    if op_id(op) == "POST /api/v1/credits/spend":  # a spend needs credits to spend
        credits.add(admin.id, 10_000, "bonus", "To spend", source=credits.Source("grant"))
        db.session.commit()

    def call(value):
        body = {**VALID_BODIES[op_id(op)], name: value}
        return client.open(path, method=op.method, json=body, headers=bearer(secret))

    return call


# Where the answer shows the number another way: a spend answers its ledger row (amount < 0).
ANSWERED_AS = {"POST /api/v1/credits/spend": lambda data: -data["amount"]}

NOT_WHOLE = [1.9, 5.5, 0.5, True, False, "1.9", "7.0", "1e2", "1_000", " ", [5], {"n": 5}]


@pytest.mark.parametrize(
    "op, name, prop", INTEGER_FIELDS, ids=[f"{op_id(op)} {name}" for op, name, _ in INTEGER_FIELDS]
)
def test_integer_fields_refuse_fractions_and_booleans(client, admin, make_user, op, name, prop):
    call = _integer_caller(client, admin, make_user, op, name)
    before = _snapshot()
    for value in NOT_WHOLE:
        error = assert_json_error(call(value), 422, "validation_failed")
        assert list(error["details"]) == [name], (value, error)
        assert "whole number" in error["details"][name][0], (value, error)
    assert _snapshot() == before


@pytest.mark.parametrize(
    "op, name, prop", INTEGER_FIELDS, ids=[f"{op_id(op)} {name}" for op, name, _ in INTEGER_FIELDS]
)
def test_integer_fields_take_whole_numbers_written_as_floats(client, admin, make_user, op, name, prop):
    """``6.0`` is an integer to JSON Schema, so it is taken as 6 (and answered as 6); the text
    ``"6"`` is not, so it is refused as the schema says."""
    call = _integer_caller(client, admin, make_user, op, name)
    value = prop.get("minimum", 0) + 6
    for sent in (value, float(value)):
        response = call(sent)
        assert response.status_code == op.status, response.get_json()
        answered = ANSWERED_AS.get(op_id(op), lambda data: data[name])(response.get_json()["data"])
        assert answered == value and type(answered) is int, (sent, answered)
    assert list(assert_json_error(call(str(value)), 422, "validation_failed")["details"]) == [name]


def test_a_fractional_rate_limit_is_not_truncated_on_the_page_either(client, member, auth):
    response = client.post(
        "/settings/api-keys",
        data={"name": "Page key", "permissions": ["profile:read"], "rate_limit": "1.9", "csrf_token": auth.csrf()},
    )
    assert response.status_code == 422
    assert "whole number" in response.get_data(as_text=True)
    assert client.get("/api/v1/api-keys").get_json()["meta"]["total"] == 0


# --- 4. Lists are lists, and text holds no NUL --------------------------------------------

ACCOUNT_WRITES = [
    op
    for op in OPERATIONS
    if op.endpoint.startswith("accounts_api.") and op.body and op.method in ("POST", "PUT", "PATCH")
]
# A valid row of each list-of-objects field, so that the one bad value is the only problem.
VALID_ROWS = {
    "experience": {"title": "Founder", "company": "Studio", "start": "2019-03", "end": None, "description": "x"},
    "education": {"school": "Porto Arts", "degree": "BA", "start": "2011-09", "end": "2014-06"},
    "links": {"label": "Reel", "url": "https://example.com/reel"},
}


def _kinds(prop: dict) -> set[str]:
    kind = prop.get("type", ())
    return {kind} if isinstance(kind, str) else set(kind)


def _text_and_list_cases(op) -> list[tuple[str, dict, str]]:
    """(label, body, the field the 422 must name) for every text and list field ``op`` takes."""
    cases = []
    for name, prop in op.body_schema["properties"].items():
        if "string" in _kinds(prop):
            cases.append((f"{name} holding NUL", {name: "a\x00b"}, name))
        if "array" not in _kinds(prop):
            continue
        cases.append((f"{name} as a string", {name: "Video, Photo"}, name))
        items = prop.get("items", {})
        if "string" in _kinds(items) or "$ref" in items:
            cases.append((f"{name} with an entry holding NUL", {name: ["Fine", "a\x00b"]}, name))
            cases.append((f"{name} with a number", {name: ["Fine", 5]}, name))
        if "object" in _kinds(items):
            row = VALID_ROWS[name]
            cases.append((f"{name} of strings", {name: ["Founder"]}, name))
            for field, field_prop in items["properties"].items():
                if "string" in _kinds(field_prop):
                    bad_row = {**row, field: "a\x00b"}
                    cases.append((f"{name}.0.{field} holding NUL", {name: [bad_row]}, f"{name}.0.{field}"))
    return cases


def _account_state(client, headers):
    return [client.get(path, headers=headers).get_json()["data"] for path in ("/api/v1/profile", "/api/v1/settings")]


@pytest.mark.parametrize("op", ACCOUNT_WRITES, ids=_ids(ACCOUNT_WRITES))
def test_text_and_list_fields_refuse_strings_for_lists_and_nul(client, make_user, op):
    member = make_user()
    _, secret = make_key(member)
    headers = bearer(secret)
    before = _account_state(client, headers)
    cases = _text_and_list_cases(op)
    assert cases
    for label, body, field in cases:
        response = client.open(op.path, method=op.method, json=body, headers=headers)
        error = assert_json_error(response, 422, "validation_failed")
        assert field in error["details"] and error["details"][field][0], (label, error)
    assert _account_state(client, headers) == before


def test_the_cv_and_profile_lists_are_among_the_cases():
    """So that the test above cannot pass by finding nothing."""
    labels = {label for op in ACCOUNT_WRITES for label, _, _ in _text_and_list_cases(op)}
    assert {
        "skills as a string",
        "skills with an entry holding NUL",
        "categories as a string",
        "categories with an entry holding NUL",
        "experience.0.title holding NUL",
        "theme holding NUL",
    } <= labels


def test_skills_as_a_string_is_refused_with_the_schemas_words(client, make_user):
    member = make_user()
    _, secret = make_key(member)
    response = client.put("/api/v1/profile/cv", json={"skills": "Video, Photo"}, headers=bearer(secret))
    error = assert_json_error(response, 422, "validation_failed")
    assert error["details"] == {"skills": ["Must be a list of text."]}
    response = client.put("/api/v1/profile/cv", json={"skills": ["Video", "Ph\x00oto"]}, headers=bearer(secret))
    error = assert_json_error(response, 422, "validation_failed")
    assert error["details"] == {"skills": ["Entry 2 contains a character that is not allowed."]}


def test_pages_still_take_comma_separated_skills_and_categories_but_not_nul(client, member, auth):
    from tests.helpers import post_cv, post_profile

    assert post_cv(client, {"skills": "Video, Photo"}).status_code == 303
    assert post_profile(client, categories="Fashion, Travel").status_code == 303
    data = client.get("/api/v1/profile").get_json()["data"]
    assert (data["profile_data"]["skills"], data["categories"]) == (["Video", "Photo"], ["Fashion", "Travel"])

    refused = post_cv(client, {"skills": "Video, Ph\x00oto"})
    assert refused.status_code == 422
    assert "Entry 2 contains a character that is not allowed." in refused.get_data(as_text=True)
    assert post_profile(client, categories="Fash\x00ion").status_code == 422
    data = client.get("/api/v1/profile").get_json()["data"]
    assert (data["profile_data"]["skills"], data["categories"]) == (["Video", "Photo"], ["Fashion", "Travel"])


# --- 2. Routing errors win over CSRF under /api/v1 ----------------------------------------

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _offered() -> dict[str, set[str]]:
    """Each documented path (aliases included) and the methods it answers."""
    offered: dict[str, set[str]] = {}
    for op in OPERATIONS:
        for path in (op.path, *op.aliases):
            offered.setdefault(path, set()).add(op.method)
    return offered


NOT_OFFERED = [(path, method) for path, methods in _offered().items() for method in METHODS if method not in methods]
UNKNOWN_PATHS = ["/api/v1/nope", "/api/v1/profile/nope", "/api/v1/api-keys/x/y/z", "/api/v1/"]


def _callers(client, auth, make_user):
    """Each way of calling: anonymously, with a bearer key, with the session (no CSRF token)."""
    user = make_user()
    _, secret = make_key(user)
    yield "anonymous", {}
    yield "bearer", bearer(secret)
    auth.login(user.email)
    yield "session", {}
    yield "session with its token", auth.headers()


def test_every_api_path_has_methods_it_does_not_offer():
    assert ("/api/v1/profile", "PUT") in NOT_OFFERED and ("/api/v1/auth/login", "GET") in NOT_OFFERED


NOWHERE = "00000000-0000-0000-0000-000000000000"
ANY_IDS = {"key_id": NOWHERE, "user_id": "1", "transaction_id": NOWHERE, "purchase_id": NOWHERE}


def test_a_method_a_route_does_not_offer_is_405_not_csrf(client, auth, make_user):
    offered = _offered()
    for caller, headers in _callers(client, auth, make_user):
        for path, method in NOT_OFFERED:
            url = fill(path, **ANY_IDS)
            response = client.open(url, method=method, json={}, headers=headers)
            assert_json_error(response, 405, "method_not_allowed")
            assert set(response.headers["Allow"].split(", ")) >= offered[path], (caller, method, path)


def test_a_write_to_an_unknown_api_path_is_404_not_csrf(client, auth, make_user):
    for caller, headers in _callers(client, auth, make_user):
        for path in UNKNOWN_PATHS:
            for method in METHODS:
                response = client.open(path, method=method, json={}, headers=headers)
                error = assert_json_error(response, 404, "not_found")
                assert error, (caller, method, path)


def test_session_writes_to_real_api_routes_still_need_the_token(client, member, auth):
    for op in WRITES:
        if op.public:
            continue
        path = fill(op.path, **ANY_IDS)
        response = client.open(path, method=op.method, json={}, headers={})
        assert_json_error(response, 400, "csrf_failed")


@pytest.mark.parametrize("path", ["/settings", "/profile", "/settings/api-keys", "/auth/logout"])
def test_page_forms_still_need_the_token(client, member, path):
    response = client.post(path, data={"theme": "dark"})
    assert response.status_code == 400
    assert "Reload the page" in response.get_data(as_text=True)


def test_a_post_to_an_unknown_page_is_a_404_page(client, member):
    response = client.post("/no-such-page", data={})
    assert response.status_code == 404
    assert response.mimetype == "text/html"


@pytest.mark.parametrize("value", ["1_0", "1.9", "5.0", "true", "\u0665", "1e1"])
def test_list_parameters_are_whole_numbers_too(client, admin, value):
    _, secret = make_key(admin)
    for path in ("/api/v1/api-keys", "/api/v1/users"):
        for name in ("limit", "offset"):
            error = assert_json_error(
                client.get(path, query_string={name: value}, headers=bearer(secret)), 422, "validation_failed"
            )
            assert error["details"] == {name: ["Must be a whole number."]}
