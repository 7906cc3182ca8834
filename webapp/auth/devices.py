"""Known devices: a signed cookie marks a browser or API client that has signed in to an account.

OWASP ASVS (v4 2.2.1, v5 6.3) asks that limits on wrong passwords never let a stranger lock the
owner out. So a successful sign-in leaves a long-lived ``folio_device`` cookie (HttpOnly,
SameSite=Lax, Secure wherever the session cookie is), and attempts that carry a valid one for
the account they name skip the limits that strangers fill (per address, account-wide) and
draw from a tight budget of their own instead (``webapp.limits.sign_in_attempts``).

The cookie holds a random device id and, for each member who signed in on it (the five most
recent), when they last did; it is signed with the app secret (``webapp.auth.tokens``), so it
cannot be forged or moved to another account, and it names no email. The API reads and sets
the same cookie: clients with a cookie jar (browsers, ``requests.Session``) keep it as they are.
"""

from __future__ import annotations

import secrets
import time
import uuid
from typing import Any

from flask import Response, current_app, request

from webapp.auth import tokens

COOKIE = "folio_device"
MAX_MEMBERS = 5  # members remembered per device: a shared family laptop, not a kiosk


def _lifetime() -> int:
    return current_app.config["KNOWN_DEVICE_DAYS"] * 86400


def _payload() -> dict[str, Any] | None:
    """The cookie's content when it is genuine and fresh, else None (a bad one is ignored)."""
    raw = request.cookies.get(COOKIE)
    if not raw:
        return None
    try:
        payload = tokens.read("device", raw, _lifetime())
    except tokens.TokenInvalid:
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("d"), str) or not isinstance(payload.get("m"), dict):
        return None
    return payload


def device_for(user_id: uuid.UUID) -> str | None:
    """This client's device id if it signed in to ``user_id``'s account within the lifetime."""
    payload = _payload()
    if payload is None:
        return None
    since = payload["m"].get(str(user_id))
    if not isinstance(since, int) or time.time() - since > _lifetime():
        return None
    return payload["d"]


def remember(response: Response, user_id: uuid.UUID) -> Response:
    """After a successful sign-in: (re)issue the cookie with this member marked known, now."""
    payload = _payload() or {"d": secrets.token_urlsafe(16), "m": {}}
    members = {k: v for k, v in payload["m"].items() if k != str(user_id)}
    members[str(user_id)] = int(time.time())
    newest = dict(sorted(members.items(), key=lambda item: item[1])[-MAX_MEMBERS:])
    response.set_cookie(
        COOKIE,
        tokens.make("device", {"d": payload["d"], "m": newest}),
        max_age=_lifetime(),
        httponly=True,
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        samesite="Lax",
    )
    return response
