"""The member's idempotency keys in the account export (the answers the API keeps for replays)."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa

from webapp.api.models import IdempotencyKey
from webapp.export import exporter, row_dict
from webapp.extensions import db


@exporter("idempotency_keys.json")
def idempotency_keys(user_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = db.session.scalars(
        sa.select(IdempotencyKey).where(IdempotencyKey.user_id == user_id).order_by(IdempotencyKey.created_at)
    )
    return [row_dict(row) for row in rows]
