"""The member's API keys in the account export."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa

from webapp.apikeys.models import ApiKey
from webapp.export import exporter, row_dict
from webapp.extensions import db


@exporter("api_keys.json")
def api_keys(user_id: uuid.UUID) -> list[dict[str, Any]]:
    """Every key's metadata, oldest first; the hash stays behind (the secret is never stored)."""
    rows = db.session.scalars(sa.select(ApiKey).where(ApiKey.user_id == user_id).order_by(ApiKey.created_at))
    return [row_dict(row, exclude=("key_hash",)) for row in rows]
