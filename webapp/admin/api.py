"""Seed 003's user routes for staff: each checks a role permission and an API scope."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request

from webapp.admin import USERS_READ, USERS_WRITE
from webapp.admin import service as admin
from webapp.api.endpoint import endpoint, json_body, no_content, ok
from webapp.auth import passwords
from webapp.pagination import LIST_PARAMS, page_size, window

bp = Blueprint("admin_api", __name__, url_prefix="/api/v1")

STAFF_USER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "email": {"type": "string"},
        "display_name": {"type": "string"},
        "role": {"type": "string"},
        "plan": {"type": "string"},
        "provider": {"type": "string"},
        "is_verified": {"type": "boolean"},
        "is_active": {"type": "boolean"},
        "is_suspended": {"type": "boolean"},
        "suspended_reason": {"type": ["string", "null"]},
        "created_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": "string", "format": "date-time"},
        "last_login": {"type": ["string", "null"], "format": "date-time"},
    },
}
USER_LIST_SCHEMA: dict[str, Any] = {"type": "array", "items": STAFF_USER_SCHEMA}
CREATE_BODY: dict[str, Any] = {
    "type": "object",
    "required": ["email", "password"],
    "properties": {
        "email": {"type": "string", "format": "email"},
        "password": {"type": "string", "minLength": passwords.MIN_LENGTH, "maxLength": passwords.MAX_LENGTH},
        "display_name": {"type": "string"},
        "role": {"type": "string", "description": "member, support or admin; any but member needs roles:manage"},
        "plan": {"type": "string", "enum": list(admin.PLANS)},
        "is_verified": {"type": "boolean"},
    },
    "additionalProperties": False,
}
UPDATE_BODY: dict[str, Any] = {
    "type": "object",
    "properties": {
        "role": {"type": "string", "description": "Needs the roles:manage permission to change"},
        "plan": {"type": "string", "enum": list(admin.PLANS)},
        "is_verified": {"type": "boolean"},
        "is_active": {"type": "boolean"},
        "is_suspended": {"type": "boolean"},
        "suspended_reason": {"type": ["string", "null"]},
    },
    "additionalProperties": False,
}
LIST_QUERY = [
    {
        "name": "search",
        "in": "query",
        "schema": {"type": "string", "maxLength": 200},
        "description": "Email or name contains",
    },
    {"name": "role", "in": "query", "schema": {"type": "string", "maxLength": 200}},
    {
        "name": "sort",
        "in": "query",
        "schema": {"type": "string", "default": "-created_at"},
        "description": "created_at, email or last_login; prefix - for descending",
    },
    *LIST_PARAMS,
]


def staff_user_json(user) -> dict[str, Any]:
    return {
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


@endpoint(
    bp,
    "GET",
    "/users",
    scope=USERS_READ,
    permission="users:read",
    tag="Users (staff)",
    summary="List members with search, role filter, sort and pagination",
    response=USER_LIST_SCHEMA,
    query=LIST_QUERY,
)
def list_users(principal):
    limit, offset = window(
        request.args.get("limit"), request.args.get("offset"), default_limit=page_size(principal.user)
    )
    users, total = admin.list_users(
        search=request.args.get("search"),
        role=request.args.get("role"),
        sort=request.args.get("sort", "-created_at"),
        limit=limit,
        offset=offset,
    )
    return ok([staff_user_json(u) for u in users], total=total, limit=limit, offset=offset)


@endpoint(
    bp,
    "POST",
    "/users",
    scope=USERS_WRITE,
    permission="users:write",
    tag="Users (staff)",
    summary="Create a member",
    body=CREATE_BODY,
    response=STAFF_USER_SCHEMA,
    status=201,
    errors=(409,),
)
def create_user(principal):
    return ok(staff_user_json(admin.create_user(json_body(), actor=principal.user)), 201)


@endpoint(
    bp,
    "GET",
    "/users/<user_id>",
    scope=USERS_READ,
    permission="users:read",
    tag="Users (staff)",
    summary="One member",
    response=STAFF_USER_SCHEMA,
)
def get_user(principal, user_id: str):
    return ok(staff_user_json(admin.get_user(user_id)))


@endpoint(
    bp,
    "PUT",
    "/users/<user_id>",
    scope=USERS_WRITE,
    permission="users:write",
    tag="Users (staff)",
    summary="Change a member's role (needs roles:manage), plan or standing",
    body=UPDATE_BODY,
    response=STAFF_USER_SCHEMA,
)
def update_user(principal, user_id: str):
    return ok(staff_user_json(admin.update_user(user_id, json_body(), actor=principal.user)))


@endpoint(
    bp,
    "DELETE",
    "/users/<user_id>",
    scope=USERS_WRITE,
    permission="users:delete",
    tag="Users (staff)",
    summary="Delete a member and everything they own",
    status=204,
)
def delete_user(principal, user_id: str):
    admin.delete_user(user_id)
    return no_content()
