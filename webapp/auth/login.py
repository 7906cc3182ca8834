"""Flask-Login wiring: sessions resolve through server-side rows; refusals fit the caller."""

from __future__ import annotations

from flask import Flask, redirect, request, session, url_for
from flask_login import login_user, logout_user

from webapp.auth import sessions
from webapp.auth.models import User
from webapp.errors import json_error, wants_json
from webapp.extensions import csrf, login_manager
from webapp.htmx import current_page, hx_redirect, is_htmx
from webapp.security import SAFE_METHODS, client_ip


def sign_in(user: User, *, remember: bool) -> None:
    """Start a fresh server-side session; the old cookie contents are dropped (fixation)."""
    session.clear()
    sessions.start(user, remember=remember, ip=client_ip(), user_agent=request.user_agent.string)
    login_user(user, remember=remember)
    session.permanent = remember


def sign_out(token: str | None) -> None:
    """Revoke this browser's session row and clear its cookies.

    The session is emptied before ``logout_user``, which leaves a note in it asking for the
    remember cookie to be deleted; clearing afterwards would drop that note and keep the cookie.
    """
    sessions.revoke(token)
    session.clear()
    logout_user()


def _return_path() -> str | None:
    """Where to come back after signing in: this page (query included) when it was a GET."""
    if request.method != "GET":
        return None
    return request.full_path if request.query_string else request.path


def register_login(app: Flask) -> None:
    """User loading, the unauthorized answer per face, and CSRF for cookie-authenticated writes."""
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False

    @login_manager.user_loader
    def load_user(token: str) -> User | None:
        return sessions.resolve(token)

    @login_manager.unauthorized_handler
    def unauthorized():
        if wants_json():
            return json_error(401, "unauthorized", "Sign in or send a valid bearer token.")
        if is_htmx():
            # The request was for a fragment: after signing in, go back to the page it was
            # made from (never to the fragment itself, which would show a bare piece of page).
            return hx_redirect(url_for("auth.login", next=current_page()))
        return redirect(url_for("auth.login", next=_return_path()))

    @app.before_request
    def protect_cookie_writes():
        # Every cookie-authenticated write must carry the token. API routes are marked
        # csrf_exempt by ``webapp.api.endpoint``: public ones read no cookie, and the others
        # check the token themselves once they know the caller uses the session, not a bearer.
        if request.method in SAFE_METHODS:
            return None
        if request.routing_exception is not None:
            return None  # no route, so no view to forge a request to: the 404 or 405 answers
        view = app.view_functions.get(request.endpoint or "")
        if getattr(view, "csrf_exempt", False):
            return None
        csrf.protect()
        return None
