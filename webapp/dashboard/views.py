"""The dashboard page and the one route every card loads through."""

from __future__ import annotations

from flask import Blueprint, abort, make_response, redirect, render_template, url_for
from flask_login import current_user, login_required

from webapp.dashboard import registry
from webapp.htmx import is_htmx

bp = Blueprint("dashboard", __name__)


@bp.get("/dashboard")
@login_required
def index():
    """The member's home: a grid of cards, each filled in by its own request."""
    return render_template("dashboard/page.html", cards=registry.cards())


@bp.get("/dashboard/cards/<card_id>")
@login_required
def card(card_id: str):
    """One card's body. Opened directly (not by htmx), it is shown where it belongs: on the page."""
    found = registry.card(card_id)
    if found is None:
        abort(404)
    if not is_htmx():
        return redirect(url_for("dashboard.index") + f"#card-{card_id}", 303)
    response = make_response(found.render(current_user._get_current_object()))
    response.headers["Vary"] = "HX-Request"
    return response
