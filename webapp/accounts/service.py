"""Profiles, CVs, avatars and settings: the one place that changes a member's own data."""

from __future__ import annotations

import re
import unicodedata
import uuid
from typing import Any

import sqlalchemy as sa

from webapp import storage
from webapp.accounts import avatars, schemas
from webapp.accounts.models import Profile, UserSettings, empty_cv
from webapp.auth.models import User
from webapp.auth.service import require_password
from webapp.contracts import ATTENTION
from webapp.errors import NotFound, ValidationFailed
from webapp.extensions import db


def _slugify(value: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:40].strip("-")
    return slug if len(slug) >= 3 else f"member-{slug}".strip("-")


def unique_slug(base: str) -> str:
    """``base`` or ``base-2``, ``base-3``…: the first one no profile uses (one query)."""
    base = _slugify(base)
    if base in schemas.RESERVED_SLUGS:
        base = f"{base}-pro"
    taken = set(
        db.session.scalars(sa.select(Profile.slug).where(sa.or_(Profile.slug == base, Profile.slug.like(f"{base}-%"))))
    )
    if base not in taken:
        return base
    suffix = 2
    while f"{base}-{suffix}" in taken:
        suffix += 1
    return f"{base}-{suffix}"


# Broken when two members with one name sign up at once; the sign-up then tries again.
SLUG_CONSTRAINT = "uq_profiles_slug"


def set_up_member(user: User, display_name: str, profile_fields: dict[str, Any]) -> None:
    """The profile and default settings every new member starts with (``auth.on_new_member``):
    an empty CV, a free address made from the name, and the fields given at sign-up."""
    user.profile = Profile(
        email=user.email,
        display_name=display_name,
        slug=unique_slug(display_name or user.email.split("@")[0]),
        categories=[],
        profile_data=empty_cv(),
        **profile_fields,
    )
    user.settings = UserSettings()


SLUG_TAKEN = "This address is taken. Choose another."


def _raise_if_errors(errors: dict[str, list[str]]) -> None:
    if errors:
        raise ValidationFailed(ATTENTION, details=errors)


def update_profile(user: User, changes: dict[str, Any]) -> Profile:
    """Validate and apply profile fields; the whole change is refused if any field fails."""
    cleaned, errors = schemas.ProfileChanges.check(changes)
    profile = user.profile
    budget_min = cleaned.get("budget_min", profile.budget_min)
    budget_max = cleaned.get("budget_max", profile.budget_max)
    budgets_read = not {"budget_min", "budget_max"} & set(errors)
    if budgets_read and budget_min is not None and budget_max is not None and budget_min > budget_max:
        errors.setdefault("budget_max", []).append("Must be at least the minimum budget.")
    new_slug = cleaned.get("slug")
    if new_slug and new_slug != profile.slug and _slug_taken(new_slug, profile.id):
        errors.setdefault("slug", []).append(SLUG_TAKEN)
    _raise_if_errors(errors)
    try:
        with db.session.begin_nested():  # a lost slug race undoes this change alone
            for name, value in cleaned.items():
                setattr(profile, name, value)
            db.session.flush()
    except sa.exc.IntegrityError:
        # Another member took the slug between the check above and this flush.
        raise ValidationFailed(ATTENTION, details={"slug": [SLUG_TAKEN]}) from None
    return profile


def _slug_taken(slug: str, profile_id: uuid.UUID) -> bool:
    return db.session.scalar(sa.select(Profile.id).where(Profile.slug == slug, Profile.id != profile_id)) is not None


def update_settings(user: User, changes: dict[str, Any]) -> UserSettings:
    """Apply workspace settings and the profile preferences shown on the same page."""
    cleaned = schemas.SettingsChanges.clean(changes)
    for name, value in cleaned.items():
        setattr(user.profile if name in schemas.PROFILE_PREFERENCES else user.settings, name, value)
    return user.settings


def settings_dict(user: User) -> dict[str, Any]:
    """Every setting, including the preferences stored on the profile."""
    return {
        name: getattr(user.profile if name in schemas.PROFILE_PREFERENCES else user.settings, name)
        for name in schemas.SettingsChanges.model_fields
    }


# --- CV -----------------------------------------------------------------------------------


def get_cv(user: User) -> dict[str, Any]:
    return {**empty_cv(), **(user.profile.profile_data or {})}


def replace_cv(user: User, document: dict[str, Any]) -> dict[str, Any]:
    """Validate and store a whole CV document (missing sections become empty)."""
    user.profile.profile_data = {**empty_cv(), **schemas.CVDocument.clean(document)}
    return user.profile.profile_data


def merge_cv(user: User, document: dict[str, Any]) -> dict[str, Any]:
    """Seed 001's POST: insert or update; given sections replace stored ones."""
    user.profile.profile_data = {**get_cv(user), **schemas.CVDocument.clean(document)}
    return user.profile.profile_data


def clear_cv(user: User) -> None:
    user.profile.profile_data = empty_cv()


# --- Avatar -------------------------------------------------------------------------------


def avatar_folder(user: User) -> str:
    """The member's own folder: every avatar file of theirs is in it, so it goes with them."""
    return f"avatars/{user.id}"


def set_avatar(user: User, data: bytes, *, max_bytes: int) -> str:
    """Check, re-encode and store an uploaded image; the file it replaces goes once this commits.

    The new file is discarded if the transaction does not commit, and of several uploads at
    once each removes exactly the file it replaced, so only the last one's file stays.
    """
    from webapp.usage import service as usage

    usage.consume(user.id, "file_uploads")  # the plan's daily uploads, before any work is done
    image = avatars.process(data, max_bytes=max_bytes)
    usage.add_to_day(user.id, images_processed=1)
    key = f"{avatar_folder(user)}/{uuid.uuid4().hex}.{avatars.EXTENSION}"
    new_url = storage.save(key, image)
    storage.discard_unless_committed(key)
    _replace_avatar_url(user, new_url)
    return new_url


def remove_avatar(user: User) -> None:
    _replace_avatar_url(user, None)


def _replace_avatar_url(user: User, new_url: str | None) -> None:
    """Point the profile at ``new_url`` and delete, after the commit, the file it pointed to.

    A compare-and-swap, not read-then-write: when another upload changed the URL since it was
    read, the update matches no row, so the URL is read again (SQLite then holds its write lock,
    PostgreSQL shows the other's commit) and that file is the one replaced. Two uploads at once
    can thus never both replace the same file and leave the other's behind.
    """
    while True:
        row = db.session.execute(sa.select(Profile.avatar_url).where(Profile.user_id == user.id)).one_or_none()
        if row is None:  # the account was deleted meanwhile
            raise NotFound("This account no longer exists.")
        swap = (
            sa.update(Profile)
            .where(Profile.user_id == user.id, Profile.avatar_url.is_not_distinct_from(row.avatar_url))
            .values(avatar_url=new_url)
            .execution_options(synchronize_session=False)
        )
        if db.session.execute(swap).rowcount == 1:
            break
    db.session.expire(user.profile, ["avatar_url"])
    old_key = storage.key_from_url(row.avatar_url)
    if old_key:
        storage.delete_after_commit(old_key)


# --- Deletion -----------------------------------------------------------------------------


def delete_account(user: User, password: Any) -> None:
    """The member's own deletion, confirmed with the password (a wrong one is logged as an
    ``account_delete`` failure in the member's activity; the routes also limit guesses)."""
    if user.password_hash:
        require_password(user, password, field="password", purpose="account_delete")
    remove_account(user)


def remove_account(user: User) -> None:
    """Remove the member and every row they own (foreign keys cascade), then their files.

    No password is asked: the caller has already decided (the member's own confirmation above,
    or a staff member's permission). Every way of deleting an account goes through here, so no
    file outlives its rows.
    """
    db.session.execute(sa.delete(User).where(User.id == user.id))
    # The whole folder, not only the current avatar: no file of the member's outlives them.
    storage.delete_folder_after_commit(avatar_folder(user))
