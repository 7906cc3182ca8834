"""Periodic jobs of the usage domain."""

from __future__ import annotations

from webapp.usage.counter import flush


def flush_usage() -> None:
    """Write buffered API-call counts to the database, even when no new call comes to trigger
    a flush (the counter only enqueues one on the next call after ``USAGE_FLUSH_SECONDS``)."""
    flush()
