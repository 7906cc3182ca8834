"""Request bodies are read as strict JSON (RFC 8259), not as Python's json module allows.

Python's parser takes ``NaN`` and ``Infinity``, turns ``1e400`` into ``inf`` (an OverflowError
at the first ``int()``), keeps lone surrogates such as ``"\\ud800"`` (which no UTF-8 column
can store) and recurses once per nesting level (a RecursionError for ``[[[[…]]]]``). Each of
those used to surface as a 500 somewhere downstream; here each is an ``InvalidJSON``, a
``ValueError``, which is what Flask's ``request.get_json`` expects of a body that is not JSON.

The app's JSON provider uses ``loads``, so every reader of a body (``json_body``, a rate
limit's key function, ``request.get_json`` anywhere) gets the same strict parse.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from flask.json.provider import DefaultJSONProvider

MAX_DEPTH = 32  # the deepest document the API takes (a CV is 3 levels) has room to spare
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")  # pairs are already joined by the parser


class InvalidJSON(ValueError):
    """A body that is not strict JSON; the message tells the caller why."""


def _refuse_constant(name: str) -> None:
    raise InvalidJSON(f"{name} is not a JSON number.")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise InvalidJSON(f"The number {text[:20]} is too large.")
    return value


MAX_INTEGER_DIGITS = 30  # far past any amount, count or id the API takes


def _integer(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise InvalidJSON(f"The number {text[:20]}… has more than {MAX_INTEGER_DIGITS} digits.")
    return int(text)


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object whose keys are all different: with a repeated key, which value counts would
    depend on the parser, so a proxy and Folio could read two different requests."""
    document = dict(pairs)
    if len(document) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise InvalidJSON(f"The key {key[:40]!r} appears twice in one object.")
            seen.add(key)
    return document


def _check(document: Any) -> None:
    """Depth and lone surrogates, walked without recursion (the document may be deep)."""
    pending = [(document, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, str):
            if _LONE_SURROGATE.search(value):
                raise InvalidJSON("A string holds a lone surrogate (\\ud800-\\udfff), which is not a character.")
        elif isinstance(value, dict | list):
            if depth > MAX_DEPTH:
                raise InvalidJSON(f"Nested too deeply: at most {MAX_DEPTH} levels.")
            children = [*value.keys(), *value.values()] if isinstance(value, dict) else value
            pending.extend((child, depth + 1) for child in children)


def loads(data: str | bytes) -> Any:
    """The document in ``data``, or ``InvalidJSON`` saying what is wrong with it."""
    try:
        document = json.loads(
            data, parse_constant=_refuse_constant, parse_float=_finite, parse_int=_integer, object_pairs_hook=_object
        )
    except InvalidJSON:
        raise
    except RecursionError:
        raise InvalidJSON(f"Nested too deeply: at most {MAX_DEPTH} levels.") from None
    except ValueError as exc:  # syntax, undecodable bytes
        raise InvalidJSON(f"This is not valid JSON ({exc}).") from None
    _check(document)
    return document


class StrictJSONProvider(DefaultJSONProvider):
    """Flask's JSON, with ``loads`` (and so ``request.get_json``) strict."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return loads(s)
