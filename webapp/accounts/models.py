"""A member's profile (seeds 000, 001, 002) and workspace settings (seed 000 §7)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from webapp.extensions import db
from webapp.timeutil import utcnow

if TYPE_CHECKING:
    from webapp.auth.models import User


def empty_cv() -> dict[str, Any]:
    """The shape of seed 001's CV document."""
    return {"headline": "", "experience": [], "education": [], "skills": [], "links": []}


class Profile(db.Model):
    """Everything a member says about themselves; the public portfolio reads from here."""

    __tablename__ = "profiles"

    id: so.Mapped[uuid.UUID] = so.mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: so.Mapped[uuid.UUID] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), unique=True)

    # Seed 000 §1: basic information.
    first_name: so.Mapped[str | None] = so.mapped_column(sa.String(100))
    last_name: so.Mapped[str | None] = so.mapped_column(sa.String(100))
    avatar_url: so.Mapped[str | None] = so.mapped_column(sa.Text)
    email: so.Mapped[str] = so.mapped_column(sa.String(255))
    phone: so.Mapped[str | None] = so.mapped_column(sa.String(20))
    # Professional information.
    bio: so.Mapped[str | None] = so.mapped_column(sa.Text)
    company: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    job_title: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    location: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    website: so.Mapped[str | None] = so.mapped_column(sa.Text)
    # Social links: usernames only, never URLs.
    linkedin_username: so.Mapped[str | None] = so.mapped_column(sa.String(100))
    github_username: so.Mapped[str | None] = so.mapped_column(sa.String(100))
    twitter_username: so.Mapped[str | None] = so.mapped_column(sa.String(100))
    # Preferences.
    timezone: so.Mapped[str] = so.mapped_column(sa.String(100), default="UTC")
    language: so.Mapped[str] = so.mapped_column(sa.String(10), default="en")
    public_profile: so.Mapped[bool] = so.mapped_column(default=False)
    email_notifications: so.Mapped[bool] = so.mapped_column(default=True)
    marketing_emails: so.Mapped[bool] = so.mapped_column(default=False)

    # Seed 002: the public portfolio.
    slug: so.Mapped[str] = so.mapped_column(sa.String(50), unique=True)
    display_name: so.Mapped[str] = so.mapped_column(sa.String(100))
    categories: so.Mapped[list[str]] = so.mapped_column(sa.JSON, default=list)
    budget_min: so.Mapped[int | None]
    budget_max: so.Mapped[int | None]

    # Seed 001: the CV document (headline, experience, education, skills, links).
    profile_data: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON, default=empty_cv)

    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    updated_at: so.Mapped[datetime] = so.mapped_column(default=utcnow, onupdate=utcnow)

    user: so.Mapped[User] = so.relationship(back_populates="profile")

    __table_args__ = (
        sa.CheckConstraint(
            "budget_min IS NULL OR budget_max IS NULL OR budget_min <= budget_max",
            name="budget_range",
        ),
    )

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p) or self.display_name

    @property
    def initials(self) -> str:
        parts = [p for p in (self.first_name, self.last_name) if p] or self.display_name.split()
        return "".join(p[0] for p in parts[:2]).upper() or "?"


class UserSettings(db.Model):
    """Seed 000 §7: appearance, workspace and privacy settings."""

    __tablename__ = "user_settings"

    id: so.Mapped[uuid.UUID] = so.mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: so.Mapped[uuid.UUID] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    theme: so.Mapped[str] = so.mapped_column(sa.String(20), default="system")
    compact_mode: so.Mapped[bool] = so.mapped_column(default=False)
    default_view: so.Mapped[str] = so.mapped_column(sa.String(20), default="grid")
    items_per_page: so.Mapped[int] = so.mapped_column(default=20)
    show_thumbnails: so.Mapped[bool] = so.mapped_column(default=True)
    auto_expand_folders: so.Mapped[bool] = so.mapped_column(default=False)
    confirm_delete: so.Mapped[bool] = so.mapped_column(default=True)
    show_activity: so.Mapped[bool] = so.mapped_column(default=True)
    allow_analytics: so.Mapped[bool] = so.mapped_column(default=True)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    updated_at: so.Mapped[datetime] = so.mapped_column(default=utcnow, onupdate=utcnow)

    user: so.Mapped[User] = so.relationship(back_populates="settings")

    __table_args__ = (
        sa.CheckConstraint("theme IN ('light', 'dark', 'system')", name="theme"),
        sa.CheckConstraint("default_view IN ('grid', 'list')", name="default_view"),
        sa.CheckConstraint("items_per_page BETWEEN 5 AND 100", name="items_per_page"),
    )
