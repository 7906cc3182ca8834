"""Profile, CV, avatar, settings and account deletion over JSON (seeds 000 and 001)."""

from __future__ import annotations

from flask import Blueprint, current_app, request
from flask_login import current_user

from webapp import limits, storage
from webapp.accounts import ACCOUNT_DELETE, PROFILE_READ, PROFILE_WRITE, avatars, schemas
from webapp.accounts import service as accounts
from webapp.api.endpoint import endpoint, json_body, no_content, ok
from webapp.auth.login import sign_out
from webapp.errors import ValidationFailed

bp = Blueprint("accounts_api", __name__, url_prefix="/api/v1")


@endpoint(
    bp,
    "GET",
    "/profile",
    scope=PROFILE_READ,
    tag="Profile",
    summary="Your profile",
    response=schemas.ProfileReply,
)
def get_profile(principal):
    """The caller's whole profile, CV included."""
    return ok(schemas.profile_json(principal.user.profile))


@endpoint(
    bp,
    "PATCH",
    "/profile",
    scope=PROFILE_WRITE,
    tag="Profile",
    summary="Update profile fields",
    body=schemas.ProfileChanges,
    response=schemas.ProfileReply,
)
def patch_profile(principal):
    """Change any subset of the writable fields; all or nothing."""
    profile = accounts.update_profile(principal.user, json_body())
    return ok(schemas.profile_json(profile))


@endpoint(
    bp,
    "POST",
    "/profile/avatar",
    scope=PROFILE_WRITE,
    tag="Profile",
    summary=f"Upload an avatar (multipart field 'avatar', at most {schemas.AVATAR_MB} MB)",
    response=schemas.AvatarReply,
    status=201,
    files={"avatar": f"A JPEG, PNG, WebP or GIF image, at most {schemas.AVATAR_MB} MB"},
)
def upload_avatar(principal):
    """Store a new avatar; the file is checked, re-encoded and resized."""
    upload = request.files.get("avatar")
    if upload is None:
        raise ValidationFailed("Send the image as multipart field 'avatar'.", details={"avatar": [avatars.MISSING]})
    url = accounts.set_avatar(
        principal.user,
        upload.read(current_app.config["AVATAR_MAX_BYTES"] + 1),
        max_bytes=current_app.config["AVATAR_MAX_BYTES"],
    )
    return ok(schemas.AvatarReply.of({"avatar_url": storage.absolute_url(url)}), 201)


@endpoint(bp, "DELETE", "/profile/avatar", scope=PROFILE_WRITE, tag="Profile", summary="Remove the avatar", status=204)
def delete_avatar(principal):
    accounts.remove_avatar(principal.user)
    return no_content()


@endpoint(
    bp,
    "GET",
    "/profile/cv",
    scope=PROFILE_READ,
    tag="CV",
    summary="Your CV document",
    response=schemas.CV,
)
def get_cv(principal):
    return ok(schemas.CV.of(accounts.get_cv(principal.user)))


@endpoint(
    bp,
    "POST",
    "/profile/cv",
    scope=PROFILE_WRITE,
    tag="CV",
    summary="Insert or update the CV (given sections replace stored ones)",
    body=schemas.CVDocument,
    response=schemas.CV,
)
def upsert_cv(principal):
    return ok(schemas.CV.of(accounts.merge_cv(principal.user, json_body())))


@endpoint(
    bp,
    "PUT",
    "/profile/cv",
    scope=PROFILE_WRITE,
    tag="CV",
    summary="Replace the whole CV document",
    body=schemas.CVDocument,
    response=schemas.CV,
)
def replace_cv(principal):
    return ok(schemas.CV.of(accounts.replace_cv(principal.user, json_body())))


@endpoint(bp, "DELETE", "/profile/cv", scope=PROFILE_WRITE, tag="CV", summary="Clear the CV document", status=204)
def delete_cv(principal):
    accounts.clear_cv(principal.user)
    return no_content()


@endpoint(
    bp,
    "GET",
    "/settings",
    scope=PROFILE_READ,
    tag="Settings",
    summary="All settings",
    response=schemas.SettingsReply,
)
def get_settings(principal):
    return ok(schemas.SettingsReply.of(accounts.settings_dict(principal.user)))


@endpoint(
    bp,
    "PATCH",
    "/settings",
    scope=PROFILE_WRITE,
    tag="Settings",
    summary="Update settings",
    body=schemas.SettingsChanges,
    response=schemas.SettingsReply,
)
def patch_settings(principal):
    accounts.update_settings(principal.user, json_body())
    return ok(schemas.SettingsReply.of(accounts.settings_dict(principal.user)))


@endpoint(
    bp,
    "DELETE",
    "/account",
    scope=ACCOUNT_DELETE,
    tag="Account",
    summary="Delete the account and everything it owns (needs the password)",
    body=schemas.AccountDeletion,
    status=204,
)
def delete_account(principal):
    """Delete after the password check; a cookie session is revoked on the server, not only forgotten."""
    return _delete_account(principal)


# Limited apart from the route: ``endpoint``'s wrappers copy a decorated view's attributes, which
# would make Flask-Limiter skip the API's own per-caller limit (and its headers) on this route.
@limits.password_attempts()
def _delete_account(principal):
    token = current_user.get_id() if principal.via == "session" else None
    accounts.delete_account(principal.user, schemas.AccountDeletion.clean(json_body())["password"])
    if principal.via == "session":
        sign_out(token)
    return no_content()
