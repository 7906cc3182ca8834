"""Seed 003's user routes for staff: each checks a role permission and an API scope."""

from __future__ import annotations

from flask import Blueprint, request

from webapp.admin import USERS_READ, USERS_WRITE, schemas
from webapp.admin import service as admin
from webapp.admin.schemas import staff_user_json
from webapp.api.endpoint import endpoint, json_body, no_content, ok
from webapp.pagination import ListMeta, page_size, window

bp = Blueprint("admin_api", __name__, url_prefix="/api/v1")


@endpoint(
    bp,
    "GET",
    "/users",
    scope=USERS_READ,
    permission="users:read",
    tag="Users (staff)",
    summary="List members with search, role filter, sort and pagination",
    response=list[schemas.StaffUserReply],
    query=schemas.MemberListQuery,
    meta=ListMeta,
)
def list_users(principal):
    query = schemas.MemberListQuery.read(request.args)
    limit, offset = window(query, default_limit=page_size(principal.user))
    users, total = admin.list_users(
        search=query.get("search"),
        role=query.get("role"),
        sort=query.get("sort") or "-created_at",
        limit=limit,
        offset=offset,
    )
    return ok([staff_user_json(u) for u in users], **ListMeta.of({"total": total, "limit": limit, "offset": offset}))


@endpoint(
    bp,
    "POST",
    "/users",
    scope=USERS_WRITE,
    permission="users:write",
    tag="Users (staff)",
    summary="Create a member",
    body=schemas.MemberCreation,
    response=schemas.StaffUserReply,
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
    response=schemas.StaffUserReply,
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
    body=schemas.MemberChanges,
    response=schemas.StaffUserReply,
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
