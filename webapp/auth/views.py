"""Pages: register, sign in and out, verify email, forgot and reset password, security."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required

from webapp import limits
from webapp.activity import service as activity
from webapp.apikeys import service as apikeys
from webapp.auth import access, devices, sessions
from webapp.auth import service as auth
from webapp.auth.forms import (
    ChangeEmailForm,
    ChangePasswordForm,
    ConfirmForm,
    ForgotForm,
    LoginForm,
    RegisterForm,
    ResetForm,
)
from webapp.auth.login import sign_in, sign_out
from webapp.auth.schemas import SignUpPage
from webapp.auth.tokens import TokenInvalid
from webapp.errors import ServiceError, refusal
from webapp.extensions import limiter
from webapp.forms import apply_errors
from webapp.htmx import hx_redirect, is_htmx, render
from webapp.pagination import page_size
from webapp.security import client_ip, safe_next_path

bp = Blueprint("auth", __name__)


def _safe_next(default: str) -> str:
    return safe_next_path(request.args.get("next"), default)


def _member_key() -> str:
    return f"security:{current_user.id}"


def _per_ip(config_key: str, message: str):
    """A POST limit per client address whose size comes from the config at request time."""
    return limiter.limit(lambda: current_app.config[config_key], methods=["POST"], error_message=message)


@bp.route("/auth/register", methods=["GET", "POST"])
@_per_ip("LOGIN_LIMIT_PER_IP", "Too many sign-up attempts from your network.")
def register():
    """Create an account and sign straight in; verification can come later."""
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user = auth.register(form.changes(), contract=SignUpPage)
        except ServiceError as exc:
            apply_errors(form, exc)
        else:
            sign_in(user, remember=False)
            activity.record("login", user_id=user.id, message="signed up")
            flash("Welcome to Folio! We sent you a link to confirm your email.", "success")
            return devices.remember(redirect(url_for("dashboard.index"), 303), user.id)
    return render_template("auth/register.html", form=form), 422 if form.errors else 200


@bp.route("/auth/login", methods=["GET", "POST"])
@_per_ip("LOGIN_LIMIT_PER_IP", "Too many sign-in attempts from your network.")
@limits.sign_in_attempts()
def login():
    """Sign in; unknown email and wrong password get the same answer. A success marks this
    browser as a known device of the account, which strangers' guesses cannot lock out."""
    if current_user.is_authenticated:
        return redirect(_safe_next(url_for("dashboard.index")))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = auth.authenticate(
                form.email.data, form.password.data, ip=client_ip(), user_agent=request.user_agent.string
            )
        except ServiceError as exc:
            form.form_errors.append(exc.message)
            # 401 for bad credentials, 403 for a locked account: the page says which.
            return render_template("auth/login.html", form=form), exc.status
        sign_in(user, remember=form.remember.data)
        return devices.remember(redirect(_safe_next(url_for("dashboard.index")), 303), user.id)
    return render_template("auth/login.html", form=form), 422 if form.errors else 200


@bp.post("/auth/logout")
def logout():
    """Sign out this browser; the session row is revoked, so a copied cookie dies too."""
    sign_out(current_user.get_id() if current_user.is_authenticated else None)
    flash("You are signed out.", "info")
    return hx_redirect(url_for("auth.login"))


@bp.get("/auth/verify/<token>")
def verify(token: str):
    """Confirm an email address from the mailed link."""
    try:
        user = auth.verify_email(token)
    except ServiceError as exc:
        return render_template("auth/token_problem.html", message=exc.message, kind="verify"), exc.status
    if current_user.is_authenticated and current_user.id != user.id:
        flash(
            f"{user.email} is confirmed. Note that it belongs to another account than the one you are "
            f"signed in with ({current_user.email}).",
            "warning",
        )
    else:
        flash(f"Thanks! {user.email} is confirmed.", "success")
    return redirect(url_for("dashboard.index") if current_user.is_authenticated else url_for("auth.login"))


@bp.post("/auth/verify/resend")
@login_required
@limiter.limit(
    lambda: current_app.config["MAIL_LIMIT"],
    key_func=lambda: f"resend:{current_user.id}",
    error_message="We already sent you several links in the last hour.",
)
def resend_verification():
    """Mail the verification link again (from the banner)."""
    if current_user.is_verified:
        message = "Your email is already confirmed."
    else:
        auth.send_verification(current_user)
        message = f"We sent a new link to {current_user.email}."
    return render("auth/resend_done.html", "auth/_resend_done.html", message=message)


@bp.route("/auth/forgot", methods=["GET", "POST"])
@_per_ip("MAIL_LIMIT", "Too many reset requests from your network.")
def forgot():
    """Ask for a reset link; the answer never says whether the account exists."""
    form = ForgotForm()
    if form.validate_on_submit():
        auth.request_password_reset(form.email.data)
        return render_template("auth/forgot_sent.html", email=form.email.data)
    return render_template("auth/forgot.html", form=form)


@bp.route("/auth/reset/<token>", methods=["GET", "POST"])
def reset(token: str):
    """Choose a new password from a mailed link (expiring, single use)."""
    try:
        auth.user_for_reset(token)
    except TokenInvalid as exc:
        return render_template("auth/token_problem.html", message=exc.message, kind="reset"), exc.status
    form = ResetForm()
    if form.validate_on_submit():
        try:
            user = auth.reset_password(token, form.changes())
        except ServiceError as exc:
            apply_errors(form, exc)
        else:
            session[RESET_RECEIPT] = auth.reset_receipt(user)
            return redirect(url_for("auth.reset_done"), 303)
    return render_template("auth/reset.html", form=form), 422 if form.errors else 200


# The browser that reset a password keeps a receipt in its session for the hour after, which
# lets it use the confirmation page's button; signing in clears it (a fresh session).
RESET_RECEIPT = "reset_receipt"


def _reset_member():
    return auth.user_for_reset_receipt(session.get(RESET_RECEIPT))


@bp.get("/auth/reset/done")
def reset_done():
    """The password is changed: sign in again, and revoke API keys someone else may hold."""
    user = _reset_member()
    if user is None:
        return redirect(url_for("auth.login"))
    keys, _ = apikeys.list_keys(user, limit=apikeys.MAX_KEYS_PER_MEMBER)
    return render_template("auth/reset_done.html", keys=[k for k in keys if k.display_status == "active"])


@bp.post("/auth/reset/done/revoke-keys")
def revoke_keys_after_reset():
    """Revoke every active API key of the member whose password this browser just reset."""
    user = _reset_member()
    if user is None:
        flash("That confirmation page has expired. Sign in to manage your API keys.", "info")
        return redirect(url_for("auth.login", next=url_for("apikeys.index")), 303)
    count = apikeys.revoke_all(user)
    flash(f"Revoked {count} API key{'s' if count != 1 else ''}. Apps using them stop working now.", "success")
    return redirect(url_for("auth.reset_done"), 303)


@bp.get("/settings/security")
@login_required
def security():
    """Password, email, active sessions and the latest sign-ins."""
    return _security_page(ChangePasswordForm(prefix="pw"), ChangeEmailForm(prefix="em"))


def _security_page(password_form, email_form, status: int = 200):
    token = current_user.get_id()
    return render_template(
        "auth/security.html",
        password_form=password_form,
        email_form=email_form,
        confirm_form=ConfirmForm(),
        sessions=sessions.active(current_user.id, limit=page_size(current_user)),
        current_token=token,
        is_current=sessions.is_current,
        sign_ins=activity.recent(current_user.id, "login", limit=page_size(current_user)),
        page_size=page_size(current_user),
        api_apps=access.live_count(current_user.id),
    ), status


@bp.post("/settings/security/password")
@login_required
@limits.password_attempts()
def change_password():
    """Change the password; other sessions are signed out."""
    form = ChangePasswordForm(prefix="pw")
    if form.validate_on_submit():
        try:
            auth.change_password(current_user, form.changes(), keep_token=current_user.get_id())
        except ServiceError as exc:
            apply_errors(form, exc)
        else:
            flash("Password changed. Your other sessions were signed out.", "success")
            return redirect(url_for("auth.security"), 303)
    return _security_page(form, ChangeEmailForm(prefix="em"), 422)


@bp.post("/settings/security/email")
@login_required
@limits.password_attempts()
@limiter.limit(
    lambda: current_app.config["MAIL_LIMIT"],
    key_func=_member_key,
    methods=["POST"],
    error_message="Too many email change requests.",
)
def change_email():
    """Start an email change: the new address must be confirmed from its inbox."""
    form = ChangeEmailForm(prefix="em")
    if form.validate_on_submit():
        try:
            new_email = auth.request_email_change(current_user, form.changes())
        except ServiceError as exc:
            apply_errors(form, exc)
        else:
            flash(f"We sent a confirmation link to {new_email}. Your email changes once you click it.", "info")
            return redirect(url_for("auth.security"), 303)
    return _security_page(ChangePasswordForm(prefix="pw"), form, 422)


@bp.post("/settings/security/sessions/revoke-others")
@login_required
def revoke_other_sessions():
    """Sign out every other browser and every API app; their credentials stop working at once."""
    count = auth.sign_out_everywhere(current_user.id, except_token=current_user.get_id())
    browsers = f"{count} other browser session{'s' if count != 1 else ''}"
    flash(f"Signed out {browsers} and every API app signed in with your password.", "success")
    return hx_redirect(url_for("auth.security"))


def _refuse_resend(message: str):
    # htmx swaps only 2xx and 422 answers here, and the banner must show the refusal.
    return render("auth/resend_done.html", "auth/_resend_done.html", status=200 if is_htmx() else 429, message=message)


def _refuse_security_form(refused_prefix: str):
    def refuse(message: str):
        forms = {"pw": ChangePasswordForm(prefix="pw"), "em": ChangeEmailForm(prefix="em")}
        forms[refused_prefix].form_errors.append(message)
        return _security_page(forms["pw"], forms["em"], 429)

    return refuse


def _refuse_on_form(form_class, template: str):
    def refuse(message: str):
        form = form_class()
        form.form_errors.append(message)
        return render_template(template, form=form), 429

    return refuse


# How each rate-limited page tells its refusal: on its own form, so the member keeps their
# input and reads which limit was hit and how long to wait.
_REFUSALS = {
    "auth.login": _refuse_on_form(LoginForm, "auth/login.html"),
    "auth.register": _refuse_on_form(RegisterForm, "auth/register.html"),
    "auth.forgot": _refuse_on_form(ForgotForm, "auth/forgot.html"),
    "auth.resend_verification": _refuse_resend,
    "auth.change_password": _refuse_security_form("pw"),
    "auth.change_email": _refuse_security_form("em"),
}


@bp.errorhandler(429)
def too_many_requests(exc):
    """A rate limit, told on the page in use: which limit and how long to wait."""
    message = refusal(exc.description)
    refuse = _REFUSALS.get(request.endpoint)
    if refuse is None:
        return render_template("errors/429.html", status=429, message=message), 429
    return refuse(message)
