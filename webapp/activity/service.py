"""Writing and reading the activity log."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import has_request_context, request

from webapp.activity.models import ActivityLog
from webapp.extensions import db
from webapp.security import client_ip


def record(
    action: str,
    *,
    status: str = "success",
    user_id: uuid.UUID | None = None,
    message: str | None = None,
    ip_address: str | None = None,
    user_agent: str | None = None,
    platform: str | None = None,
    request_payload: dict[str, Any] | None = None,
    response_payload: dict[str, Any] | None = None,
) -> ActivityLog:
    """Add an event to the caller's transaction; the caller commits.

    Where it came from defaults to the current request's client, since that is what a member
    reviewing their activity wants to see."""
    if has_request_context():
        ip_address = ip_address or client_ip()
        user_agent = user_agent or request.user_agent.string
    entry = ActivityLog(
        action=action,
        status=status,
        user_id=user_id,
        message=message,
        ip_address=ip_address,
        user_agent=(user_agent or "")[:512] or None,
        platform=platform,
        request_payload=request_payload,
        response_payload=response_payload,
    )
    db.session.add(entry)
    return entry


def recent(user_id: uuid.UUID, action: str, limit: int = 10) -> list[ActivityLog]:
    """The member's latest events of one kind, newest first."""
    query = (
        sa.select(ActivityLog)
        .where(ActivityLog.user_id == user_id, ActivityLog.action == action)
        .order_by(ActivityLog.created_at.desc())
        .limit(limit)
    )
    return list(db.session.scalars(query))


def purge(before: datetime) -> int:
    """Delete events older than ``before`` (the retention period)."""
    result = db.session.execute(sa.delete(ActivityLog).where(ActivityLog.created_at < before))
    return result.rowcount or 0


def count_since(user_id: uuid.UUID, action: str, since: datetime, *, status: str | None = None) -> int:
    """How many events of one kind (and status) the member had since ``since``."""
    query = sa.select(sa.func.count()).where(
        ActivityLog.user_id == user_id, ActivityLog.action == action, ActivityLog.created_at >= since
    )
    if status is not None:
        query = query.where(ActivityLog.status == status)
    return db.session.scalar(query.select_from(ActivityLog)) or 0
