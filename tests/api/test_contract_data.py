"""Every operation takes what its documented schema allows and refuses what it does not.

schemathesis generates data from the OpenAPI document: positive cases (valid by the schema)
must not be refused as invalid, negative cases (each breaking the schema somewhere) must be
refused, and nothing may answer 5xx. Only a rule that JSON Schema cannot state may refuse
valid-looking data (an end before its start, a password that is too common, a role that does
not exist): ``BEYOND_SCHEMA`` lists their words, and a refusal must consist of them alone.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.core.parameters import ParameterLocation

from tests.helpers import bearer, make_key, make_staff
from webapp.accounts.service import SLUG_TAKEN
from webapp.credits import payments
from webapp.credits import service as credits

# Deleting the account would end the run for every later case.
NOT_CALLED = {("DELETE", "/api/v1/account")}
BEYOND_SCHEMA = (
    "Choose a less common password.",  # zxcvbn's judgement, worded by passwords.password_problem
    "The end date is before the start date.",
    "Must be at least the minimum budget.",
    SLUG_TAKEN,
    "Unknown role.",
    "The expiry must be in the future.",
    "At most five years from now",
    "This file is not an image we can read.",  # an upload is checked by its content
    "Choose an image to upload.",
    "special-use or reserved name",  # email_validator: a domain that can never receive mail
    "Your plan allows at most",  # the monthly limit's bound depends on the member's plan
    "A refill cannot be larger than the monthly limit.",
    "Not a cursor from this list",  # cursors are opaque: only the API's own are valid
    "Give a cursor or an offset, not both.",
    "Use a new key for a new request",  # an Idempotency-Key the fuzzer repeats with another body
)
CHECKED_PARTS = (ParameterLocation.BODY, ParameterLocation.QUERY)
# What the fuzzer's bodies may contain for formats JSON Schema leaves open: real numbers.
PHONES = ["+14155550123", "+351912345678", "+442071838750", "+81312345678", ""]


def _beyond_schema(details: dict[str, list[str]]) -> bool:
    """Every problem is one JSON Schema cannot state; a list's summary ("Check experience
    entry 2.") stands for the problems of its rows, which are listed beside it."""
    rows = {path.split(".")[0] for path in details if "." in path}
    return all(
        any(rule in message for rule in BEYOND_SCHEMA)
        for path, messages in details.items()
        if path not in rows
        for message in messages
    )


@pytest.fixture
def fuzzing(app, make_user, monkeypatch):
    """The app as one admin's key sees it, with limits out of the way and real rows to aim at."""
    import schemathesis

    schemathesis.openapi.format("phone", st.sampled_from(PHONES))
    admin = make_staff(make_user(email="fuzzer@example.com"))
    _, secret = make_key(admin, rate_limit=100_000)
    monkeypatch.setitem(app.config, "API_AUTH_LIMIT", "10000 per minute")
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_ACCOUNT", "10000 per minute")
    turns = itertools.count()
    victims = {
        "key_id": lambda: str(make_key(admin, name="victim")[0].id),
        "user_id": lambda: str(make_user().id),
        "transaction_id": lambda: str(credits.add(admin.id, 10, "bonus", "Fuzz", source=credits.Source("grant")).id),
        "purchase_id": lambda: str(payments.start_purchase(admin, {"pack": "starter"}).id),
    }

    def aim(case):
        """Half of the id-taking cases at a real row (random ids only reach 404)."""
        for name in set(case.path_parameters or {}) & set(victims):
            if next(turns) % 2:
                case.path_parameters[name] = victims[name]()
        return case

    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    return schema, bearer(secret), aim


def _operations(schema, *, with_input: bool = False):
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in NOT_CALLED:
            continue
        if with_input and not (operation.body or operation.query):
            continue
        yield operation


def _run(operation, mode, judge, headers, aim, max_examples=25):
    problems: list[str] = []

    @settings(
        max_examples=max_examples,
        phases=[Phase.explicit, Phase.generate],
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        response = aim(case).call(headers=headers)
        problem = judge(case, response)
        if problem:
            sent = f"{response.request.body!r} {case.query!r} {response.request.headers.get('Content-Type')}"
            problems.append(f"{case.method} {case.formatted_path} {sent}: {problem}")

    run()
    return problems


def test_documented_input_is_accepted(fuzzing):
    from schemathesis import GenerationMode

    schema, headers, aim = fuzzing

    accepted = []

    def judge(case, response):
        if response.status_code < 300:
            accepted.append(case.operation.label)
        if response.status_code >= 500:
            return f"answered {response.status_code}"
        if response.status_code in (400, 422):
            details = response.json()["error"]["details"]
            if response.status_code == 400 or not _beyond_schema(details):
                return f"refused valid data: {details}"
        return None

    problems = [p for op in _operations(schema) for p in _run(op, GenerationMode.POSITIVE, judge, headers, aim)]
    assert problems == [], "\n".join(dict.fromkeys(problems))
    # Not a vacuous pass: most operations took some of the generated data.
    assert len(set(accepted)) >= 20, sorted(set(accepted))


def test_input_outside_the_schema_is_refused(fuzzing):
    from schemathesis import GenerationMode

    schema, headers, aim = fuzzing

    def judge(case, response):
        if response.status_code >= 500:
            return f"answered {response.status_code}"
        # Only what the case breaks in the body or the query is Folio's to refuse: the
        # credentials it sends are this test's, and a broken path parameter is a 404 anyway.
        broken = [where for where in CHECKED_PARTS if case.meta.is_negative_at(where)]
        if broken == [ParameterLocation.QUERY] and any(value == [] for value in (case.query or {}).values()):
            return None  # a parameter with no values is not in the URL at all: nothing broken was sent
        if broken:
            refused.append(case.operation.label)
        if broken and response.status_code < 400:
            return f"accepted data that breaks the schema in the {broken[0].value} with {response.status_code}"
        return None

    # Uploads are refused by their content, which crafted files test (tests/accounts).
    operations = [op for op in _operations(schema, with_input=True) if "multipart/form-data" not in str(op.body)]
    refused: list[str] = []
    problems = [p for op in operations for p in _run(op, GenerationMode.NEGATIVE, judge, headers, aim)]
    assert problems == [], "\n".join(dict.fromkeys(problems))
    # Every operation that takes input had data that breaks its schema sent to it.
    assert set(refused) == {op.label for op in operations}, sorted({op.label for op in operations} - set(refused))
