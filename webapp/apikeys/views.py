"""The API keys page: list, create (secret shown once), edit, disable, regenerate, delete.

Every action answers with the keys section: htmx swaps it in place, plain forms get the page.
"""

from __future__ import annotations

from flask import Blueprint
from flask_login import current_user, login_required

from webapp.api import scopes
from webapp.apikeys import service as apikeys
from webapp.apikeys.forms import ApiKeyForm
from webapp.errors import ServiceError
from webapp.forms import apply_errors
from webapp.htmx import render

bp = Blueprint("apikeys", __name__, url_prefix="/settings/api-keys")


def _section(
    form: ApiKeyForm | None = None,
    *,
    secret: str | None = None,
    secret_key=None,
    editing=None,
    edit_form: ApiKeyForm | None = None,
    status: int = 200,
    notice: str | None = None,
):
    return render(
        "apikeys/page.html",
        "apikeys/_section.html",
        status,
        form=form or ApiKeyForm(formdata=None, member=current_user),
        keys=apikeys.list_keys(current_user),
        secret=secret,
        secret_key=secret_key,
        editing=editing,
        edit_form=edit_form,
        notice=notice,
        scope_descriptions=scopes.SCOPES,
    )


@bp.get("")
@login_required
def index():
    """The member's keys and the form to create one."""
    return _section()


@bp.post("")
@login_required
def create():
    """Create a key and show its secret once."""
    form = ApiKeyForm(member=current_user)
    if form.validate_on_submit():
        try:
            key, secret = apikeys.create_key(current_user, form.changes(current_user.profile.timezone))
        except ServiceError as exc:
            apply_errors(form, exc)
        else:
            return _section(secret=secret, secret_key=key)
    return _section(form, status=422)


@bp.get("/<key_id>/edit")
@login_required
def edit(key_id: str):
    """The inline edit form for one key."""
    key = apikeys.get_key(current_user, key_id)
    data = {
        "name": key.name,
        "permissions": key.permissions,
        "rate_limit": key.rate_limit,
        "expires_on": _last_local_day(key.expires_at),
    }
    return _section(
        editing=key, edit_form=ApiKeyForm(formdata=None, prefix=_prefix(key), data=data, member=current_user)
    )


def _prefix(key) -> str:
    """Each key's edit form has its own field ids, so labels stay unique on the page."""
    return f"k{key.id.hex[:8]}"


def _last_local_day(value):
    """The date shown in the form: the last full day (member's zone) the key works."""
    from datetime import timedelta

    from webapp.timeutil import to_zone

    local = to_zone(value, current_user.profile.timezone)
    return (local - timedelta(seconds=1)).date() if local else None


@bp.post("/<key_id>")
@login_required
def update(key_id: str):
    """Save the name, permissions, expiry and rate limit."""
    key = apikeys.get_key(current_user, key_id)
    edit_form = ApiKeyForm(prefix=_prefix(key), member=current_user)
    if edit_form.validate_on_submit():
        try:
            apikeys.update_key(current_user, key.id, edit_form.changes(current_user.profile.timezone))
        except ServiceError as exc:
            apply_errors(edit_form, exc)
        else:
            return _section(notice=f"Saved “{edit_form.name.data}”.")
    return _section(editing=key, edit_form=edit_form, status=422)


@bp.post("/<key_id>/status")
@login_required
def toggle_status(key_id: str):
    """Disable an active key (it stops working at once) or enable a disabled one."""
    key = apikeys.get_key(current_user, key_id)
    new_status = "disabled" if key.status == "active" else "active"
    apikeys.update_key(current_user, key.id, {"status": new_status})
    return _section(notice=f"“{key.name}” is now {new_status}.")


@bp.post("/<key_id>/regenerate")
@login_required
def regenerate(key_id: str):
    """A new secret; the old one is refused from now on."""
    key, secret = apikeys.regenerate_key(current_user, key_id)
    return _section(secret=secret, secret_key=key)


@bp.post("/<key_id>/delete")
@login_required
def delete(key_id: str):
    """Delete a key after confirmation."""
    key = apikeys.get_key(current_user, key_id)
    apikeys.delete_key(current_user, key.id)
    return _section(notice=f"Deleted “{key.name}”.")
