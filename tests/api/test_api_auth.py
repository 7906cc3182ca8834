"""The one authentication layer, checked on every /api/v1 operation the app registers.

Each test is parametrized over ``OPERATIONS``, so a route added by a later domain is held to
the same rules (401, malformed bearer, scope, ownership, validation, rate limit) for free.
"""

from __future__ import annotations

import uuid

import pytest

from tests.helpers import (
    assert_json_error,
    assert_rate_headers,
    bearer,
    fill,
    make_key,
    make_staff,
    op_id,
    path_params,
    registered_operations,
)
from webapp.api import scopes
from webapp.api.ratelimit import PER_IP
from webapp.credits import payments
from webapp.credits import service as credits
from webapp.extensions import db

OPERATIONS = registered_operations()
AUTHENTICATED = [op for op in OPERATIONS if not op.public]
# The credential-free routes on the strict per-address budget (sign-up, sign-in, refresh); health
# and the document are unlimited, and Stripe's webhook has a budget of its own.
PUBLIC_LIMITED = [op for op in OPERATIONS if op.public and op.limit is PER_IP]
WITH_IDS = [op for op in AUTHENTICATED if path_params(op)]
WITH_BODY = [op for op in OPERATIONS if op.body is not None]


def _ids(ops):
    return [op_id(op) for op in ops]


def _call(client, op, path=None, **kwargs):
    """Call ``op``; JSON routes get an empty object unless a body is given."""
    if op.multipart:
        kwargs.setdefault("data", {})
        kwargs.setdefault("content_type", "multipart/form-data")
    elif "data" not in kwargs:
        kwargs.setdefault("json", {})
    return client.open(path or fill(op.path, **{p: uuid.uuid4() for p in path_params(op)}), method=op.method, **kwargs)


def test_every_api_rule_is_a_documented_operation(app):
    """The parametrized tests below only see ``OPERATIONS``; nothing may slip past them."""
    documented = {(op.method, p) for op in OPERATIONS for p in (op.path, *op.aliases)}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (method, rule.rule) in documented, f"{method} {rule.rule} is not in OPERATIONS"


# --- 401 --------------------------------------------------------------------------------


@pytest.mark.parametrize("op", AUTHENTICATED, ids=_ids(AUTHENTICATED))
def test_no_credentials_is_401(client, op):
    error = assert_json_error(_call(client, op), 401, "unauthorized")
    assert "bearer" in error["message"].lower() or "sign in" in error["message"].lower()


MALFORMED = [
    "Bearer",
    "Bearer ",
    "Basic dXNlcjpwYXNz",
    "Token abc",
    "Bearer pk_live_short",
    "Bearer not-a-jwt",
    "Bearer a.b.c",
    "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.",
]


@pytest.mark.parametrize("op", AUTHENTICATED, ids=_ids(AUTHENTICATED))
def test_malformed_bearer_is_401_unauthorized(client, op):
    for header in MALFORMED:
        assert_json_error(_call(client, op, headers={"Authorization": header}), 401, "unauthorized")


@pytest.mark.parametrize("op", AUTHENTICATED, ids=_ids(AUTHENTICATED))
def test_malformed_bearer_wins_over_a_valid_session(client, member, op):
    """A broken header is an error even when the cookie would do: the caller meant the header."""
    assert_json_error(_call(client, op, headers={"Authorization": "Bearer nope"}), 401, "unauthorized")


# --- 403 insufficient_scope --------------------------------------------------------------


@pytest.mark.parametrize(
    "op", [op for op in AUTHENTICATED if op.scope], ids=_ids([o for o in AUTHENTICATED if o.scope])
)
def test_key_without_the_scope_is_403_naming_it(client, admin, op):
    _, secret = make_key(admin, [s for s in scopes.SCOPES if s != op.scope])
    error = assert_json_error(_call(client, op, headers=bearer(secret)), 403, "insufficient_scope")
    assert op.scope in error["message"]
    assert error["details"] == {"required_scope": op.scope}


def test_every_authenticated_operation_declares_a_scope():
    assert [op_id(op) for op in AUTHENTICATED if not op.scope] == []


# --- 404 for someone else's id ------------------------------------------------------------


def _foreign_ids(make_user) -> dict[str, str]:
    """For each path parameter, an id that exists but is not the caller's to touch."""
    other = make_user(email="other@example.com")
    other_key, _ = make_key(other, ["profile:read"])
    other_spend = credits.add(other.id, 50, "bonus", "Welcome", source=credits.Source("grant"))
    other_purchase = payments.start_purchase(other, {"pack": "starter"})
    gone = make_user(email="gone@example.com")
    gone_id = gone.id
    db.session.delete(gone)
    db.session.commit()
    # Staff may read every member, so for them "not theirs" means a member that no longer exists.
    return {
        "key_id": str(other_key.id),
        "user_id": str(gone_id),
        "transaction_id": str(other_spend.id),
        "purchase_id": str(other_purchase.id),
    }


@pytest.mark.parametrize("op", WITH_IDS, ids=_ids(WITH_IDS))
def test_another_members_id_is_404(client, admin, make_user, op):
    foreign = _foreign_ids(make_user)
    missing = [p for p in path_params(op) if p not in foreign]
    assert not missing, f"add a foreign-id factory for {missing} to _foreign_ids"
    _, secret = make_key(admin)
    before = _snapshot()
    response = _call(client, op, fill(op.path, **foreign), headers=bearer(secret))
    assert_json_error(response, 404, "not_found")
    assert _snapshot() == before


@pytest.mark.parametrize("op", WITH_IDS, ids=_ids(WITH_IDS))
def test_garbage_id_is_404_not_500(client, admin, op):
    _, secret = make_key(admin)
    for garbage in ("not-a-uuid", "1", "00000000-0000-0000-0000-000000000000"):
        response = _call(client, op, fill(op.path, **{p: garbage for p in path_params(op)}), headers=bearer(secret))
        assert_json_error(response, 404, "not_found")


def _snapshot():
    """Rows per table and every key's settings; usage counters are allowed to move."""
    from tests.helpers import table_counts
    from webapp.apikeys.models import ApiKey

    db.session.expire_all()
    counts = {name: n for name, n in table_counts().items() if name != "usage_metrics"}
    keys = sorted(
        (str(k.id), k.name, k.status, k.key_hash, tuple(k.permissions)) for k in db.session.scalars(db.select(ApiKey))
    )
    return counts, keys


# --- 422 with field details -----------------------------------------------------------------


def _valid_path(op, admin, make_user) -> str:
    values = {}
    for name in path_params(op):
        if name == "key_id":
            values[name] = make_key(admin)[0].id
        elif name == "user_id":
            values[name] = make_user(email="target@example.com").id
        else:  # pragma: no cover - a new id parameter needs a factory here
            pytest.fail(f"no factory for path parameter {name}")
    return fill(op.path, **values)


def _field_to_malform(schema) -> tuple[str, object]:
    """A property and a value of the wrong type for it: a number for a string, else text for a
    number or a boolean."""
    wrong = {"string": 12345, "integer": "many", "boolean": "yes"}
    for kind in wrong:
        for name, prop in schema.get("properties", {}).items():
            types = prop.get("type")
            if kind == types or (isinstance(types, list) and kind in types):
                return name, wrong[kind]
    pytest.fail("the body schema has no property to malform")


@pytest.mark.parametrize("op", WITH_BODY, ids=_ids(WITH_BODY))
def test_malformed_body_is_422_with_details(client, admin, make_user, op):
    _, secret = make_key(admin)
    headers = {} if op.public else bearer(secret)
    path = _valid_path(op, admin, make_user)
    before = _snapshot()

    not_object = client.open(path, method=op.method, json=["not", "an", "object"], headers=headers)
    assert assert_json_error(not_object, 422, "validation_failed")["details"]

    not_json = client.open(
        path,
        method=op.method,
        data="name=x",
        headers=headers,
        content_type="application/x-www-form-urlencoded",
    )
    assert assert_json_error(not_json, 422, "validation_failed")["details"]

    field, value = _field_to_malform(op.body_schema)
    wrong_type = client.open(path, method=op.method, json={field: value}, headers=headers)
    error = assert_json_error(wrong_type, 422, "validation_failed")
    assert field in error["details"], error
    assert _snapshot() == before


# --- 429 and the rate-limit headers --------------------------------------------------------


@pytest.mark.parametrize("op", AUTHENTICATED, ids=_ids(AUTHENTICATED))
def test_key_past_its_limit_is_429_with_headers(client, admin, op):
    """The limit is per caller across routes: two reads use it up, the route under test is refused."""
    _, secret = make_key(admin, rate_limit=2)
    first = client.get("/api/v1/api-keys", headers=bearer(secret))
    assert first.status_code == 200
    assert_rate_headers(first)
    assert first.headers["X-RateLimit-Limit"] == "2"
    assert first.headers["X-RateLimit-Remaining"] == "1"
    client.get("/api/v1/api-keys", headers=bearer(secret))
    response = _call(client, op, headers=bearer(secret))
    error = assert_json_error(response, 429, "rate_limited")
    assert error["message"]
    assert int(response.headers["Retry-After"]) > 0
    assert_rate_headers(response)
    assert response.headers["X-RateLimit-Remaining"] == "0"


@pytest.mark.parametrize("op", PUBLIC_LIMITED, ids=_ids(PUBLIC_LIMITED))
def test_public_auth_routes_share_a_strict_per_ip_limit(app, client, op):
    limit = int(app.config["API_AUTH_LIMIT"].split()[0])
    for n in range(limit):  # a different account each time: this is the per-address limit
        response = client.post("/api/v1/auth/login", json={"email": f"x{n}@example.com", "password": "nope"})
        assert response.status_code == 401  # unknown account: refused, not yet limited
        assert_rate_headers(response)
    response = _call(client, op)
    assert_json_error(response, 429, "rate_limited")
    assert int(response.headers["Retry-After"]) > 0
    assert_rate_headers(response)


def test_limit_is_per_key(client, admin):
    _, first = make_key(admin, rate_limit=1, name="one")
    _, second = make_key(admin, rate_limit=1, name="two")
    assert client.get("/api/v1/api-keys", headers=bearer(first)).status_code == 200
    assert client.get("/api/v1/api-keys", headers=bearer(first)).status_code == 429
    assert client.get("/api/v1/api-keys", headers=bearer(second)).status_code == 200


def test_session_and_token_callers_get_the_member_limit(app, client, member):
    app.config["API_LIMIT_PER_MEMBER"] = "2 per hour"
    try:
        assert client.get("/api/v1/profile").headers["X-RateLimit-Limit"] == "2"
        client.get("/api/v1/settings")
        assert_json_error(client.get("/api/v1/profile/cv"), 429, "rate_limited")
    finally:
        app.config["API_LIMIT_PER_MEMBER"] = "1000 per hour"


@pytest.mark.parametrize("op", AUTHENTICATED, ids=_ids(AUTHENTICATED))
def test_refusals_carry_rate_headers_too(client, op):
    """Unauthenticated attempts count against the IP, and say so."""
    response = _call(client, op)
    assert response.status_code == 401
    assert_rate_headers(response)


# --- who may call at all ------------------------------------------------------------------


def test_session_reads_need_no_csrf_but_writes_do(client, member):
    assert client.get("/api/v1/profile").status_code == 200
    assert_json_error(client.patch("/api/v1/settings", json={"theme": "dark"}), 400, "csrf_failed")


def test_bearer_writes_need_no_csrf(client, member):
    _, secret = make_key(member, ["profile:write"])
    response = client.patch("/api/v1/settings", json={"theme": "dark"}, headers=bearer(secret))
    assert response.status_code == 200, response.get_json()


def test_suspended_member_is_403_with_a_key(client, make_user):
    user = make_user()
    _, secret = make_key(user)
    user.is_suspended = True
    db.session.commit()
    assert_json_error(client.get("/api/v1/profile", headers=bearer(secret)), 403, "account_suspended")


def test_deactivated_member_is_403_with_a_key(client, make_user):
    user = make_user()
    _, secret = make_key(user)
    user.is_active = False
    db.session.commit()
    assert_json_error(client.get("/api/v1/profile", headers=bearer(secret)), 403)


def test_unknown_well_formed_key_is_401(client):
    from webapp.apikeys import keys

    assert_json_error(client.get("/api/v1/profile", headers=bearer(keys.generate())), 401, "unauthorized")


def test_staff_key_of_a_demoted_member_is_403(client, make_user):
    """The key still holds users:read, but the role no longer grants it."""
    user = make_staff(make_user())
    _, secret = make_key(user)
    make_staff(user, "member")
    error = assert_json_error(client.get("/api/v1/users", headers=bearer(secret)), 403, "forbidden")
    assert error["details"] == {"required_permission": "users:read"}


def test_every_authenticated_call_is_counted(client, make_user):
    from webapp.usage.models import UsageMetric

    user = make_user()
    _, secret = make_key(user)
    for _ in range(3):
        client.get("/api/v1/profile", headers=bearer(secret))
    metric = db.session.scalar(db.select(UsageMetric).where(UsageMetric.user_id == user.id))
    assert metric.api_calls == 3
