"""The usage page: each metric today against the plan's limit, its trend and its history."""

from __future__ import annotations

from flask import Blueprint, request
from flask_login import current_user, login_required

from webapp.charts import bar_chart
from webapp.htmx import render
from webapp.usage import schemas, service

bp = Blueprint("usage", __name__, url_prefix="/usage")


@bp.get("")
@login_required
def index():
    """The page, or (htmx) its metrics for another period."""
    period = schemas.page_period(request.args)
    found = service.standings(current_user, schemas.PERIODS[period])
    charts = {
        s.metric.name: bar_chart([(day.strftime("%b %-d"), value) for day, value in s.history], height=90)
        for s in found
    }
    plan = current_user.plan or "free"
    return render(
        "usage/page.html",
        "usage/_metrics.html",
        period=period,
        periods=schemas.PERIODS,
        standings=found,
        charts=charts,
        plan_label=service.plan_label(plan),
        resets_at=service.next_reset(),
    )
