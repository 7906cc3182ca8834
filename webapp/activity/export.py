"""The member's activity log in the account export."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa

from webapp.activity.models import ActivityLog
from webapp.export import exporter, row_dict
from webapp.extensions import db


@exporter("activity.json")
def activity(user_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = db.session.scalars(
        sa.select(ActivityLog).where(ActivityLog.user_id == user_id).order_by(ActivityLog.created_at)
    )
    return [row_dict(row) for row in rows]
