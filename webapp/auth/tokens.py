"""Signed, expiring, single-use tokens mailed to members (verification, password reset).

Tokens are itsdangerous signatures, so nothing is stored; single use comes from binding each
token to state that changes once it is used (the email being verified, the password hash).
"""

from __future__ import annotations

import hashlib
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from webapp.errors import ServiceError


class TokenInvalid(ServiceError):
    status = 400
    code = "token_invalid"


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"folio.{purpose}")


def fingerprint(value: str | None) -> str:
    """A short digest of state the token must still match (e.g. the password hash)."""
    return hashlib.sha256((value or "").encode()).hexdigest()[:16]


def make(purpose: str, payload: dict[str, Any]) -> str:
    """A URL-safe signed token for ``purpose``."""
    return _serializer(purpose).dumps(payload)


def read(purpose: str, token: str, max_age: int) -> dict[str, Any]:
    """The payload of a valid token; ``TokenInvalid`` says whether it expired or is wrong."""
    try:
        return _serializer(purpose).loads(token, max_age=max_age)
    except SignatureExpired:
        raise TokenInvalid("This link has expired. Ask for a new one.", code="token_expired") from None
    except BadSignature:
        raise TokenInvalid("This link is not valid. Ask for a new one.") from None
