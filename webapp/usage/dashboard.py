"""The API usage card on the dashboard: calls per day for two weeks, and the member's keys."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import sqlalchemy as sa
from flask import current_app, render_template

from webapp.auth.models import User
from webapp.charts import sparkline
from webapp.extensions import db
from webapp.timeutil import utcnow
from webapp.usage.models import UsageMetric

DAYS = 14


def daily_api_calls(user_id: uuid.UUID, days: int = DAYS) -> list[tuple[date, int]]:
    """API calls per UTC day, oldest first, days without calls as 0 (one indexed query)."""
    today = utcnow().date()
    first = today - timedelta(days=days - 1)
    rows = db.session.execute(
        sa.select(UsageMetric.metric_date, UsageMetric.api_calls).where(
            UsageMetric.user_id == user_id, UsageMetric.metric_date >= first
        )
    )
    counts = {day: calls for day, calls in rows}
    return [(first + timedelta(days=i), counts.get(first + timedelta(days=i), 0)) for i in range(days)]


def render_card(member: User) -> str:
    from webapp.apikeys import service as apikeys
    from webapp.usage.service import standings

    history = daily_api_calls(member.id)
    key_count = apikeys.count_keys(member)
    return render_template(
        "usage/_dashboard_card.html",
        history=history,
        chart=sparkline([count for _, count in history]),
        today=history[-1][1],
        key_count=key_count,
        standings=[s for s in standings(member, 1) if s.limit is not None],
        flush_seconds=current_app.config["USAGE_FLUSH_SECONDS"],
    )
