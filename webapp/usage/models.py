"""Seed 000 §3's daily usage metrics, with seed 003's message, token and upload counts."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
import sqlalchemy.orm as so

from webapp.extensions import db
from webapp.timeutil import utcnow


class UsageMetric(db.Model):
    """One member's counters and limits for one day."""

    __tablename__ = "usage_metrics"

    id: so.Mapped[uuid.UUID] = so.mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: so.Mapped[uuid.UUID] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    metric_date: so.Mapped[date]
    images_processed: so.Mapped[int] = so.mapped_column(default=0)
    images_limit: so.Mapped[int] = so.mapped_column(default=10000)
    storage_used_gb: so.Mapped[Decimal] = so.mapped_column(sa.Numeric(10, 2), default=Decimal("0"))
    storage_limit_gb: so.Mapped[Decimal] = so.mapped_column(sa.Numeric(10, 2), default=Decimal("100"))
    api_calls: so.Mapped[int] = so.mapped_column(default=0)
    api_calls_limit: so.Mapped[int] = so.mapped_column(default=50000)
    bandwidth_used_gb: so.Mapped[Decimal] = so.mapped_column(sa.Numeric(10, 2), default=Decimal("0"))
    bandwidth_limit_gb: so.Mapped[Decimal] = so.mapped_column(sa.Numeric(10, 2), default=Decimal("500"))
    # Seed 003's usage table, unified here, with the day's limits beside them as seed 000's have.
    message_count: so.Mapped[int] = so.mapped_column(default=0)
    message_limit: so.Mapped[int] = so.mapped_column(default=2000, server_default="2000")
    token_count: so.Mapped[int] = so.mapped_column(default=0)
    token_limit: so.Mapped[int] = so.mapped_column(default=2_000_000, server_default="2000000")
    file_uploads: so.Mapped[int] = so.mapped_column(default=0)
    file_uploads_limit: so.Mapped[int] = so.mapped_column(default=1000, server_default="1000")
    # Credits spent and added that day (``webapp.credits``): the charts' daily rollup, so that
    # no page view sums the ledger.
    credits_used: so.Mapped[int] = so.mapped_column(default=0, server_default="0")
    credits_added: so.Mapped[int] = so.mapped_column(default=0, server_default="0")
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    last_updated_at: so.Mapped[datetime] = so.mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (sa.UniqueConstraint("user_id", "metric_date"),)
