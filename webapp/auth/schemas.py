"""Signing up and in: what the pages and the API accept, and seed 004's camelCase answers."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from webapp import rules, storage
from webapp.auth import passwords
from webapp.auth.models import User
from webapp.contracts import Contract, OptionalTimestamp, Reply, Timestamp

# A new password and its repetition are taken as typed; the strength rule (with its own words
# for the length) and the comparison run with the rest (``strength_problems``).
NewPassword = rules.rule(
    rules.secret(None, missing=passwords.MISSING),
    {
        "type": "string",
        "minLength": passwords.MIN_LENGTH,
        "maxLength": passwords.MAX_LENGTH,
        "description": passwords.HINT,
    },
)


Repetition = rules.rule(
    rules.secret(None, missing=passwords.REPEAT),
    {"type": "string", "description": "The password again, as the page asks for it"},
)


class SignUp(Contract):
    """What every new account needs. Seed 004's register body (``Registration``), the sign-up
    page (``SignUpPage``) and staff creating a member (``webapp.admin``) extend it."""

    email: rules.Email
    password: NewPassword
    display_name: rules.Text(100, description="Shown on your page; defaults to the address's local part") = None

    @classmethod
    def problems(cls, cleaned: dict[str, Any], context: dict[str, Any]) -> dict[str, list[str]]:
        """The password's strength, judged against the member's own address and names."""
        email = cleaned.get("email") or ""
        names = [cleaned.get(n) or "" for n in ("display_name", "first_name", "last_name")]
        return strength_problems(cleaned, "password", [email, *names])


def strength_problems(cleaned: dict[str, Any], field: str, known: list[str]) -> dict[str, list[str]]:
    """The strength rule's problem with the new password in ``cleaned[field]``, judged against
    what the member is known by (an address counts with its local part), and, when the password
    was typed twice, the mismatch under ``confirm``: all at once, each next to its field."""
    if field not in cleaned:
        return {}
    known = [*known, *(k.split("@")[0] for k in known if "@" in k)]
    problem = passwords.password_problem(cleaned[field], known)
    errors = {field: [problem]} if problem else {}
    if "confirm" in cleaned:
        mismatch = passwords.confirmation_problem(cleaned[field], cleaned["confirm"])
        if mismatch:
            errors["confirm"] = [mismatch]
    return errors


def _known_names(context: dict[str, Any]) -> list[str]:
    member = context["member"]
    return [member.email, member.profile.display_name or ""]


class Registration(SignUp):
    """Seed 004's register body, camelCase as its front end sends it."""

    display_name: rules.Text(100, description="Shown on your page; defaults to your name") = Field(
        None, alias="displayName"
    )
    first_name: rules.Text(100) = Field(None, alias="firstName")
    last_name: rules.Text(100) = Field(None, alias="lastName")
    phone: rules.Phone = None


class SignUpPage(SignUp):
    """The page asks for a name and the password twice."""

    display_name: rules.Text(100, required=True, missing="Enter your name.")
    confirm: Repetition


class PasswordReset(Contract):
    """A new password from a mailed link (``context={"member": user}``)."""

    password: NewPassword
    confirm: Repetition

    @classmethod
    def problems(cls, cleaned: dict[str, Any], context: dict[str, Any]) -> dict[str, list[str]]:
        return strength_problems(cleaned, "password", _known_names(context))


class PasswordChange(Contract):
    """The security page's password change (``context={"member": user}``)."""

    current_password: rules.Secret(1024, missing="Enter your password.")
    new_password: NewPassword

    @classmethod
    def problems(cls, cleaned: dict[str, Any], context: dict[str, Any]) -> dict[str, list[str]]:
        return strength_problems(cleaned, "new_password", _known_names(context))


class EmailChange(Contract):
    new_email: rules.Email
    password: rules.Secret(1024, missing="Enter your password.")


class SignIn(Contract):
    email: rules.Text(320, required=True, missing=rules.EMAIL_MISSING)
    password: rules.Secret(1024, missing=passwords.MISSING)


class RefreshToken(Contract):
    refresh_token: rules.Secret(4096) = Field(alias="refreshToken")


# --- Answers --------------------------------------------------------------------------------


class UserReply(Reply):
    id: str = Field(json_schema_extra={"format": "uuid"})
    email: str = Field(json_schema_extra={"format": "email"})
    display_name: str = Field(alias="displayName")
    first_name: str | None = Field(alias="firstName")
    last_name: str | None = Field(alias="lastName")
    avatar_url: str | None = Field(alias="avatarUrl")
    is_verified: bool = Field(alias="isVerified")
    plan: str
    role: str
    created_at: Timestamp = Field(alias="createdAt")
    last_login: OptionalTimestamp = Field(alias="lastLogin")


class TokenPairReply(Reply):
    access_token: str = Field(alias="accessToken")
    refresh_token: str = Field(alias="refreshToken")
    expires_in: int = Field(alias="expiresIn", description="Access token lifetime in seconds", examples=[900])


class SessionReply(TokenPairReply):
    user: UserReply


class MeReply(Reply):
    user: UserReply


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
