"""Sign-up, sign-in, verification, password reset, password and email changes.

Services take plain values, enforce the rules, flush (the request or job that calls them
commits: ``webapp.unit_of_work``) and raise ``ServiceError``s; they never read the request.
Callers pass the client's IP and user agent where a rule needs them.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import current_app, g, has_request_context
from sqlalchemy.exc import IntegrityError

from webapp import mail, rules, unit_of_work
from webapp.activity import service as activity
from webapp.auth import passwords, schemas, sessions, tokens
from webapp.auth.models import MEMBER_ROLE, Role, User
from webapp.contracts import ATTENTION, Contract
from webapp.errors import Conflict, Forbidden, Unauthorized, ValidationFailed
from webapp.extensions import db
from webapp.timeutil import utcnow

INVALID_CREDENTIALS = "That email and password don't match an account."
# The unique constraint a sign-up breaks when the address is taken (the naming convention's).
EMAIL_CONSTRAINT = "uq_users_email"
# Each retry means another sign-up with the same name committed meanwhile: this bounds the
# retries by how many people can sign up with one name at the same moment.
SLUG_ATTEMPTS = 50


@dataclass(frozen=True)
class MemberSetup:
    setup: Callable[[User, str, dict[str, Any]], None]
    retry_on: tuple[str, ...] = ()


# What other domains give every new member, by domain (accounts: the profile and settings).
MEMBER_SETUP: dict[str, MemberSetup] = {}


def on_new_member(name: str, setup: Callable[[User, str, dict[str, Any]], None], *, retry_on=()) -> None:
    """Let a domain set up what every new member has, from its ``init_app`` (idempotent).

    ``setup(user, display_name, profile_fields)`` runs inside the sign-up's savepoint, so the
    account and all it starts with are made together or not at all; a unique constraint named
    in ``retry_on`` that it breaks (a slug that another sign-up took meanwhile) makes the
    sign-up try again instead of failing.
    """
    MEMBER_SETUP.setdefault(name, MemberSetup(setup, tuple(retry_on)))


class AccountLocked(Forbidden):
    """The password was right but the account may not sign in; the message says why."""

    code = "account_locked"


def normalize_email(raw: Any, *, field: str = "email") -> str:
    """The canonical form of an address, or ``ValidationFailed`` naming the form ``field``."""
    try:
        return rules.email(raw)
    except ValueError as exc:
        summary = rules.EMAIL_MISSING if str(exc) == rules.EMAIL_MISSING else "Enter a valid email address."
        raise ValidationFailed(summary, details={field: [str(exc)]}) from None


def lookup_key(raw: str) -> str:
    """The form of an address that accounts are looked up by (also keys the login limit)."""
    try:
        return normalize_email(raw)
    except ValidationFailed:
        return (raw or "").strip().lower()


def find_by_email(email: str) -> User | None:
    email = (email or "").strip().lower()
    if not email or "\x00" in email:  # PostgreSQL refuses NUL in text; no account can match
        return None
    return db.session.scalar(sa.select(User).where(User.email == email))


def member_role() -> Role:
    """The default role, created on first use so that a fresh schema works without seeding."""
    role = db.session.scalar(sa.select(Role).where(Role.name == MEMBER_ROLE))
    if role is None:
        from webapp.auth.models import DEFAULT_ROLES

        for name, permissions in DEFAULT_ROLES.items():
            if db.session.scalar(sa.select(Role).where(Role.name == name)) is None:
                db.session.add(Role(name=name, permissions=permissions))
        db.session.flush()
        role = db.session.scalar(sa.select(Role).where(Role.name == MEMBER_ROLE))
    return role


def _email_taken() -> Conflict:
    return Conflict(
        "An account with this email already exists.",
        details={"email": ["An account with this email already exists. Sign in instead?"]},
    )


def default_name(email: Any) -> str:
    """The name a member created without one starts with: the address's local part. Only an
    address the rules refuse anyway has none; a placeholder then keeps the answer about the
    address alone, without a second one about the name."""
    local = email.split("@")[0].strip() if isinstance(email, str) else ""
    return local or "Member"


def register(data: dict[str, Any], *, contract: type[Contract] = schemas.SignUp, send_mail: bool = True) -> User:
    """Create a member from a sign-up (``SignUp``, seed 004's camelCase ``Registration`` or the
    page's ``SignUpPage``): every field's problem in one answer, then the account."""
    return create_account(contract.clean(data), send_mail=send_mail)


def create_account(cleaned: dict[str, Any], *, send_mail: bool = True) -> User:
    """A member with a profile and default settings, in one transaction, from cleaned
    ``SignUp`` values (staff add fields of their own: ``webapp.admin``); a verification link
    is mailed unless told otherwise. Without a display name, the member's name or address
    stands in."""
    email = cleaned["email"]
    if find_by_email(email) is not None:
        raise _email_taken()
    names = " ".join(n for n in (cleaned.get("first_name"), cleaned.get("last_name")) if n)
    display_name = cleaned.get("display_name") or names or default_name(email)
    profile = {k: cleaned[k] for k in ("first_name", "last_name", "phone") if cleaned.get(k)}
    user = _create_member(email, cleaned["password"], display_name, profile)
    if send_mail:
        send_verification(user)
    return user


def violated_constraint(exc: IntegrityError) -> str | None:
    """The name of the unique constraint ``exc`` broke. PostgreSQL names it; SQLite names the
    column ("UNIQUE constraint failed: profiles.slug"), which the naming convention maps to
    the same name."""
    diag = getattr(exc.orig, "diag", None)
    if diag is not None and diag.constraint_name:
        return diag.constraint_name
    match = re.search(r"UNIQUE constraint failed: (\w+)\.(\w+)$", str(exc.orig))
    return f"uq_{match[1]}_{match[2]}" if match else None


def _create_member(email: str, password: str, display_name: str, profile: dict[str, Any]) -> User:
    """Insert the member; the unique indexes settle simultaneous sign-ups.

    Each attempt runs in a SAVEPOINT, so a lost race undoes only that attempt. The violated
    constraint tells the races apart: a taken email is a 409, while a constraint a setup step
    may retry on (a taken slug: two people with one name signing up at once) is retried, and
    the step then picks the next free suffix, which the winner's commit has made visible.
    """
    password_hash, role = passwords.hash_password(password), member_role()
    retryable = {name for step in MEMBER_SETUP.values() for name in step.retry_on}
    for _ in range(SLUG_ATTEMPTS):
        try:
            with db.session.begin_nested():
                user = User(email=email, password_hash=password_hash, role=role)
                db.session.add(user)
                db.session.flush()
                for step in MEMBER_SETUP.values():
                    step.setup(user, display_name, profile)
                db.session.flush()
        except IntegrityError as exc:
            constraint = violated_constraint(exc)
            if constraint == EMAIL_CONSTRAINT:
                raise _email_taken() from None
            if constraint not in retryable:
                raise
        else:
            return user
    message = "Many people with this name are signing up right now. Try again in a moment."
    raise Conflict(message, details={"display_name": [message]})


def authenticate(email: str, password: str, *, ip: str | None = None, user_agent: str | None = None) -> User:
    """The member whose credentials these are; one answer for unknown email and bad password."""
    user = find_by_email(lookup_key(email))
    if not passwords.verify_password(user.password_hash if user else None, password) or user is None:
        if user is not None:  # the answer is a refusal, and the attempt is still on record
            unit_of_work.record_anyway(
                activity.record,
                "login",
                status="failure",
                user_id=user.id,
                ip_address=ip,
                user_agent=user_agent,
                message="wrong password",
            )
        raise Unauthorized(INVALID_CREDENTIALS, code="invalid_credentials")
    if user.is_suspended:
        reason = f" Reason: {user.suspended_reason}." if user.suspended_reason else ""
        raise AccountLocked(f"This account is suspended.{reason} Contact support to restore it.")
    if not user.is_active:
        raise AccountLocked("This account is deactivated. Contact support to reactivate it.")
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    user.last_login = utcnow()
    activity.record("login", user_id=user.id, ip_address=ip, user_agent=user_agent)
    return user


# --- Email verification -------------------------------------------------------------------


def verification_token(user: User, email: str | None = None) -> str:
    return tokens.make("verify", {"uid": str(user.id), "email": email or user.email})


def send_verification(user: User, *, email: str | None = None) -> None:
    """Mail a verification link for the account's email (or for a pending new email)."""
    address = email or user.email
    link = mail.link("auth.verify", token=verification_token(user, address))
    mail.send_template(
        address,
        "Confirm your email for Folio",
        "auth/email/verify",
        link=link,
        name=user.profile.display_name if user.profile else "",
    )


def verify_email(token: str) -> User:
    """Mark the token's address verified (swapping it in for an email change); single use."""
    payload = tokens.read("verify", token, current_app.config["VERIFY_TOKEN_MAX_AGE"])
    user = db.session.get(User, uuid.UUID(payload["uid"]))
    if user is None:
        raise tokens.TokenInvalid("This link is not valid. Ask for a new one.")
    email = payload["email"]
    if user.pending_email == email:
        if find_by_email(email) is not None:
            raise Conflict("Another account now uses this email address.")
        user.email = email
        user.profile.email = email
        user.pending_email = None
    elif user.email != email or user.is_verified:
        raise tokens.TokenInvalid("This link was already used.", code="token_used")
    user.is_verified = True
    user.verified_at = utcnow()
    return user


# --- Password reset -----------------------------------------------------------------------


def request_password_reset(email: str) -> None:
    """Queue the lookup and the mail: the request answers the same, equally fast, whether or
    not the account exists (no enumeration by content or by timing)."""
    from webapp.jobs import enqueue

    enqueue(send_password_reset, (email or "")[:320])


def send_password_reset(email: str) -> None:
    """The job: mail a reset link if an active account has this address, else nothing."""
    try:
        email = normalize_email(email)
    except ValidationFailed:
        return
    user = find_by_email(email)
    if user is None or user.is_suspended or not user.is_active:
        return
    token = tokens.make("reset", _reset_claims(user))
    link = mail.link("auth.reset", token=token)
    mail.send_template(user.email, "Reset your Folio password", "auth/email/reset", link=link)


def _reset_claims(user: User) -> dict[str, str]:
    """What a reset token is bound to: a new password uses it up, and a new email address
    takes it away from the old inbox."""
    return {"uid": str(user.id), "pw": tokens.fingerprint(user.password_hash), "em": tokens.fingerprint(user.email)}


def user_for_reset(token: str) -> User:
    """The member a reset token belongs to, refusing expired or already used tokens."""
    payload = tokens.read("reset", token, current_app.config["RESET_TOKEN_MAX_AGE"])
    user = db.session.get(User, uuid.UUID(payload["uid"]))
    if user is None or _reset_claims(user) != payload:
        raise tokens.TokenInvalid("This link was already used.", code="token_used")
    return user


def reset_password(token: str, data: dict[str, Any]) -> User:
    """Set a new password (``PasswordReset``: typed twice) from a mailed link; every session of
    the account is signed out."""
    user = user_for_reset(token)
    cleaned = schemas.PasswordReset.clean(data, context={"member": user})
    _set_password(user, cleaned["password"])
    # Following a mailed link proves the inbox, so the address counts as verified.
    if not user.is_verified:
        user.is_verified, user.verified_at = True, utcnow()
    sign_out_everywhere(user.id)
    _announce_reset(user)
    return user


def _announce_reset(user: User) -> None:
    """Tell the member: a reset they did not ask for means someone else has their inbox."""
    from webapp.notify import notify

    notify(
        user.id,
        "Your password was reset",
        "Your Folio password was reset from the link we mailed you, and every browser and API app "
        "was signed out. API keys keep working: if someone else may have known your password, "
        "revoke them. If you did not reset it, secure your email account and reset it again.",
        type="warning",
        category="security",
        action_url="/settings/api-keys",
    )


def reset_receipt(user: User) -> str:
    """Proof, for the browser that just reset the password, that it may act on the
    confirmation page (revoke the member's API keys) without signing in first."""
    return tokens.make("reset-done", {"uid": str(user.id), "pw": tokens.fingerprint(user.password_hash)})


def user_for_reset_receipt(receipt: str | None) -> User | None:
    """The member a receipt is for, within the reset link's lifetime and while the password
    is still the one it set; None otherwise."""
    if not receipt:
        return None
    try:
        payload = tokens.read("reset-done", receipt, current_app.config["RESET_TOKEN_MAX_AGE"])
        user = db.session.get(User, uuid.UUID(payload["uid"]))
    except (tokens.TokenInvalid, KeyError, TypeError, ValueError):
        return None
    if user is None or tokens.fingerprint(user.password_hash) != payload["pw"]:
        return None
    return user


def sign_out_everywhere(user_id: uuid.UUID, *, except_token: str | None = None) -> int:
    """End every browser session (but ``except_token``'s) and every API refresh token: after a
    password change or reset, nothing signed in with the old password may stay signed in."""
    from webapp.auth import access

    count = sessions.revoke_all(user_id, except_token=except_token)
    access.revoke_all_for(user_id)
    return count


# --- Changes from /settings/security ------------------------------------------------------


class WrongPassword(ValidationFailed):
    """A password was given and it is wrong: a guess, unlike a missing or malformed field."""


def require_password(user: User, password: Any, field: str = "current_password", *, purpose: str) -> None:
    """Confirm a sensitive change with the account password; non-text (JSON) is refused first.

    A wrong password is a guess: it is logged under ``purpose`` in the member's activity, and
    flagged for the request so that ``webapp.limits.password_attempts`` counts it (and nothing
    else, such as a weak new password, uses up the member's attempts)."""
    if not isinstance(password, str) or not password:
        raise ValidationFailed("Enter your password to confirm.", details={field: ["Enter your password."]})
    if not passwords.verify_password(user.password_hash, password):
        # The answer is a refusal, and the guess is still on record.
        unit_of_work.record_anyway(
            activity.record, purpose, status="failure", user_id=user.id, message="wrong password"
        )
        if has_request_context():
            g.wrong_password = True
        raise WrongPassword("Your password is not correct.", details={field: ["This is not your password."]})


def _set_password(user: User, new_password: str) -> None:
    user.password_hash = passwords.hash_password(new_password)
    user.password_changed_at = utcnow()


def _confirmed(user: User, contract: type[Contract], data: dict[str, Any], field: str, *, purpose: str):
    """``data`` cleaned by ``contract`` once the account password in ``field`` is confirmed."""
    cleaned, errors = contract.check(data, context={"member": user})
    if field in cleaned:
        require_password(user, cleaned[field], field=field, purpose=purpose)
    if errors:
        raise ValidationFailed(ATTENTION, details=errors)
    return cleaned


def change_password(user: User, data: dict[str, Any], *, keep_token: str | None) -> None:
    """Change the password (``PasswordChange``) and sign out every other session. The current
    password is checked first: a wrong one is a guess, whatever else is wrong."""
    cleaned = _confirmed(user, schemas.PasswordChange, data, "current_password", purpose="password_change")
    _set_password(user, cleaned["new_password"])
    activity.record("password_change", user_id=user.id)
    sign_out_everywhere(user.id, except_token=keep_token)


def request_email_change(user: User, data: dict[str, Any]) -> str:
    """Remember the new address (``EmailChange``) and mail it a confirmation link; the old one
    stays until then."""
    new_email = _confirmed(user, schemas.EmailChange, data, "password", purpose="email_change")["new_email"]
    if new_email == user.email:
        message = "That is already your email."
        raise ValidationFailed(message, details={"new_email": [message]})
    if find_by_email(new_email) is not None:
        message = "Another account uses this email."
        raise Conflict(message, details={"new_email": [message]})
    user.pending_email = new_email
    send_verification(user, email=new_email)
    return new_email
