"""The member's profile, settings and photo in the account export."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa

from webapp import storage
from webapp.accounts import avatars
from webapp.accounts.models import Profile, UserSettings
from webapp.export import exporter, row_dict
from webapp.extensions import db


@exporter("profile.json")
def profile(user_id: uuid.UUID) -> dict[str, Any]:
    return row_dict(db.session.scalar(sa.select(Profile).where(Profile.user_id == user_id)))


@exporter("settings.json")
def settings(user_id: uuid.UUID) -> dict[str, Any]:
    return row_dict(db.session.scalar(sa.select(UserSettings).where(UserSettings.user_id == user_id)))


@exporter(f"avatar.{avatars.EXTENSION}")
def avatar(user_id: uuid.UUID) -> bytes | None:
    """The photo itself (every stored avatar is re-encoded to this format), when there is one."""
    key = storage.key_from_url(db.session.scalar(sa.select(Profile.avatar_url).where(Profile.user_id == user_id)))
    return storage.read(key) if key and storage.exists(key) else None
