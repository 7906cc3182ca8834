"""Usage over the API: which period and metric a query asks for, and what it answers."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from webapp import rules
from webapp.contracts import Contract, Reply, Timestamp
from webapp.usage.service import METRICS, Standing, next_reset

PERIODS = {"7d": 7, "30d": 30, "90d": 90}


class UsageQuery(Contract):
    period: rules.Choice(tuple(PERIODS), description="7d, 30d or 90d (30d by default)", in_query=True) = None

    @classmethod
    def period_of(cls, args) -> tuple[str, int, dict[str, Any]]:
        cleaned = cls.read_query(args, message="Invalid usage query.")
        period = cleaned.get("period") or "30d"
        return period, PERIODS[period], cleaned


def page_period(args) -> str:
    """A page's period from its query string; anything odd is the default (30 days)."""
    period = args.get("period", "30d")
    return period if period in PERIODS else "30d"


class HistoryQuery(UsageQuery):
    metric: rules.Choice(("all", *METRICS), description="One metric, or all (the default)", in_query=True) = None


class MetricReply(Reply):
    metric: str
    label: str
    unit: str
    today: float = Field(description="Used today (UTC), or the current level for storage")
    limit: float | None = Field(description="Today's limit on your plan; null where there is none")
    percent: int | None = Field(description="Today against the limit, 0 to 100")
    period_total: float
    previous_total: float = Field(description="The same length of time just before")
    trend_percent: int | None = Field(description="Change against the period before; null without one")
    resets_at: Timestamp


class MetricsReply(Reply):
    period: Literal["7d", "30d", "90d"]
    metrics: list[MetricReply]


class HistoryDay(Reply):
    date: str = Field(json_schema_extra={"format": "date"})
    values: dict[str, float] = Field(description="Metric name -> that day's value")


class HistoryReply(Reply):
    period: Literal["7d", "30d", "90d"]
    metric: str
    days: list[HistoryDay]


def metrics_json(period: str, found: list[Standing]) -> dict[str, Any]:
    resets = next_reset().isoformat()
    return MetricsReply.of(
        {
            "period": period,
            "metrics": [
                {
                    "metric": s.metric.name,
                    "label": s.metric.label,
                    "unit": s.metric.unit,
                    "today": float(s.today),
                    "limit": float(s.limit) if s.limit is not None else None,
                    "percent": s.percent,
                    "period_total": float(s.period_total),
                    "previous_total": float(s.previous_total),
                    "trend_percent": s.trend,
                    "resets_at": resets,
                }
                for s in found
            ],
        }
    )


def history_json(period: str, metric: str, found: list[Standing]) -> dict[str, Any]:
    chosen = [s for s in found if metric in ("all", s.metric.name)]
    days = [day for day, _ in chosen[0].history] if chosen else []
    return HistoryReply.of(
        {
            "period": period,
            "metric": metric,
            "days": [
                {"date": day.isoformat(), "values": {s.metric.name: float(s.history[i][1]) for s in chosen}}
                for i, day in enumerate(days)
            ],
        }
    )
