"""The credits card on the dashboard: balance, this month against the limit, the forecast and
two weeks of spending."""

from __future__ import annotations

from flask import render_template

from webapp.charts import sparkline
from webapp.credits import service

DAYS = 14


def render_card(member) -> str:
    account = service.account(member.id)
    history = service.daily_history(member.id, DAYS)
    return render_template(
        "credits/_dashboard_card.html",
        account=account,
        monthly_usage=service.monthly_usage(account),
        forecast=service.forecast(account, history),
        history=[(day.day.strftime("%b %-d"), day.used) for day in history],
        chart=sparkline([day.used for day in history]),
    )
