"""The one function that adds to a member's daily usage counters.

Every feature that consumes something (API calls, credits, uploads, images, messages, AI
tokens) counts it here, where the work happens, so the usage page, the charts and the quotas
read one table. The write is a relative upsert (``count = count + n``) on the member-day row:
concurrent writers never lose an update, and no row is read first.
"""

from __future__ import annotations

import uuid
from datetime import date

from webapp.extensions import db
from webapp.timeutil import utcnow
from webapp.usage.models import UsageMetric

COUNTERS = frozenset(
    {"api_calls", "images_processed", "message_count", "token_count", "file_uploads", "credits_used", "credits_added"}
)


def add_to_day(user_id: uuid.UUID, day: date | None = None, **increments: int) -> None:
    """Add ``increments`` (counter name -> amount) to the member's row for ``day`` (today, UTC)."""
    unknown = set(increments) - COUNTERS
    if unknown:
        raise ValueError(f"not usage counters: {sorted(unknown)}")
    if db.engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    now = utcnow()
    statement = insert(UsageMetric).values(
        id=uuid.uuid4(),
        user_id=user_id,
        metric_date=day or now.date(),
        created_at=now,
        last_updated_at=now,
        **increments,
    )
    statement = statement.on_conflict_do_update(
        index_elements=["user_id", "metric_date"],
        set_={
            **{name: getattr(UsageMetric, name) + amount for name, amount in increments.items()},
            "last_updated_at": now,
        },
    )
    db.session.execute(statement)
