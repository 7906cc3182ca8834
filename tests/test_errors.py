"""The shared error helpers: one id parser, and which face (JSON or page) answers an error."""

from __future__ import annotations

import uuid

import pytest

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
