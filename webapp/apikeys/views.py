"""The API keys page: list, create (secret shown once), edit, disable, regenerate, delete.

Every action answers with the keys section: htmx swaps it in place, plain forms get the page.
"""

from __future__ import annotations

import uuid

from flask import Blueprint, request
from flask_login import current_user, login_required

from webapp.api import scopes
from webapp.apikeys import service as apikeys
from webapp.apikeys.forms import ApiKeyForm
from webapp.errors import ValidationFailed, parse_uuid
from webapp.htmx import render
from webapp.pagination import last_page, page_number, page_size
from webapp.templating import member_timezone

bp = Blueprint("apikeys", __name__, url_prefix="/settings/api-keys")


def _section(
    form: ApiKeyForm | None = None,
    *,
    secret: str | None = None,
    secret_key=None,
    editing_id: uuid.UUID | None = None,
    edit_form: ApiKeyForm | None = None,
    status: int = 200,
    notice: str | None = None,
):
    """The keys section (or page); an answer that shows a secret is never cached."""
    page, size = page_number(request.values.get("page")), page_size(current_user)
    keys, total = apikeys.list_keys(current_user, limit=size, offset=(page - 1) * size)
    pages = last_page(total, size)
    if page > pages:  # the last key of the last page was deleted: show the page before
        page = pages
        keys, total = apikeys.list_keys(current_user, limit=size, offset=(page - 1) * size)
    response = render(
        "apikeys/page.html",
        "apikeys/_section.html",
        status=status,
        form=form or ApiKeyForm(formdata=None, member=current_user),
        keys=keys,
        total=total,
        page=page,
        pages=pages,
        secret=secret,
        secret_key=secret_key,
        editing_id=editing_id,
        edit_form=edit_form,
        notice=notice,
        scope_descriptions=scopes.SCOPES,
    )
    if secret:
        response.headers["Cache-Control"] = "no-store"
    return response


def _key_id(value: str) -> uuid.UUID:
    return parse_uuid(value, "No such API key.")


def _prefix(key_id: uuid.UUID) -> str:
    """Each key's edit form has its own field ids, so labels stay unique on the page."""
    return f"k{key_id.hex[:8]}"


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
            key, secret = apikeys.create_key(current_user, form.changes(member_timezone()))
        except ValidationFailed as exc:
            form.show(exc)
        else:
            return _section(secret=secret, secret_key=key)
    return _section(form, status=422)


@bp.get("/<key_id>/edit")
@login_required
def edit(key_id: str):
    """The inline edit form for one key."""
    key = apikeys.get_key(current_user, key_id)
    edit_form = ApiKeyForm.from_key(key, member_timezone(), prefix=_prefix(key.id), member=current_user)
    return _section(editing_id=key.id, edit_form=edit_form)


@bp.post("/<key_id>")
@login_required
def update(key_id: str):
    """Save the name, permissions, expiry and rate limit."""
    key_uuid = _key_id(key_id)
    edit_form = ApiKeyForm(prefix=_prefix(key_uuid), member=current_user)
    if edit_form.validate_on_submit():
        try:
            stored = apikeys.get_key(current_user, key_uuid)
            key = apikeys.update_key(current_user, key_uuid, edit_form.changes(member_timezone(), stored=stored))
        except ValidationFailed as exc:
            edit_form.show(exc)
        else:
            return _section(notice=f"Saved “{key.name}”.")
    return _section(editing_id=key_uuid, edit_form=edit_form, status=422)


@bp.post("/<key_id>/status")
@login_required
def toggle_status(key_id: str):
    """Disable an active key (it stops working at once) or enable a disabled one."""
    key = apikeys.toggle_status(current_user, key_id)
    return _section(notice=f"“{key.name}” is now {key.status}.")


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
    name = apikeys.delete_key(current_user, key_id)
    return _section(notice=f"Deleted “{name}”.")
