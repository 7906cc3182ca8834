"""Signing in without a browser (seeds 001, 003, 004): register, login, refresh, logout, me.

Seed 004's routes are canonical; seed 001's ``/auth/signup``, ``/auth/signin`` and
``/auth/signout`` are documented aliases of the same views.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request

from webapp import limits
from webapp.accounts import PROFILE_READ
from webapp.api.endpoint import endpoint, json_body, no_content, no_store, ok
from webapp.api.ratelimit import PER_IP
from webapp.auth import access, devices, schemas
from webapp.auth import service as auth
from webapp.auth.models import User
from webapp.security import client_ip

bp = Blueprint("auth_api", __name__, url_prefix="/api/v1")


def _pair_json(pair: access.TokenPair) -> dict[str, Any]:
    return {"accessToken": pair.access_token, "refreshToken": pair.refresh_token, "expiresIn": pair.expires_in}


def _session_json(user: User, pair: access.TokenPair) -> dict[str, Any]:
    return schemas.SessionReply.of({"user": schemas.user_json(user), **_pair_json(pair)})


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
    body=schemas.Registration,
    response=schemas.SessionReply,
    status=201,
    errors=(409,),
)
def register():
    """Seed 004's register: the account, its profile, and a first token pair; one 422 names
    every problem."""
    user = auth.register(json_body(), contract=schemas.Registration)
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
    body=schemas.SignIn,
    response=schemas.SessionReply,
    errors=(401, 403),
)
@limits.sign_in_attempts()
def login():
    """Same rules and limits as the page: one answer for unknown email and wrong password, one
    budget per account. The answer sets the same known-device cookie as the page does."""
    body = schemas.SignIn.clean(json_body())
    user = auth.authenticate(body["email"], body["password"], ip=client_ip(), user_agent=request.user_agent.string)
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
    body=schemas.RefreshToken,
    response=schemas.TokenPairReply,
    errors=(401,),
)
def refresh():
    _, pair = access.rotate(schemas.RefreshToken.clean(json_body())["refresh_token"], request.user_agent.string)
    return no_store(ok(schemas.TokenPairReply.of(_pair_json(pair))))


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
    body=schemas.RefreshToken,
    status=204,
)
def logout():
    access.revoke(schemas.RefreshToken.clean(json_body())["refresh_token"])
    return no_content()


@endpoint(
    bp,
    "GET",
    "/auth/me",
    scope=PROFILE_READ,
    tag="Auth",
    summary="The member behind the credential",
    response=schemas.MeReply,
)
def me(principal):
    return ok(schemas.MeReply.of({"user": schemas.user_json(principal.user)}))
