"""Staff user management (seed 003's /users): search, filter, sort, paginate, change, delete."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from webapp.accounts.models import Profile
from webapp.admin import schemas
from webapp.auth.models import MEMBER_ROLE, Role, User
from webapp.contracts import ATTENTION
from webapp.errors import Forbidden, NotFound, ValidationFailed, parse_uuid
from webapp.extensions import db

SORTS = {
    "created_at": User.created_at,
    "email": User.email,
    "last_login": User.last_login,
}


def _filters(search: str | None, role: str | None) -> list[sa.ColumnElement[bool]]:
    filters = []
    if search and search.strip():
        # autoescape: a "%" or "_" typed by staff is searched for, not used as a wildcard.
        term = search.strip().lower()
        filters.append(
            sa.or_(
                User.email.contains(term, autoescape=True),
                sa.func.lower(Profile.display_name).contains(term, autoescape=True),
            )
        )
    if role:
        filters.append(Role.name == role)
    return filters


def list_users(
    *, search: str | None = None, role: str | None = None, sort: str = "-created_at", limit: int = 20, offset: int = 0
) -> tuple[list[User], int]:
    """One page of members and the total matching count (two queries, whatever the size).
    The parameters are those of ``schemas.MemberListQuery``, cleaned."""
    filters = _filters(search, role)
    total = db.session.scalar(sa.select(sa.func.count(User.id)).join(User.profile).join(User.role).where(*filters))
    column = SORTS[sort.lstrip("-")]
    # NULLS LAST on both backends: members who never signed in end the list either way.
    order = (column.desc() if sort.startswith("-") else column.asc()).nulls_last()
    query = (
        sa.select(User)
        .join(User.profile)
        .join(User.role)
        # The joins above fill profile and role, instead of the models' own joined loads
        # joining the same tables a second time.
        .options(so.contains_eager(User.profile), so.contains_eager(User.role))
        .where(*filters)
        .order_by(order, User.id)
        .limit(limit)
        .offset(offset)
    )
    return list(db.session.scalars(query)), total


def get_user(user_id: str | uuid.UUID) -> User:
    """The member with this id, or ``NotFound``."""
    user = db.session.get(User, parse_uuid(user_id, "No such member."))
    if user is None:
        raise NotFound("No such member.")
    return user


def _may_set_role(actor: User, current: str, wanted: Any) -> None:
    """Only ``roles:manage`` changes a role, so ``users:write`` alone is no path to admin."""
    if wanted != current and not actor.has_permission("roles:manage"):
        raise Forbidden(
            "Changing a member's role needs the roles:manage permission.",
            details={"required_permission": "roles:manage"},
        )


def create_user(data: dict[str, Any], *, actor: User) -> User:
    """A member created by staff, with optional role and plan. The sign-up rules are the
    member's own (``MemberCreation`` extends ``SignUp``), and one 422 names every problem."""
    from webapp.auth import service as auth

    cleaned, errors = schemas.MemberCreation.check(data)
    changes = {k: cleaned[k] for k in ("role", "plan", "is_verified") if k in cleaned}
    errors.update(_role_errors(changes))
    if errors:
        raise ValidationFailed(ATTENTION, details=errors)
    if "role" in changes:
        _may_set_role(actor, MEMBER_ROLE, changes["role"])
    user = auth.create_account(cleaned, send_mail=False)
    return _apply(user, changes)


def _role_errors(changes: dict[str, Any]) -> dict[str, list[str]]:
    """A role must exist; the contract cannot know which roles do."""
    if "role" in changes and db.session.scalar(sa.select(Role).where(Role.name == changes["role"])) is None:
        return {"role": ["Unknown role."]}
    return {}


def update_user(user_id: str | uuid.UUID, changes: dict[str, Any], *, actor: User) -> User:
    """Change role, plan and standing flags (``MemberChanges``); suspension signs the member
    out everywhere."""
    cleaned, errors = schemas.MemberChanges.check(changes)
    errors.update(_role_errors(cleaned))
    if errors:
        raise ValidationFailed(ATTENTION, details=errors)
    user = get_user(user_id)
    if "role" in cleaned:
        _may_set_role(actor, user.role.name, cleaned["role"])
    return _apply(user, cleaned)


def _apply(user: User, changes: dict[str, Any]) -> User:
    """Cleaned, permitted changes onto ``user``."""
    from webapp.auth.service import sign_out_everywhere
    from webapp.timeutil import utcnow

    for name, value in changes.items():
        if name == "role":
            user.role = db.session.scalar(sa.select(Role).where(Role.name == value))
        else:
            setattr(user, name, value)
    if changes.get("is_verified") and user.verified_at is None:
        user.verified_at = utcnow()
    db.session.flush()
    if user.is_suspended or not user.is_active:
        sign_out_everywhere(user.id)
    return user


def delete_user(user_id: str | uuid.UUID) -> None:
    """Staff deletion: the same removal as the member's own, rows and files (no password asked)."""
    from webapp.accounts.service import remove_account

    remove_account(get_user(user_id))
