"""Rate limits that more than one face or domain uses.

Every form that asks for the account password (changing it on the security page, deleting the
account on the page or over the API) draws from one budget per member, so a stolen session
cannot guess the password by spreading attempts over several forms. Only refused attempts count.

Sign-in (the page, ``/api/v1/auth/login`` and its alias ``/signin``) follows OWASP ASVS v4
2.2.1 / v5 6.3 with two budgets per account, shared by every path, of wrong passwords only:

- per account and client (``LOGIN_LIMIT_PER_ACCOUNT``, tight): the client is the known device
  (``webapp.auth.devices``) when the attempt carries a valid cookie for that account, else the
  address. One guesser is slowed down without locking out the owner anywhere else.
- per account (``LOGIN_LIMIT_ACCOUNT_WIDE``, loose): every client without a known-device cookie
  for the account together, which bounds a guesser spread over many addresses. The owner's
  known devices skip it, so a stranger can never lock them out; when it trips, the owner is
  told once (``notify`` and the activity log).

Emails of no account are counted like real ones, so the limits do not tell whether an account exists.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import current_app, g, request
from flask_limiter import RequestLimit
from flask_login import current_user

from webapp.extensions import limiter

WRONG_PASSWORDS = "Too many wrong passwords."
FAILED_SIGN_INS = "Too many failed sign-in attempts for this account."
FAILED_SIGN_INS_FROM_NEW_DEVICES = (
    "Too many failed sign-in attempts for this account from devices that have not signed in to it before."
)


def _member_key() -> str:
    """The member making the attempt: the API's authenticated caller, or the page's user."""
    principal = g.get("principal")
    user_id = principal.user.id if principal is not None else current_user.id
    return f"password-attempts:{user_id}"


def password_attempts() -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Limit a password-confirmed route to the member's budget of wrong guesses."""
    return limiter.shared_limit(
        lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
        scope="password-attempts",
        key_func=_member_key,
        methods=["POST", "DELETE"],
        # Only real guesses count (require_password flags them), so a weak new password or an
        # unticked box does not use up the member's attempts.
        deduct_when=lambda response: bool(g.get("wrong_password")),
        error_message=WRONG_PASSWORDS,
    )


def sign_in_attempts() -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Limit a sign-in route (page or API) to the account's shared budgets of wrong passwords.

    The scopes are fixed names, so every route decorated with this (and every alias URL of
    one) counts in the same buckets. Only 401 answers (wrong password, unknown account) count."""
    per_client = limiter.shared_limit(
        lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
        scope="sign-in-client",
        key_func=_sign_in_client_key,
        methods=["POST"],
        deduct_when=_wrong_credentials,
        error_message=FAILED_SIGN_INS,
    )
    account_wide = limiter.shared_limit(
        lambda: current_app.config["LOGIN_LIMIT_ACCOUNT_WIDE"],
        scope="sign-in-account",
        key_func=lambda: f"sign-in:{_sign_in_account()}",
        methods=["POST"],
        deduct_when=_wrong_credentials,
        exempt_when=lambda: _sign_in_device() is not None,
        on_breach=_tell_owner_sign_ins_paused,
        error_message=FAILED_SIGN_INS_FROM_NEW_DEVICES,
    )

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        return per_client(account_wide(view))

    return decorate


def _wrong_credentials(response) -> bool:
    return response.status_code == 401


def _sign_in_account() -> str:
    """The account an attempt names, as accounts are looked up (form field or JSON body)."""
    if "sign_in_account" not in g:
        from webapp.auth import service as auth

        body = request.get_json(silent=True) if request.is_json else request.form
        email = body.get("email") if hasattr(body, "get") else None
        g.sign_in_account = auth.lookup_key(email if isinstance(email, str) else "")
    return g.sign_in_account


def _sign_in_member():
    """The member the attempt names, or None (once per request: both limits ask)."""
    if "sign_in_member" not in g:
        from webapp.auth import service as auth

        g.sign_in_member = auth.find_by_email(_sign_in_account())
    return g.sign_in_member


def _sign_in_device() -> str | None:
    """The known device id when the attempt carries a valid cookie for the account it names.
    Without a cookie there is nothing to check, so no query is made."""
    if "sign_in_device" not in g:
        from webapp.auth import devices

        member = _sign_in_member() if devices.COOKIE in request.cookies else None
        g.sign_in_device = devices.device_for(member.id) if member is not None else None
    return g.sign_in_device


def _sign_in_client_key() -> str:
    from webapp.security import client_ip

    device = _sign_in_device()
    client = f"device:{device}" if device else f"ip:{client_ip()}"
    return f"sign-in:{_sign_in_account()}:{client}"


def _tell_owner_sign_ins_paused(breached: RequestLimit) -> None:
    """The account-wide limit refused an attempt: tell the owner, once per window.

    The guard is a one-hit limit of the same length, claimed atomically in the limiter's
    storage (Redis in production), so concurrent refusals still make one notice."""
    member = _sign_in_member()
    if member is None:
        return
    window = breached.limit
    once = type(window)(1, window.multiples)
    if not limiter.limiter.hit(once, "sign-ins-paused", str(member.id)):
        return
    from webapp import unit_of_work

    # The attempt is refused (429), and the notice stands all the same.
    unit_of_work.record_anyway(_record_sign_ins_paused, member.id, str(window))


def _record_sign_ins_paused(user_id, window: str) -> None:
    """Log the pause in the owner's activity and tell them (plain values: it runs after the
    refused request's rollback)."""
    from webapp.activity import service as activity
    from webapp.notify import notify

    activity.record(
        "login_limit",
        status="failure",
        user_id=user_id,
        message=f"account-wide sign-in limit reached ({window}): sign-ins from new devices paused",
    )
    notify(
        user_id,
        "Someone is trying to guess your password",
        "Many wrong passwords were tried for your Folio account from devices that have not signed in to "
        "it before, so we paused sign-ins from new devices for a while. Devices you have signed in from "
        "still work. If this wasn't you, choose a new, unique password from your security settings.",
        type="warning",
        category="security",
        action_url="/settings/security",
        metadata={"limit": window},
    )
