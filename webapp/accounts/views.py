"""Pages: profile and CV, avatar, settings, export, deletion."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    get_flashed_messages,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required

from webapp import fragments, limits
from webapp.accounts import service as accounts
from webapp.accounts.forms import (
    AvatarForm,
    CVForm,
    DeleteAccountForm,
    EducationRow,
    ExperienceRow,
    LinkRow,
    ProfileForm,
    SettingsForm,
)
from webapp.auth.login import sign_out
from webapp.errors import ServiceError, refusal
from webapp.export import build_zip
from webapp.forms import apply_errors
from webapp.htmx import hx_redirect, is_htmx, render
from webapp.security import safe_next_path
from webapp.timeutil import utcnow

bp = Blueprint("accounts", __name__)

CV_ROWS = {"experience": ExperienceRow, "education": EducationRow, "links": LinkRow}


def _profile_form() -> ProfileForm:
    """The profile form as stored; only the profile's own save binds what was posted, so a
    refused avatar or CV leaves these fields as they are."""
    return ProfileForm.of(current_user.profile)


def _cv_form() -> CVForm:
    cv = accounts.get_cv(current_user)
    return CVForm(formdata=None, data={**cv, "skills": ", ".join(cv.get("skills") or [])})


def _profile_context(**overrides) -> dict:
    """The profile page's forms as stored, except those a refused save passes in."""
    context = {"profile": current_user.profile, "avatar_form": AvatarForm(formdata=None)}
    if "form" not in overrides:
        context["form"] = _profile_form()
    if "cv_form" not in overrides:
        context["cv_form"] = _cv_form()
    return context | overrides


def _profile_page(status: int = 200, **overrides):
    if overrides or get_flashed_messages():  # a refusal or a notice: drawn for this request
        return render_template("accounts/profile.html", **_profile_context(**overrides)), status
    depends_on = (current_user.email, current_user.profile)
    body = fragments.body("accounts/_profile_body.html", depends_on, _profile_context)
    return render_template("accounts/profile.html", body=body), status


def _photo_card(form: AvatarForm, status: int):
    """A refused upload: the photo card for htmx (it swaps itself), the whole page otherwise."""
    return render("accounts/profile.html", "accounts/_photo.html", status=status, **_profile_context(avatar_form=form))


@bp.get("/profile")
@login_required
def profile():
    """The member's profile, CV and avatar, each editable in place."""
    return _profile_page()


@bp.post("/profile")
@login_required
def save_profile():
    """Save the profile fields; errors come back next to each field."""
    form = ProfileForm()
    if form.validate_on_submit():
        try:
            accounts.update_profile(current_user, form.changes())
        except ServiceError as exc:
            apply_errors(form, form.explain(exc))
        else:
            flash("Profile saved.", "success")
            return redirect(url_for("accounts.profile"), 303)
    return _profile_page(422, form=form)


@bp.post("/profile/cv")
@login_required
def save_cv():
    """Save the structured CV (experience, education, skills, links)."""
    form = CVForm()
    if form.validate_on_submit():
        try:
            accounts.replace_cv(current_user, form.document())
        except ServiceError as exc:
            apply_errors(form, exc, entries=form.kept_rows)
            return _cv_card(form, status=422)
        if is_htmx():
            return _cv_card(_cv_form(), cv_saved=True)
        flash("CV saved.", "success@cv")  # shown in the CV card, where the redirect lands
        return redirect(url_for("accounts.profile") + "#cv", 303)
    return _cv_card(form, status=422)


@bp.get("/profile/cv")
@login_required
def cv_page():
    """The CV lives on the profile page; a reload or bookmark of the form's address lands there."""
    return redirect(url_for("accounts.profile") + "#cv", 303)


def _cv_card(form: CVForm, *, status: int = 200, cv_saved: bool = False):
    """The CV card for htmx (it swaps itself), the whole profile page otherwise."""
    return render(
        "accounts/profile.html", "accounts/_cv.html", status=status, cv_saved=cv_saved, **_profile_context(cv_form=form)
    )


@bp.get("/profile/cv/rows/<kind>")
@login_required
def cv_row(kind: str):
    """One empty CV row for htmx to append, plus the 'add' button with the next index."""
    row_form = CV_ROWS.get(kind)
    if row_form is None:
        abort(404)
    index = max(0, min(request.args.get("index", 0, type=int), 999))
    row = row_form(prefix=f"{kind}-{index}-")
    return render_template("accounts/_cv_row.html", kind=kind, row=row, index=index, oob=True)


@bp.post("/profile/avatar")
@login_required
def upload_avatar():
    """Replace the avatar; a bad or oversize file is explained next to the field."""
    form = AvatarForm()
    if form.validate_on_submit():
        max_bytes = current_app.config["AVATAR_MAX_BYTES"]
        try:
            accounts.set_avatar(current_user, form.avatar.data.read(max_bytes + 1), max_bytes=max_bytes)
        except ServiceError as exc:
            apply_errors(form, exc)
            return _photo_card(form, exc.status)
        flash("Photo updated.", "success")
        # A full navigation under htmx too: the header's avatar changes as well as the card.
        return hx_redirect(url_for("accounts.profile"))
    return _photo_card(form, 422)


@bp.post("/profile/avatar/delete")
@login_required
def delete_avatar():
    """Go back to initials."""
    accounts.remove_avatar(current_user)
    flash("Photo removed.", "info")
    return hx_redirect(url_for("accounts.profile"))


def _settings_context() -> dict:
    return {"form": SettingsForm(data=accounts.settings_dict(current_user))}


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def settings():
    """Appearance, workspace, region and privacy; changes apply on the next page."""
    if request.method == "GET" and not get_flashed_messages():
        depends_on = (current_user.settings, current_user.profile)
        body = fragments.body("accounts/_settings_body.html", depends_on, _settings_context)
        return render_template("accounts/settings.html", body=body)
    form = SettingsForm(data=accounts.settings_dict(current_user) if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            accounts.update_settings(current_user, form.changes())
        except ServiceError as exc:
            apply_errors(form, exc)
        else:
            flash("Settings saved.", "success")
            return redirect(url_for("accounts.settings"), 303)
    status = 422 if form.errors or form.form_errors else 200
    return render_template("accounts/settings.html", form=form), status


@bp.post("/settings/theme")
@login_required
def toggle_theme():
    """The header's theme switch: light → dark → system, then back to the same page."""
    order = ["light", "dark", "system"]
    current = current_user.settings.theme
    accounts.update_settings(current_user, {"theme": order[(order.index(current) + 1) % 3]})
    return redirect(safe_next_path(request.form.get("next"), url_for("accounts.settings")), 303)


@bp.get("/account/export")
@login_required
def export():
    """Everything the member owns, as a zip of JSON files."""
    data = build_zip(current_user.id)
    filename = f"folio-export-{utcnow():%Y%m%d}.zip"
    return Response(
        data,
        mimetype="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


@bp.route("/account/delete", methods=["GET", "POST"])
@login_required
@limits.password_attempts()
def delete_account():
    """Confirm with the password, then remove everything and sign out."""
    form = DeleteAccountForm()
    if form.validate_on_submit():
        token = current_user.get_id()
        try:
            accounts.delete_account(current_user, form.password.data)
        except ServiceError as exc:
            apply_errors(form, exc)
        else:
            sign_out(token)
            flash("Your account and all of its data are deleted. Thank you for trying Folio.", "info")
            return redirect(url_for("main.index"), 303)
    return render_template("accounts/delete.html", form=form), 422 if form.errors else 200


@bp.errorhandler(413)
def request_too_large(exc):
    """A body over ``MAX_CONTENT_LENGTH`` is refused before the view runs (while the CSRF check
    reads the form); on the avatar upload it is explained on the photo card like any other
    refusal. The request's form cannot be read, so the card starts empty."""
    limit = current_app.config["AVATAR_MAX_BYTES"] // (1024 * 1024)
    if request.endpoint != "accounts.upload_avatar":
        message = f"The upload is too large. The limit is {limit} MB."
        return render_template("errors/413.html", status=413, message=message), 413
    form = AvatarForm(formdata=None)
    form.avatar.errors = [f"Choose an image under {limit} MB."]
    return _photo_card(form, 413)


@bp.errorhandler(429)
def too_many_attempts(exc):
    """The deletion form (this blueprint's only limit) again, with the reason and the wait."""
    form = DeleteAccountForm()
    form.form_errors.append(refusal(exc.description))
    return render_template("accounts/delete.html", form=form), 429
