"""Seed 000 §4: API keys. Only the SHA-256 of a key and its visible prefix are stored."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from webapp.extensions import db
from webapp.timeutil import utcnow

KEY_STATUSES = ("active", "disabled")


class ApiKey(db.Model):
    """A credential for scripts: ``pk_live_…`` sent as a bearer token."""

    __tablename__ = "api_keys"

    id: so.Mapped[uuid.UUID] = so.mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: so.Mapped[uuid.UUID] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    name: so.Mapped[str] = so.mapped_column(sa.String(200))
    key_hash: so.Mapped[str] = so.mapped_column(sa.String(255), unique=True)
    key_prefix: so.Mapped[str] = so.mapped_column(sa.String(20))
    last_four: so.Mapped[str] = so.mapped_column(sa.String(4))
    status: so.Mapped[str] = so.mapped_column(sa.String(20), default="active")
    permissions: so.Mapped[list[str]] = so.mapped_column(sa.JSON, default=list)
    rate_limit: so.Mapped[int] = so.mapped_column(default=1000)
    usage_count: so.Mapped[int] = so.mapped_column(default=0)
    last_used_at: so.Mapped[datetime | None]
    expires_at: so.Mapped[datetime | None]
    expiry_notified_at: so.Mapped[datetime | None]
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    updated_at: so.Mapped[datetime] = so.mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        sa.Index("ix_api_keys_user_created", "user_id", "created_at"),
        sa.Index("ix_api_keys_expires_at", "expires_at"),
        sa.CheckConstraint("status IN ('active', 'disabled')", name="status"),
        sa.CheckConstraint("rate_limit BETWEEN 1 AND 100000", name="rate_limit"),
    )

    # Uses still in the usage buffer (see ``webapp.usage.counter``), filled in by the listing
    # so that pages show current counts without writing them; never stored from here.
    pending_uses = 0
    pending_last_used_at = None  # a datetime once set; left unannotated so the ORM does not map it

    @property
    def current_usage_count(self) -> int:
        """The stored count plus the uses the next flush will add."""
        return self.usage_count + self.pending_uses

    @property
    def current_last_used_at(self) -> datetime | None:
        """The later of the stored last use and the newest buffered one."""
        stamps = [stamp for stamp in (self.last_used_at, self.pending_last_used_at) if stamp is not None]
        return max(stamps, default=None)

    def is_expired(self, now: datetime | None = None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or utcnow())

    @property
    def display_status(self) -> str:
        """What the owner sees: active, disabled or expired."""
        if self.status == "active" and self.is_expired():
            return "expired"
        return self.status

    @property
    def masked(self) -> str:
        return f"{self.key_prefix}…{self.last_four}"
