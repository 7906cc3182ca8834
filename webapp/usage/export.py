"""The member's daily usage counters in the account export."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa

from webapp.export import before_export, exporter, row_dict
from webapp.extensions import db
from webapp.usage import counter
from webapp.usage.models import UsageMetric


@before_export
def write_buffered_counts() -> None:
    """Write the calls still in the usage buffer (``counter.flush``) before any file is built.

    Flushing rather than adding the pending counts to what is read: the buffer holds counts for
    two files (``usage.json``'s days and ``api_keys.json``'s ``usage_count``/``last_used_at``),
    and after a flush both simply read their rows, with no second copy of the flush's
    arithmetic. It is safe at any time: draining is atomic (a Redis RENAME, or the local
    buffer's lock) and the writes are relative (``n = n + k``), so a flush running at the same
    moment in a job loses and doubles nothing. Exports are rare, so the extra write is cheap.
    """
    counter.flush()


@exporter("usage.json")
def usage(user_id: uuid.UUID) -> list[dict[str, Any]]:
    """Every day counted so far, oldest first (buffered calls included: see above)."""
    rows = db.session.scalars(
        sa.select(UsageMetric).where(UsageMetric.user_id == user_id).order_by(UsageMetric.metric_date)
    )
    return [row_dict(row) for row in rows]
