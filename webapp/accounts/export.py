"""The account export: a zip with one JSON file per domain.

Domains add their own files with ``@exporter("name.ext")``: the function receives the member's
id and returns bytes, or a JSON-serialisable value. Later issues plug in (ledger CSV, ICS).
"""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from webapp.extensions import db
from webapp.timeutil import utcnow

Exporter = Callable[[uuid.UUID], Any]
_EXPORTERS: dict[str, Exporter] = {}


def exporter(filename: str) -> Callable[[Exporter], Exporter]:
    """Register a function that contributes ``filename`` to every export."""

    def register(func: Exporter) -> Exporter:
        _EXPORTERS[filename] = func
        return func

    return register


def _json_default(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"cannot export {type(value).__name__}")


def row_dict(row: Any, exclude: tuple[str, ...] = ()) -> dict[str, Any]:
    """Every mapped column of ``row`` by attribute name, minus ``exclude``."""
    mapper = sa.inspect(type(row))
    return {attr.key: getattr(row, attr.key) for attr in mapper.column_attrs if attr.key not in exclude}


def build_zip(user_id: uuid.UUID) -> bytes:
    """The export archive for one member."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        manifest = {"generated_at": utcnow(), "user_id": user_id, "files": sorted(_EXPORTERS)}
        archive.writestr("manifest.json", json.dumps(manifest, default=_json_default, indent=2))
        for filename, func in sorted(_EXPORTERS.items()):
            content = func(user_id)
            if not isinstance(content, bytes):
                content = json.dumps(content, default=_json_default, indent=2).encode()
            archive.writestr(filename, content)
    return buffer.getvalue()


@exporter("account.json")
def _account(user_id: uuid.UUID) -> dict[str, Any]:
    from webapp.auth.models import User

    user = db.session.get(User, user_id)
    data = row_dict(user, exclude=("password_hash",))
    data["role"] = user.role.name
    return data


@exporter("profile.json")
def _profile(user_id: uuid.UUID) -> dict[str, Any]:
    from webapp.accounts.models import Profile

    return row_dict(db.session.scalar(sa.select(Profile).where(Profile.user_id == user_id)))


@exporter("settings.json")
def _settings(user_id: uuid.UUID) -> dict[str, Any]:
    from webapp.accounts.models import UserSettings

    return row_dict(db.session.scalar(sa.select(UserSettings).where(UserSettings.user_id == user_id)))


@exporter("sessions.json")
def _sessions(user_id: uuid.UUID) -> list[dict[str, Any]]:
    from webapp.auth.models import UserSession

    rows = db.session.scalars(sa.select(UserSession).where(UserSession.user_id == user_id))
    return [row_dict(row, exclude=("token_hash",)) for row in rows]


@exporter("activity.json")
def _activity(user_id: uuid.UUID) -> list[dict[str, Any]]:
    from webapp.activity.models import ActivityLog

    rows = db.session.scalars(
        sa.select(ActivityLog).where(ActivityLog.user_id == user_id).order_by(ActivityLog.created_at)
    )
    return [row_dict(row) for row in rows]
