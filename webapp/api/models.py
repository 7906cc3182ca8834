"""What the API platform itself stores: the answers kept for ``Idempotency-Key`` replays."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from webapp.extensions import db
from webapp.timeutil import utcnow


class IdempotencyKey(db.Model):
    """A member's ``Idempotency-Key`` on one operation, and the answer it got.

    The row is inserted before the operation runs, in the same transaction: a second request
    with the key waits on the unique index until the first commits (then replays its answer) or
    rolls back (then runs itself). Only successful answers are kept; a refusal writes nothing,
    so the same request may be tried again once the reason is gone."""

    __tablename__ = "idempotency_keys"

    id: so.Mapped[uuid.UUID] = so.mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: so.Mapped[uuid.UUID] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    key: so.Mapped[str] = so.mapped_column(sa.String(255))
    operation: so.Mapped[str] = so.mapped_column(sa.String(100))
    fingerprint: so.Mapped[str] = so.mapped_column(sa.String(64))  # SHA-256 of the operation and body
    response_status: so.Mapped[int | None]
    response_body: so.Mapped[dict[str, Any] | None] = so.mapped_column(sa.JSON)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow, index=True)

    __table_args__ = (sa.UniqueConstraint("user_id", "key", name="uq_idempotency_keys_user_key"),)
