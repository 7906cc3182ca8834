"""Usage over JSON (seed 000 §3): each metric against its limit with trends, and its history."""

from __future__ import annotations

from flask import Blueprint, request

from webapp.api.endpoint import endpoint, ok
from webapp.usage import USAGE_READ, schemas, service

bp = Blueprint("usage_api", __name__, url_prefix="/api/v1")


@endpoint(
    bp,
    "GET",
    "/usage/metrics",
    scope=USAGE_READ,
    tag="Usage",
    summary="Each metric today against your plan's limit, with its trend over the period",
    response=schemas.MetricsReply,
    query=schemas.UsageQuery,
)
def metrics(principal):
    period, days, _ = schemas.UsageQuery.period_of(request.args)
    return ok(schemas.metrics_json(period, service.standings(principal.user, days)))


@endpoint(
    bp,
    "GET",
    "/usage/history",
    scope=USAGE_READ,
    tag="Usage",
    summary="Each day's values for charts, for one metric or all",
    response=schemas.HistoryReply,
    query=schemas.HistoryQuery,
)
def history(principal):
    period, days, query = schemas.HistoryQuery.period_of(request.args)
    metric = query.get("metric") or "all"
    return ok(schemas.history_json(period, metric, service.standings(principal.user, days)))
