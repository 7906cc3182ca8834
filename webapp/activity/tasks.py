"""Periodic jobs of the activity log."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app

from webapp.activity import service as activity
from webapp.timeutil import utcnow


def purge_old_activity(days: int | None = None) -> int:
    """Delete log entries older than the retention period (``ACTIVITY_RETENTION_DAYS``)."""
    cutoff = utcnow() - timedelta(days=days if days is not None else current_app.config["ACTIVITY_RETENTION_DAYS"])
    return activity.purge(cutoff)
