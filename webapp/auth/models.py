"""Members, their roles, and their server-side sign-in sessions."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_login import UserMixin

from webapp.extensions import db
from webapp.timeutil import utcnow

if TYPE_CHECKING:
    from webapp.accounts.models import Profile, UserSettings

MEMBER_ROLE = "member"

# Permissions each built-in role holds; the roles table is seeded from this (seed 004's RBAC).
DEFAULT_ROLES: dict[str, list[str]] = {
    "member": [],
    "support": ["users:read"],
    "admin": ["users:read", "users:write", "users:delete", "roles:manage", "credits:grant"],
}


class Role(db.Model):
    """A named set of staff permissions (seed 004 ``roles``)."""

    __tablename__ = "roles"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(50), unique=True)
    permissions: so.Mapped[list[str]] = so.mapped_column(sa.JSON, default=list)

    def allows(self, permission: str) -> bool:
        """True when this role holds ``permission``."""
        return permission in (self.permissions or [])


class User(UserMixin, db.Model):
    """A member account: seed 002's login, seed 003's status flags, seed 004's role."""

    __tablename__ = "users"

    id: so.Mapped[uuid.UUID] = so.mapped_column(primary_key=True, default=uuid.uuid4)
    email: so.Mapped[str] = so.mapped_column(sa.String(255), unique=True)
    phone_number: so.Mapped[str | None] = so.mapped_column(sa.String(32), unique=True)
    password_hash: so.Mapped[str | None] = so.mapped_column(sa.String(255))
    provider: so.Mapped[str] = so.mapped_column(sa.String(32), default="email")
    provider_id: so.Mapped[str | None] = so.mapped_column(sa.String(255))
    is_verified: so.Mapped[bool] = so.mapped_column(default=False)
    verified_at: so.Mapped[datetime | None]
    pending_email: so.Mapped[str | None] = so.mapped_column(sa.String(255))
    is_active: so.Mapped[bool] = so.mapped_column(default=True)
    is_suspended: so.Mapped[bool] = so.mapped_column(default=False)
    suspended_reason: so.Mapped[str | None] = so.mapped_column(sa.String(255))
    plan: so.Mapped[str] = so.mapped_column(sa.String(20), default="free", server_default="free")
    role_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("roles.id"), index=True)
    # Seed 003's ``profile`` JSONB of miscellaneous preferences; the attribute name avoids a
    # clash with the ``profile`` relationship to the profiles table.
    misc: so.Mapped[dict[str, Any]] = so.mapped_column("profile", sa.JSON, default=dict)
    password_changed_at: so.Mapped[datetime | None]
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow, index=True)
    updated_at: so.Mapped[datetime] = so.mapped_column(default=utcnow, onupdate=utcnow)
    last_login: so.Mapped[datetime | None]

    role: so.Mapped[Role] = so.relationship(lazy="joined")
    profile: so.Mapped[Profile] = so.relationship(
        back_populates="user", uselist=False, cascade="all, delete-orphan", lazy="joined"
    )
    settings: so.Mapped[UserSettings] = so.relationship(
        back_populates="user", uselist=False, cascade="all, delete-orphan", lazy="joined"
    )
    sessions: so.WriteOnlyMapped[UserSession] = so.relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )

    __table_args__ = (sa.UniqueConstraint("provider", "provider_id"),)

    # Flask-Login keys the browser session on the server-side session token, not the user id,
    # so that revoking the row signs that browser out.
    current_session_token = None  # set per request; not a column

    def get_id(self) -> str | None:
        return self.current_session_token

    @property
    def is_staff(self) -> bool:
        return self.role is not None and self.role.name != MEMBER_ROLE

    def has_permission(self, permission: str) -> bool:
        """True when the member's role grants ``permission``."""
        return self.role is not None and self.role.allows(permission)

    def __repr__(self) -> str:
        return f"<User {self.email}>"


class UserSession(db.Model):
    """One signed-in browser. Only a hash of its token is stored."""

    __tablename__ = "user_sessions"

    id: so.Mapped[uuid.UUID] = so.mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: so.Mapped[uuid.UUID] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    remember: so.Mapped[bool] = so.mapped_column(default=False)
    user_agent: so.Mapped[str | None] = so.mapped_column(sa.String(512))
    ip_address: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    last_seen_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    expires_at: so.Mapped[datetime]
    revoked_at: so.Mapped[datetime | None]

    user: so.Mapped[User] = so.relationship(back_populates="sessions")


class RefreshToken(db.Model):
    """A long-lived API refresh token (hashed). Rotation chains tokens into a family, so that
    reuse of a rotated token revokes every token of the family (theft detection)."""

    __tablename__ = "refresh_tokens"

    id: so.Mapped[uuid.UUID] = so.mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: so.Mapped[uuid.UUID] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    family_id: so.Mapped[uuid.UUID] = so.mapped_column(index=True)
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    device_info: so.Mapped[str | None] = so.mapped_column(sa.String(512))
    issued_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    expires_at: so.Mapped[datetime]
    used_at: so.Mapped[datetime | None]
    revoked_at: so.Mapped[datetime | None]
