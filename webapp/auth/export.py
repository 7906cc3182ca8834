"""The member's account row, browser sign-ins and API sign-ins in the account export."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa

from webapp.auth.models import RefreshToken, User, UserSession
from webapp.export import exporter, row_dict
from webapp.extensions import db


@exporter("account.json")
def account(user_id: uuid.UUID) -> dict[str, Any]:
    """The account itself and its role; never the password's hash."""
    user = db.session.get(User, user_id)
    data = row_dict(user, exclude=("password_hash",))
    data["role"] = user.role.name
    return data


@exporter("sessions.json")
def browser_sessions(user_id: uuid.UUID) -> list[dict[str, Any]]:
    """The browser sign-ins, never the session token's hash."""
    rows = db.session.scalars(sa.select(UserSession).where(UserSession.user_id == user_id))
    return [row_dict(row, exclude=("token_hash",)) for row in rows]


@exporter("refresh_tokens.json")
def refresh_tokens(user_id: uuid.UUID) -> list[dict[str, Any]]:
    """The API sign-ins: device and times, never the token's hash."""
    rows = db.session.scalars(
        sa.select(RefreshToken).where(RefreshToken.user_id == user_id).order_by(RefreshToken.issued_at)
    )
    return [row_dict(row, exclude=("token_hash",)) for row in rows]
