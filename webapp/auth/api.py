"""Signing in without a browser (seeds 001, 003, 004): register, login, refresh, logout, me.

Seed 004's routes are canonical; seed 001's ``/auth/signup``, ``/auth/signin`` and
``/auth/signout`` are documented aliases of the same views.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request

from webapp import limits, storage
from webapp.accounts import PROFILE_READ
from webapp.api.endpoint import endpoint, json_body, no_content, no_store, ok
from webapp.api.ratelimit import PER_IP
from webapp.auth import access, devices, passwords
from webapp.auth import service as auth
from webapp.auth.models import User
from webapp.errors import ValidationFailed
from webapp.security import client_ip

bp = Blueprint("auth_api", __name__, url_prefix="/api/v1")

USER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "email": {"type": "string", "format": "email"},
        "displayName": {"type": "string"},
        "firstName": {"type": ["string", "null"]},
        "lastName": {"type": ["string", "null"]},
        "avatarUrl": {"type": ["string", "null"]},
        "isVerified": {"type": "boolean"},
        "plan": {"type": "string"},
        "role": {"type": "string"},
        "createdAt": {"type": "string", "format": "date-time"},
        "lastLogin": {"type": ["string", "null"], "format": "date-time"},
    },
}
SESSION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["user", "accessToken", "refreshToken", "expiresIn"],
    "properties": {
        "user": USER_SCHEMA,
        "accessToken": {"type": "string"},
        "refreshToken": {"type": "string"},
        "expiresIn": {"type": "integer", "description": "Access token lifetime in seconds", "examples": [900]},
    },
}
REFRESHED_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["accessToken", "refreshToken", "expiresIn"],
    "properties": {k: SESSION_SCHEMA["properties"][k] for k in ("accessToken", "refreshToken", "expiresIn")},
}
REGISTER_BODY: dict[str, Any] = {
    "type": "object",
    "required": ["email", "password"],
    "properties": {
        "email": {"type": "string", "format": "email"},
        "password": {"type": "string", "minLength": passwords.MIN_LENGTH, "maxLength": passwords.MAX_LENGTH},
        "displayName": {"type": "string"},
        "firstName": {"type": "string"},
        "lastName": {"type": "string"},
        "phone": {"type": "string"},
    },
}
LOGIN_BODY: dict[str, Any] = {
    "type": "object",
    "required": ["email", "password"],
    "properties": {"email": {"type": "string"}, "password": {"type": "string"}},
}
REFRESH_BODY: dict[str, Any] = {
    "type": "object",
    "required": ["refreshToken"],
    "properties": {"refreshToken": {"type": "string"}},
}
ME_SCHEMA: dict[str, Any] = {"type": "object", "properties": {"user": USER_SCHEMA}}


def user_json(user: User) -> dict[str, Any]:
    """Seed 004's user shape (camelCase)."""
    profile = user.profile
    return {
        "id": str(user.id),
        "email": user.email,
        "displayName": profile.display_name,
        "firstName": profile.first_name,
        "lastName": profile.last_name,
        "avatarUrl": storage.absolute_url(profile.avatar_url),
        "isVerified": user.is_verified,
        "plan": user.plan,
        "role": user.role.name,
        "createdAt": user.created_at.isoformat(),
        "lastLogin": user.last_login.isoformat() if user.last_login else None,
    }


def _session_json(user: User, pair: access.TokenPair) -> dict[str, Any]:
    return {
        "user": user_json(user),
        "accessToken": pair.access_token,
        "refreshToken": pair.refresh_token,
        "expiresIn": pair.expires_in,
    }


def _string(body: dict[str, Any], name: str, required: bool = True) -> str:
    value = body.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value):
        raise ValidationFailed(f"'{name}' is required.", details={name: ["This field is required."]})
    return value


@endpoint(
    bp,
    "POST",
    "/auth/register",
    public=True,
    scope=None,
    limit=PER_IP,
    tag="Auth",
    aliases=("/auth/signup",),
    summary="Create an account and sign in",
    body=REGISTER_BODY,
    response=SESSION_SCHEMA,
    status=201,
    errors=(409,),
)
def register():
    """Seed 004's register: the account, its profile, and a first token pair. The service
    checks email and password (present or not) with the rest, so one 422 names every problem."""
    body = json_body()
    email = body.get("email")
    first, last = _string(body, "firstName", False), _string(body, "lastName", False)
    name = _string(body, "displayName", False) or " ".join(p for p in (first, last) if p) or auth.default_name(email)
    profile = {k: v for k, v in (("first_name", first), ("last_name", last), ("phone", body.get("phone"))) if v}
    user = auth.register(email, body.get("password"), name, profile=profile)
    return no_store(ok(_session_json(user, access.issue_pair(user, request.user_agent.string)), 201))


@endpoint(
    bp,
    "POST",
    "/auth/login",
    public=True,
    scope=None,
    limit=PER_IP,
    tag="Auth",
    aliases=("/auth/signin",),
    summary="Sign in with email and password",
    body=LOGIN_BODY,
    response=SESSION_SCHEMA,
    errors=(401, 403),
)
@limits.sign_in_attempts()
def login():
    """Same rules and limits as the page: one answer for unknown email and wrong password, one
    budget per account. The answer sets the same known-device cookie as the page does."""
    body = json_body()
    user = auth.authenticate(
        _string(body, "email"), _string(body, "password"), ip=client_ip(), user_agent=request.user_agent.string
    )
    response = no_store(ok(_session_json(user, access.issue_pair(user, request.user_agent.string))))
    return devices.remember(response, user.id)


@endpoint(
    bp,
    "POST",
    "/auth/refresh",
    public=True,
    scope=None,
    limit=PER_IP,
    tag="Auth",
    summary="Trade a refresh token for a new pair (rotation)",
    body=REFRESH_BODY,
    response=REFRESHED_SCHEMA,
    errors=(401,),
)
def refresh():
    _, pair = access.rotate(_string(json_body(), "refreshToken"), request.user_agent.string)
    return no_store(
        ok({"accessToken": pair.access_token, "refreshToken": pair.refresh_token, "expiresIn": pair.expires_in})
    )


@endpoint(
    bp,
    "POST",
    "/auth/logout",
    public=True,
    scope=None,
    limit=PER_IP,
    tag="Auth",
    aliases=("/auth/signout",),
    summary="Revoke a refresh token (and its family)",
    body=REFRESH_BODY,
    status=204,
)
def logout():
    access.revoke(_string(json_body(), "refreshToken"))
    return no_content()


@endpoint(
    bp,
    "GET",
    "/auth/me",
    scope=PROFILE_READ,
    tag="Auth",
    summary="The member behind the credential",
    response=ME_SCHEMA,
)
def me(principal):
    return ok({"user": user_json(principal.user)})
