"""Seed 002's ``logs`` table: what happened, to whom, from where."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from webapp.extensions import db
from webapp.timeutil import utcnow


class ActivityLog(db.Model):
    """One event: a sign-in, a token refresh, a calendar change, an API fetch."""

    __tablename__ = "logs"

    id: so.Mapped[uuid.UUID] = so.mapped_column(primary_key=True, default=uuid.uuid4)
    # Indexed through ix_logs_user_action_created, whose first column it is.
    user_id: so.Mapped[uuid.UUID | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    platform: so.Mapped[str | None] = so.mapped_column(sa.String(20))
    action: so.Mapped[str] = so.mapped_column(sa.String(100))
    status: so.Mapped[str] = so.mapped_column(sa.String(20))
    message: so.Mapped[str | None] = so.mapped_column(sa.Text)
    request_payload: so.Mapped[dict[str, Any] | None] = so.mapped_column(sa.JSON)
    response_payload: so.Mapped[dict[str, Any] | None] = so.mapped_column(sa.JSON)
    ip_address: so.Mapped[str | None] = so.mapped_column(sa.String(50))
    user_agent: so.Mapped[str | None] = so.mapped_column(sa.String(512))
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)

    __table_args__ = (
        sa.Index("ix_logs_user_action_created", "user_id", "action", "created_at"),
        sa.CheckConstraint("status IN ('success', 'failure')", name="status"),
    )
