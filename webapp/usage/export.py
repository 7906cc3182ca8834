"""The member's daily usage counters in the account export."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa

from webapp.accounts.export import exporter, row_dict
from webapp.extensions import db
from webapp.usage.models import UsageMetric


@exporter("usage.json")
def usage(user_id: uuid.UUID) -> list[dict[str, Any]]:
    """Every stored day, oldest first (calls still buffered for the next flush are not in it)."""
    rows = db.session.scalars(
        sa.select(UsageMetric).where(UsageMetric.user_id == user_id).order_by(UsageMetric.metric_date)
    )
    return [row_dict(row) for row in rows]
