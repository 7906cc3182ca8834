"""Seed 003's staff user routes: creating, changing and listing members, and the member as
staff see them."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from webapp import rules
from webapp.auth.schemas import SignUp
from webapp.contracts import Contract, OptionalTimestamp, Reply, Timestamp
from webapp.pagination import ListQuery

PLANS = ("free", "pro", "business")
SORTS = ("created_at", "email", "last_login")
Role = rules.Text(100, required=True, description="member, support or admin; changing it needs roles:manage")
Plan = rules.Choice(PLANS)


class MemberCreation(SignUp):
    """A member created by staff: the member's own sign-up rules, with role, plan and standing."""

    role: Role = None
    plan: Plan = None
    is_verified: rules.Boolean = None


class MemberChanges(Contract):
    role: Role = None
    plan: Plan = None
    is_verified: rules.Boolean = None
    is_active: rules.Boolean = None
    is_suspended: rules.Boolean = None
    suspended_reason: rules.Text(500) = None


SORT_ORDERS = (*SORTS, *(f"-{name}" for name in SORTS))


def _sort(value: Any) -> str:
    if value not in SORT_ORDERS:
        raise ValueError(f"One of: {', '.join(SORTS)} (prefix - for descending).")
    return value


class MemberListQuery(ListQuery):
    search: rules.Text(200, description="Email or name contains") = None
    role: rules.Text(200, description="Only members with this role") = None
    sort: rules.rule(
        _sort,
        {
            "type": "string",
            "enum": [*SORT_ORDERS, ""],  # blank: the default, as for every query parameter
            "default": "-created_at",
            "description": "created_at, email or last_login; prefix - for descending",
        },
    ) = None


class StaffUserReply(Reply):
    id: str = Field(json_schema_extra={"format": "uuid"})
    email: str
    display_name: str
    role: str
    plan: str
    provider: str
    is_verified: bool
    is_active: bool
    is_suspended: bool
    suspended_reason: str | None
    created_at: Timestamp
    updated_at: Timestamp
    last_login: OptionalTimestamp


def staff_user_json(user) -> dict[str, Any]:
    return StaffUserReply.of(
        {
            "id": str(user.id),
            "email": user.email,
            "display_name": user.profile.display_name,
            "role": user.role.name,
            "plan": user.plan,
            "provider": user.provider,
            "is_verified": user.is_verified,
            "is_active": user.is_active,
            "is_suspended": user.is_suspended,
            "suspended_reason": user.suspended_reason,
            "created_at": user.created_at.isoformat(),
            "updated_at": user.updated_at.isoformat(),
            "last_login": user.last_login.isoformat() if user.last_login else None,
        }
    )
