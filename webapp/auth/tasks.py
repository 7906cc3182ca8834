"""Periodic jobs of the sign-in domain."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app

from webapp.auth import access, last_seen, sessions
from webapp.timeutil import utcnow


def purge_ended_sign_ins(days: int | None = None) -> tuple[int, int]:
    """Delete browser sessions and refresh-token families that ended more than ``days`` ago
    (``SIGN_IN_RETENTION_DAYS``); the rows are kept that long so the security page can list them."""
    cutoff = utcnow() - timedelta(days=days if days is not None else current_app.config["SIGN_IN_RETENTION_DAYS"])
    return sessions.purge(cutoff), access.purge(cutoff)


def flush_last_seen() -> int:
    """Write the sessions' noted uses to ``user_sessions.last_seen_at`` (``webapp.auth.last_seen``)."""
    return last_seen.flush()
