"""``Idempotency-Key`` on writes that move money or credits, as Stripe does.

A client that is not sure its request arrived (a timeout, a dropped connection) sends it again
with the same key: the first answer is replayed and nothing is written twice. The key belongs to
the member (two members may use the same string); the same key with another body or on another
operation is refused with 422 ``idempotency_mismatch``; answers are kept for
``IDEMPOTENCY_KEY_HOURS``, after which the key may be used afresh. Routes opt in with
``@endpoint(..., idempotent=True)``.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app, g, jsonify, make_response, request
from sqlalchemy.exc import IntegrityError

from webapp.api.models import IdempotencyKey
from webapp.errors import Conflict, ValidationFailed
from webapp.extensions import db
from webapp.timeutil import utcnow

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255

HEADER_PARAMETER = {
    "name": HEADER,
    "in": "header",
    "required": False,
    "description": "Any unique string up to 255 printable ASCII characters (a UUID, say). A repeat "
    "within 24 hours answers what the first request got and writes nothing; the same key with "
    "another body is a 422 `idempotency_mismatch`.",
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH, "pattern": "^[!-~]+$"},
}


def _key_from_header() -> str | None:
    raw = request.headers.get(HEADER)
    if raw is None:
        return None
    if not 1 <= len(raw) <= MAX_KEY_LENGTH or not all("!" <= ch <= "~" for ch in raw):
        raise ValidationFailed(
            f"{HEADER} must be 1 to {MAX_KEY_LENGTH} printable ASCII characters, without spaces.",
            details={HEADER: ["Use a UUID or another unique string of letters, digits and - _ : ."]},
        )
    return raw


def _fingerprint(operation: str, body: Any) -> str:
    """The same request, whatever the order of its keys or its whitespace."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(f"{operation}\n{canonical}".encode()).hexdigest()


def claim(user_id: uuid.UUID, operation: str, body: Any):
    """Before the operation: a replay of the first answer when the key was used already, or
    None when this request is the first (its claim is flushed inside the request's transaction).
    Without the header: None, and nothing is kept."""
    key = _key_from_header()
    if key is None:
        return None
    fingerprint = _fingerprint(operation, body)
    stale_before = utcnow() - timedelta(hours=current_app.config["IDEMPOTENCY_KEY_HOURS"])
    db.session.execute(  # an expired claim frees its key (the daily purge removes the rest)
        sa.delete(IdempotencyKey).where(
            IdempotencyKey.user_id == user_id, IdempotencyKey.key == key, IdempotencyKey.created_at < stale_before
        )
    )
    row = IdempotencyKey(user_id=user_id, key=key, operation=operation, fingerprint=fingerprint, created_at=utcnow())
    try:
        with db.session.begin_nested():  # waits here while another request holds the same key
            db.session.add(row)
    except IntegrityError:
        return _replay(user_id, key, operation, fingerprint)
    g.idempotency_claim = row
    return None


def _replay(user_id: uuid.UUID, key: str, operation: str, fingerprint: str):
    first = db.session.scalar(
        sa.select(IdempotencyKey).where(IdempotencyKey.user_id == user_id, IdempotencyKey.key == key)
    )
    if first is None or first.response_status is None:
        # Gone between the two statements, or still being answered on a database that does not
        # make the second request wait: the client should simply try again.
        raise Conflict(
            "A request with this Idempotency-Key is still in progress; try again in a moment.",
            code="idempotency_in_progress",
        )
    if first.operation != operation or first.fingerprint != fingerprint:
        raise ValidationFailed(
            "This Idempotency-Key was used for a different request.",
            code="idempotency_mismatch",
            details={HEADER: ["Use a new key for a new request; a key repeats only the same request."]},
        )
    response = make_response(jsonify(first.response_body), first.response_status)
    response.headers[REPLAYED_HEADER] = "true"
    return response


def remember(result: Any):
    """After the operation: keep a successful answer for replays (with the request's commit)."""
    response = make_response(result)
    row = g.pop("idempotency_claim", None)
    if row is not None and response.status_code < 400:
        row.response_status = response.status_code
        row.response_body = response.get_json()
        db.session.flush()
    return response


def purge_expired() -> int:
    """Forget answers older than ``IDEMPOTENCY_KEY_HOURS`` (a daily job)."""
    cutoff = utcnow() - timedelta(hours=current_app.config["IDEMPOTENCY_KEY_HOURS"])
    return db.session.execute(sa.delete(IdempotencyKey).where(IdempotencyKey.created_at < cutoff)).rowcount
