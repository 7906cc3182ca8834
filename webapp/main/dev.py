"""Development-only tools: the mail outbox, so links in mails can be followed locally."""

from __future__ import annotations

from flask import Blueprint, render_template

from webapp.mail import outbox_messages

bp = Blueprint("dev", __name__, url_prefix="/dev")


@bp.get("/outbox")
def outbox():
    """Mails written to the local outbox instead of being sent (no SMTP configured)."""
    return render_template("main/outbox.html", mails=outbox_messages())
