"""The member's API sign-ins (refresh tokens) in the account export."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa

from webapp.accounts.export import exporter, row_dict
from webapp.auth.models import RefreshToken
from webapp.extensions import db


@exporter("refresh_tokens.json")
def refresh_tokens(user_id: uuid.UUID) -> list[dict[str, Any]]:
    """The API sign-ins: device and times, never the token's hash."""
    rows = db.session.scalars(
        sa.select(RefreshToken).where(RefreshToken.user_id == user_id).order_by(RefreshToken.issued_at)
    )
    return [row_dict(row, exclude=("token_hash",)) for row in rows]
