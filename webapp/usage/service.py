"""Daily usage: the one place that counts what members consume and holds them to their plan.

Every feature that consumes something (API calls, uploads, images, messages, AI tokens,
credits) counts it here, where the work happens, so the usage page, the charts and the quotas
read one table. Writes are relative upserts (``count = count + n``) on the member-day row, so
concurrent writers never lose an update and no row is read first. A day's row is created with
the limits of the member's plan that day (``Config.PLANS``), so history keeps the limits that
applied. ``consume`` is the quota gate: the increment happens only where it stays within the
limit, in the same statement, so fifty concurrent uploads cannot pass a limit of ten.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from webapp.errors import NotFound, ServiceError
from webapp.extensions import db
from webapp.notify import notify
from webapp.timeutil import utcnow
from webapp.usage.models import UsageMetric

WARN_AT = (80, 100)  # percent of a limit at which the member is told, once a day each


@dataclass(frozen=True)
class Metric:
    name: str  # the counter column, and the metric's name in the API
    label: str
    limit_column: str | None
    unit: str = ""
    level: bool = False  # a level (storage), not a count that starts again each day


METRICS = {
    metric.name: metric
    for metric in (
        Metric("api_calls", "API calls", "api_calls_limit"),
        Metric("images_processed", "Images processed", "images_limit"),
        Metric("file_uploads", "File uploads", "file_uploads_limit"),
        Metric("message_count", "Assistant messages", "message_limit"),
        Metric("token_count", "AI tokens", "token_limit"),
        Metric("storage_used_gb", "Storage", "storage_limit_gb", "GB", level=True),
        Metric("bandwidth_used_gb", "Bandwidth", "bandwidth_limit_gb", "GB"),
        Metric("credits_used", "Credits used", None),
    )
}
COUNTERS = frozenset({*(name for name, m in METRICS.items() if not m.level), "credits_added"})


class QuotaExceeded(ServiceError):
    status = 429
    code = "quota_exceeded"


def plan(name: str | None) -> dict[str, Any]:
    """A plan's settings from ``Config.PLANS`` (the free plan for an unknown or missing name)."""
    plans = current_app.config["PLANS"]
    return plans.get(name or "free") or plans["free"]


def plan_limits(name: str | None) -> dict[str, int]:
    return plan(name)["limits"]


def plan_label(name: str | None) -> str:
    return plan(name)["label"]


def next_reset(today: date | None = None) -> datetime:
    """When daily counts start again: the next UTC midnight."""
    day = (today or utcnow().date()) + timedelta(days=1)
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _limits_of_the_day(user_id: uuid.UUID) -> dict[str, Any]:
    """The limit columns of a new day's row, from the member's plan, read in the same INSERT."""
    from webapp.auth.models import User

    plan = sa.select(User.plan).where(User.id == user_id).scalar_subquery()
    plans = current_app.config["PLANS"]
    values = {}
    for metric in METRICS.values():
        if metric.limit_column:
            by_plan = {name: spec["limits"][metric.name] for name, spec in plans.items()}
            values[metric.limit_column] = sa.case(by_plan, value=plan, else_=by_plan["free"])
    return values


def _upsert(user_id: uuid.UUID, day: date, increments: dict[str, int]):
    if db.engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    now = utcnow()
    statement = insert(UsageMetric).values(
        id=uuid.uuid4(),
        user_id=user_id,
        metric_date=day,
        created_at=now,
        last_updated_at=now,
        **_limits_of_the_day(user_id),
        **increments,
    )
    return statement, now


def add_to_day(user_id: uuid.UUID, day: date | None = None, **increments: int) -> None:
    """Add ``increments`` (counter name -> amount) to the member's row for ``day`` (today, UTC)."""
    unknown = set(increments) - COUNTERS
    if unknown:
        raise ValueError(f"not usage counters: {sorted(unknown)}")
    statement, now = _upsert(user_id, day or utcnow().date(), increments)
    statement = statement.on_conflict_do_update(
        index_elements=["user_id", "metric_date"],
        set_={
            **{name: getattr(UsageMetric, name) + amount for name, amount in increments.items()},
            "last_updated_at": now,
        },
    )
    db.session.execute(statement)


def consume(user_id: uuid.UUID, metric: str, amount: int = 1) -> int:
    """Count ``amount`` of ``metric`` for today if it stays within the day's limit, and return
    the day's total; otherwise 429 ``quota_exceeded`` naming the limit and when it resets, with
    nothing counted. The check and the increment are one statement."""
    found = METRICS[metric]
    today = utcnow().date()
    statement, now = _upsert(user_id, today, {metric: amount})
    column, limit = getattr(UsageMetric, metric), getattr(UsageMetric, found.limit_column)
    statement = statement.on_conflict_do_update(
        index_elements=["user_id", "metric_date"],
        set_={metric: column + amount, "last_updated_at": now},
        where=column + amount <= limit,
    ).returning(column, limit)
    try:
        with db.session.begin_nested():  # a member deleted meanwhile has no row to count on
            row = db.session.execute(statement).first()
    except IntegrityError:
        raise NotFound("No such member.") from None
    if row is None or row[0] > row[1]:  # refused by the WHERE, or a first row already past it
        if row is not None:
            raise_over(metric, row[1], row[0] - amount, today)
        stored = db.session.execute(
            sa.select(column, limit).where(UsageMetric.user_id == user_id, UsageMetric.metric_date == today)
        ).one()
        raise_over(metric, stored[1], stored[0], today)
    warn_if_crossed(user_id, metric, row[0] - amount, row[0], row[1])
    return row[0]


def raise_over(metric: str, limit: int | Decimal, used: int | Decimal, today: date) -> None:
    found = METRICS[metric]
    resets = next_reset(today)
    raise QuotaExceeded(
        f"Your plan's daily limit of {limit:,} {found.label.lower()} is reached; it resets at {resets:%H:%M} UTC.",
        details={"metric": metric, "limit": int(limit), "used": int(used), "resets_at": resets.isoformat()},
    )


def crossed_marks(before: int, after: int, limit: int) -> list[int]:
    """The warning marks (percent of ``limit``) that a count moving from ``before`` to ``after``
    reaches for the first time; mostly none, so callers can skip the notice altogether."""
    return [percent for percent in WARN_AT if limit and before < limit * percent / 100 <= after]


def warn_if_crossed(user_id: uuid.UUID, metric: str, before: int, after: int, limit: int) -> None:
    """Tell the member when a count first reaches 80 % and 100 % of its limit that day."""
    label = METRICS[metric].label
    for percent in crossed_marks(before, after, limit):
        notify(
            user_id,
            f"{label}: {percent}% of today's limit" if percent < 100 else f"{label}: today's limit reached",
            f"You have used {after:,} of {limit:,} {label.lower()} today. It resets at midnight UTC.",
            type="warning" if percent < 100 else "error",
            category="billing",
            action_url="/usage",
            metadata={"metric": metric, "percent": percent},
        )


@dataclass(frozen=True)
class Standing:
    """One metric today against its limit, and its trend over a period."""

    metric: Metric
    today: float
    limit: float | None
    period_total: float
    previous_total: float
    history: list[tuple[date, float]]

    @property
    def percent(self) -> int | None:
        if not self.limit:
            return None
        return min(100, round(self.today / self.limit * 100))

    @property
    def trend(self) -> int | None:
        """Percent change against the period before (None when there was nothing to compare)."""
        if not self.previous_total:
            return None
        return round((self.period_total - self.previous_total) / self.previous_total * 100)


def _number(value: Any) -> float:
    return float(value) if isinstance(value, Decimal) else value


def standings(user: Any, days: int) -> list[Standing]:
    """Every metric for the last ``days`` days and the ``days`` before (one indexed query), with
    today's API calls still in the counter's buffer counted in; a day without a row has the
    plan's limits."""
    from webapp.usage.counter import pending_calls as buffered

    user_id, pending_calls, limits = user.id, buffered(user.id), plan_limits(user.plan)
    today = utcnow().date()
    first = today - timedelta(days=2 * days - 1)
    rows = {
        row.metric_date: row
        for row in db.session.scalars(
            sa.select(UsageMetric).where(UsageMetric.user_id == user_id, UsageMetric.metric_date >= first)
        )
    }
    current = [today - timedelta(days=days - 1 - i) for i in range(days)]
    previous = [day - timedelta(days=days) for day in current]
    result = []

    def value(metric: Metric, day: date) -> float:
        return _number(getattr(rows[day], metric.name)) if day in rows else 0

    for metric in METRICS.values():
        history = [(day, value(metric, day)) for day in current]
        if metric.name == "api_calls" and pending_calls:
            history[-1] = (today, history[-1][1] + pending_calls)
        limit = None
        if metric.limit_column:
            limit = _number(getattr(rows[today], metric.limit_column)) if today in rows else limits[metric.name]
        result.append(
            Standing(
                metric=metric,
                today=history[-1][1],
                limit=limit,
                period_total=history[-1][1] if metric.level else sum(v for _, v in history),
                previous_total=value(metric, previous[-1])
                if metric.level
                else sum(value(metric, day) for day in previous),
                history=history,
            )
        )
    return result
