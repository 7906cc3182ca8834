"""The sign-in domain on the dashboard: the security card and the "verify your email" step."""

from __future__ import annotations

from datetime import timedelta

from flask import render_template

from webapp.activity import service as activity
from webapp.auth import access, sessions
from webapp.auth.models import User
from webapp.timeutil import utcnow

FAILED_SIGN_IN_WINDOW = timedelta(days=30)


def render_card(member: User) -> str:
    """Email confirmation, password age, where the member is signed in, and failed sign-ins."""
    since = utcnow() - FAILED_SIGN_IN_WINDOW
    return render_template(
        "auth/_dashboard_card.html",
        member=member,
        browsers=sessions.active_count(member.id),
        api_apps=access.live_count(member.id),
        failed_sign_ins=activity.count_since(member.id, "login", since, status="failure"),
        window_days=FAILED_SIGN_IN_WINDOW.days,
    )


def email_verified(member: User) -> bool:
    return member.is_verified
