"""The shared error helpers: one id parser, and which face (JSON or page) answers an error."""

from __future__ import annotations

import uuid

import pytest

from tests.helpers import assert_json_error
from webapp.errors import NotFound, parse_uuid


def test_parse_uuid_accepts_uuids_and_their_text():
    value = uuid.uuid4()
    assert parse_uuid(value, "No such thing.") is value
    assert parse_uuid(str(value), "No such thing.") == value
    assert parse_uuid(value.hex, "No such thing.") == value


@pytest.mark.parametrize("bad", ["", "nope", "1234", "../etc/passwd", str(uuid.uuid4()) + "0"])
def test_parse_uuid_answers_malformed_ids_with_not_found(bad):
    with pytest.raises(NotFound) as caught:
        parse_uuid(bad, "No such thing.")
    assert caught.value.message == "No such thing."


# --- which face answers ----------------------------------------------------------------------------


# A method no route offers is a 405 before any CSRF check: there is no view to protect.
@pytest.mark.parametrize(
    "method, path, status",
    [("TRACE", "/api/docs", 405), ("POST", "/api/docs", 405), ("GET", "/api/nothing-here", 404), ("GET", "/api", 404)],
)
def test_errors_outside_the_json_api_are_pages(client, method, path, status):
    response = client.open(path, method=method)
    assert response.status_code == status
    assert response.mimetype == "text/html" and "<html" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "method, path, status",
    [("GET", "/api/v1/nothing-here", 404), ("TRACE", "/api/v1/openapi.json", 405), ("GET", "/api/v1", 404)],
)
def test_errors_in_the_json_api_are_json(client, method, path, status):
    assert_json_error(client.open(path, method=method), status)


# --- Retry-After only tells a client to wait when it must ------------------------------------------


def test_retry_after_is_absent_from_answers_that_are_not_429(client, make_user):
    from tests.helpers import assert_rate_headers, bearer, make_key

    refused = client.get("/api/v1/profile")
    assert_json_error(refused, 401)
    assert_rate_headers(refused)
    assert "Retry-After" not in refused.headers
    _, secret = make_key(make_user(), ["profile:read"])
    served = client.get("/api/v1/profile", headers=bearer(secret))
    assert served.status_code == 200
    assert_rate_headers(served)
    assert "Retry-After" not in served.headers


def test_retry_after_stays_on_429(client, make_user):
    from tests.helpers import bearer, make_key

    _, secret = make_key(make_user(), ["profile:read"], rate_limit=1)
    assert client.get("/api/v1/profile", headers=bearer(secret)).status_code == 200
    limited = client.get("/api/v1/profile", headers=bearer(secret))
    assert_json_error(limited, 429, "rate_limited")
    assert int(limited.headers["Retry-After"]) > 0
