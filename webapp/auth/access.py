"""API sign-in without a browser: short-lived JWT access tokens and rotating refresh tokens.

Access tokens are HS256 JWTs signed with ``JWT_SECRET_KEY``, made with joserfc (Authlib's
successor to its deprecated ``authlib.jose`` module, from the same author). Refresh tokens
are random strings stored as SHA-256 hashes; each use rotates the token within its family,
and presenting an already-rotated token revokes the whole family (it was probably stolen).

An access token names its refresh family in the ``sid`` claim, and is good only while that
family is live. Every way a sign-in ends revokes families (API logout: its own; refresh-token
reuse: the reused one's; sign out everywhere, password change or reset, suspension: all of the
member's), so the access tokens issued to it stop working at once instead of lasting out their
15 minutes. The check costs no extra query: it is an ``EXISTS`` on the indexed ``family_id``
inside the query that loads the member, which every API call makes anyway.
"""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from joserfc import jwt
from joserfc.errors import ExpiredTokenError, JoseError
from joserfc.jwk import OctKey

from webapp import unit_of_work
from webapp.auth.models import RefreshToken, User
from webapp.errors import Unauthorized
from webapp.extensions import db
from webapp.timeutil import utcnow

ALGORITHM = "HS256"


def _key() -> OctKey:
    return OctKey.import_key(current_app.config["JWT_SECRET_KEY"])


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_access_token(user: User, family_id: uuid.UUID) -> tuple[str, int]:
    """A signed access token for ``user`` and its lifetime in seconds, bound to the sign-in
    (refresh family) ``family_id`` so that ending the sign-in ends the token."""
    ttl = int(current_app.config["JWT_ACCESS_TTL"].total_seconds())
    now = int(time.time())
    claims = {
        "iss": current_app.config["JWT_ISSUER"],
        "sub": str(user.id),
        "iat": now,
        "exp": now + ttl,
        "jti": uuid.uuid4().hex,
        "sid": str(family_id),
        "typ": "access",
    }
    return jwt.encode({"alg": ALGORITHM, "typ": "JWT"}, claims, _key(), algorithms=[ALGORITHM]), ttl


def user_from_access_token(token: str) -> User:
    """The member an access token names; ``Unauthorized`` for bad, expired or foreign tokens,
    and ``token_revoked`` once the sign-in it belongs to has ended."""
    registry = jwt.JWTClaimsRegistry(
        leeway=5,
        iss={"essential": True, "value": current_app.config["JWT_ISSUER"]},
        sub={"essential": True},
        sid={"essential": True},
        exp={"essential": True},
        typ={"essential": True, "value": "access"},
    )
    try:
        claims = jwt.decode(token, _key(), algorithms=[ALGORITHM]).claims
        registry.validate(claims)
        user_id, family_id = uuid.UUID(claims["sub"]), uuid.UUID(claims["sid"])
    except ExpiredTokenError:
        raise Unauthorized("The access token has expired. Refresh it.", code="token_expired") from None
    except (JoseError, ValueError, TypeError, AttributeError):
        raise Unauthorized("The bearer token is not valid.") from None
    row = db.session.execute(sa.select(User, _family_live(user_id, family_id)).where(User.id == user_id)).first()
    if row is None:
        raise Unauthorized("The bearer token is not valid.")
    user, live = row
    # A suspended or deactivated member is told that (403, by the caller's standing check),
    # not that the sign-in ended: suspension revokes the families too.
    if not live and not user.is_suspended and user.is_active:
        raise Unauthorized(
            "This sign-in has ended (signed out, password changed, or its refresh token was reused). Sign in again.",
            code="token_revoked",
        )
    return user


def _family_live(user_id: uuid.UUID, family_id: uuid.UUID) -> sa.Exists:
    """SQL for "this member's refresh family still has a token nobody revoked". Rotation marks
    tokens used, never revoked, so a live family always has such a row; revoking the family
    marks them all."""
    return (
        sa.exists()
        .where(
            RefreshToken.family_id == family_id,
            RefreshToken.user_id == user_id,
            RefreshToken.revoked_at.is_(None),
        )
        .label("family_live")
    )


def _new_refresh_token(user_id: uuid.UUID, family_id: uuid.UUID, device: str | None) -> str:
    raw = "rt_" + secrets.token_urlsafe(48)
    db.session.add(
        RefreshToken(
            user_id=user_id,
            family_id=family_id,
            token_hash=_hash(raw),
            device_info=(device or "")[:512] or None,
            expires_at=utcnow() + current_app.config["JWT_REFRESH_TTL"],
        )
    )
    return raw


def issue_pair(user: User, device: str | None = None) -> TokenPair:
    """A fresh access token and the first refresh token of a new family (at sign-in)."""
    family_id = uuid.uuid4()
    refresh = _new_refresh_token(user.id, family_id, device)
    access, ttl = issue_access_token(user, family_id)
    return TokenPair(access, refresh, ttl)


def rotate(raw_refresh: str, device: str | None = None) -> tuple[User, TokenPair]:
    """Trade a refresh token for a new pair; replaying a used token revokes its family."""
    row = db.session.scalar(
        sa.select(RefreshToken).where(RefreshToken.token_hash == _hash(raw_refresh or "")).with_for_update()
    )
    now = utcnow()
    if row is None:
        raise Unauthorized("The refresh token is not valid.", code="invalid_refresh_token")
    if row.revoked_at is not None:
        raise Unauthorized(
            "This sign-in has ended (signed out, password changed, or an older refresh token of it was "
            "reused). Sign in again.",
            code="refresh_token_revoked",
        )
    if row.used_at is not None:  # the answer is a refusal, and the family stays revoked
        unit_of_work.record_anyway(_revoke_family, row.family_id)
        raise Unauthorized(
            "This refresh token was already used; every session it belongs to is now signed out. Sign in again.",
            code="refresh_token_reused",
        )
    if row.expires_at <= now:
        raise Unauthorized("The refresh token has expired. Sign in again.", code="refresh_token_expired")
    user = db.session.get(User, row.user_id)
    if user is None or user.is_suspended or not user.is_active:
        raise Unauthorized("This account can no longer sign in.", code="account_locked")
    row.used_at = now
    family_id = row.family_id
    refresh = _new_refresh_token(user.id, family_id, device)
    access, ttl = issue_access_token(user, family_id)
    return user, TokenPair(access, refresh, ttl)


def _revoke_family(family_id: uuid.UUID) -> None:
    db.session.execute(
        sa.update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def revoke(raw_refresh: str) -> None:
    """Sign out an API client: its refresh token family, and so its access tokens, stop working."""
    row = db.session.scalar(sa.select(RefreshToken).where(RefreshToken.token_hash == _hash(raw_refresh or "")))
    if row is not None:
        _revoke_family(row.family_id)


def live_count(user_id: uuid.UUID) -> int:
    """How many refresh tokens of the member still work (API apps signed in)."""
    return db.session.scalar(
        sa.select(sa.func.count()).where(
            RefreshToken.user_id == user_id,
            RefreshToken.revoked_at.is_(None),
            RefreshToken.used_at.is_(None),
            RefreshToken.expires_at > utcnow(),
        )
    )


def revoke_all_for(user_id: uuid.UUID) -> None:
    """Every refresh token of a member, and so every access token (password reset, sign out
    everywhere)."""
    db.session.execute(
        sa.update(RefreshToken)
        .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def purge(before: datetime) -> int:
    """Delete the tokens of families that stopped working before ``before``.

    A family is dead when none of its tokens is still usable; until then even its used tokens
    are kept, since presenting one again is how theft is detected."""
    alive = sa.select(RefreshToken.family_id).where(
        RefreshToken.revoked_at.is_(None), RefreshToken.expires_at >= before
    )
    ended = sa.or_(RefreshToken.revoked_at < before, RefreshToken.expires_at < before)
    result = db.session.execute(sa.delete(RefreshToken).where(ended, RefreshToken.family_id.not_in(alive)))
    return result.rowcount or 0
