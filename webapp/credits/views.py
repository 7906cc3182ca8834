"""The credits page: balance, this month against the limit, the forecast, packs to buy,
auto-refill, the usage chart and the ledger.

The chart, the ledger and the auto-refill form are partials that htmx swaps in place (a period,
a filter, an older page, a save); without htmx each answers the whole page in the same state.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, request, url_for
from flask_login import current_user, login_required

from webapp.charts import bar_chart
from webapp.credits import payments, schemas, service
from webapp.credits.forms import AutoRefillForm
from webapp.credits.models import TRANSACTION_TYPES
from webapp.errors import ServiceError, ValidationFailed
from webapp.forms import apply_errors
from webapp.htmx import is_htmx, render
from webapp.pagination import page_size
from webapp.usage.schemas import PERIODS, page_period

bp = Blueprint("credits", __name__, url_prefix="/credits")

TYPE_LABELS = {"purchase": "Purchases", "usage": "Usage", "refund": "Refunds", "bonus": "Bonuses"}


def _ledger_filters() -> tuple[str | None, Any]:
    """The ledger's type filter and cursor from the query string; odd values mean "from the top"."""
    kind = request.args.get("type") or None
    kind = kind if kind in TRANSACTION_TYPES else None
    try:
        cursor = schemas.decode_cursor(request.args.get("cursor") or None)
    except ValueError:
        cursor = None
    return kind, cursor


def _ledger(kind: str | None, cursor) -> dict[str, Any]:
    size = page_size(current_user)
    rows = service.transactions(current_user.id, limit=size + 1, type=kind, after=cursor)
    shown = rows[:size]
    older = schemas.encode_cursor(shown[-1].created_at, shown[-1].id) if len(rows) > size else None
    return {
        "rows": shown,
        "key_names": service.key_names(shown),
        "kind": kind,
        "older": older,
        "paged": cursor is not None,
        "type_labels": TYPE_LABELS,
    }


def _history(period: str) -> dict[str, Any]:
    days = service.daily_history(current_user.id, PERIODS[period])
    chart = bar_chart([(day.day.strftime("%b %-d"), day.used) for day in days])
    return {"period": period, "periods": PERIODS, "history": days, "chart": chart}


def _page(form: AutoRefillForm | None = None, *, status: int = 200, saved: bool = False, partial: str | None = None):
    account = service.account(current_user.id)
    kind, cursor = _ledger_filters()
    period = page_period(request.args)
    history = _history(period)  # 7 days or more: the forecast reads the last seven
    context = {
        "account": account,
        "monthly_usage": service.monthly_usage(account),
        "resets_at": service.month_resets_at(),
        "forecast": service.forecast(account, history["history"]),
        "form": form or AutoRefillForm.of(account),
        "saved": saved,
        "packs": payments.packs(),
        "provider": payments.provider(),
        "checkout": request.args.get("checkout"),  # back from Stripe: "paid" or "cancelled"
        **history,
        **_ledger(kind, cursor),
    }
    return render("credits/page.html", partial or "credits/page.html", status=status, **context)


@bp.get("")
@login_required
def index():
    return _page()


@bp.get("/transactions")
@login_required
def transactions():
    """The ledger, filtered by type or one page older (the page itself without htmx)."""
    kind, cursor = _ledger_filters()
    return render("credits/page.html", "credits/_ledger.html", **_ledger(kind, cursor)) if is_htmx() else _page()


@bp.get("/history")
@login_required
def history():
    """The usage chart for 7, 30 or 90 days."""
    return (
        render("credits/page.html", "credits/_history.html", **_history(page_period(request.args)))
        if is_htmx()
        else _page()
    )


@bp.post("/auto-refill")
@login_required
def save_auto_refill():
    """Save auto-refill and the monthly limit; htmx gets the form back with its errors or "Saved"."""
    form = AutoRefillForm()
    if form.validate_on_submit():
        try:
            account = service.change_auto_refill(current_user, form.changes())
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            return _page(AutoRefillForm.of(account), saved=True, partial="credits/_auto_refill.html")
    return _page(form, status=422, partial="credits/_auto_refill.html")


@bp.post("/buy")
@login_required
def buy():
    """Buy a pack: with the demo provider it is credited at once; with Stripe the member pays
    on Stripe's page and comes back here."""
    try:
        purchase = payments.start_purchase(current_user, {"pack": request.form.get("pack")})
    except ServiceError as exc:
        flash(exc.message, "error")
        return redirect(url_for("credits.index"), 303)
    if purchase.status == "pending" and purchase.checkout_url:
        return redirect(purchase.checkout_url, 303)
    flash(f"{purchase.credits:,} credits added to your balance.", "success")
    return redirect(url_for("credits.index"), 303)
