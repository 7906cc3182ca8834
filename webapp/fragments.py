"""Page bodies rendered once per state of what they show, kept per process.

A form page's body (dozens of fields drawn, CV rows, a 418-option select) is most of the page's
cost, yet it changes only when what it shows changes. ``body(template, depends_on, context)``
renders ``template`` once and keeps it under a digest of ``depends_on``: ORM objects stand for
every one of their column values, so any change to them (a save, an avatar, another tab) gives
the next request another key and a fresh render; nothing has to be invalidated.

The kept copy holds a placeholder (unguessable, per process) where the request's CSRF token
was; each serve puts the current request's token there, so a copy never carries another
session's token. Only plain views are kept: the caller renders fresh (``template`` through
``render_template``) whenever the page shows a refusal, a posted form or a flashed message.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask import render_template
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

# Bodies kept per process, least recently served dropped first: a profile body is ~40 KB, so
# this bounds the cache to ~20 MB per worker.
MAX_BODIES = 512
_PLACEHOLDER = f"folio-csrf-{secrets.token_hex(16)}"

_lock = threading.Lock()
_bodies: OrderedDict[str, str] = OrderedDict()


def _state(value: Any) -> Any:
    """A JSON-ready stand-in for ``value``: an ORM object's column values, by name."""
    mapper = sa.inspect(type(value), raiseerr=False)
    if mapper is not None and hasattr(mapper, "column_attrs"):
        return [type(value).__name__, {attr.key: getattr(value, attr.key) for attr in mapper.column_attrs}]
    return value


def digest(template: str, depends_on: tuple[Any, ...]) -> str:
    state = json.dumps([template, *map(_state, depends_on)], default=str, sort_keys=True)
    return hashlib.sha256(state.encode()).hexdigest()


def body(template: str, depends_on: tuple[Any, ...], context: Callable[[], dict[str, Any]]) -> Markup:
    """``template`` rendered with ``context()``, or its kept copy for the same ``depends_on``."""
    key = digest(template, depends_on)
    token = generate_csrf()
    with _lock:
        kept = _bodies.get(key)
        if kept is not None:
            _bodies.move_to_end(key)
    if kept is not None:
        return Markup(kept.replace(_PLACEHOLDER, token))  # noqa: S704 (rendered by Jinja, escaped there)
    html = render_template(template, **context())
    with _lock:
        _bodies[key] = html.replace(token, _PLACEHOLDER)
        while len(_bodies) > MAX_BODIES:
            _bodies.popitem(last=False)
    return Markup(html)  # noqa: S704 (rendered by Jinja, escaped there)
