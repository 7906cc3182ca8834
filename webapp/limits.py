"""Rate limits that more than one domain uses.

Every form that asks for the account password (changing it on the security page, deleting the
account on the page or over the API) draws from one budget per member, so a stolen session
cannot guess the password by spreading attempts over several forms. Only refused attempts count.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from flask import current_app, g
from flask_login import current_user

from webapp.extensions import limiter

WRONG_PASSWORDS = "Too many wrong passwords."


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


def wait_text() -> str:
    """How long until the limit that was just hit lets the member try again, in minutes."""
    current = limiter.current_limit
    seconds = current.reset_at - time.time() if current else 60
    # reset_at is a whole second in the future, so round rather than ceil ("1 minute", not 2).
    minutes = max(1, round(seconds / 60))
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def refusal(description: str) -> str:
    """The sentence a page shows for a 429: what happened and how long to wait."""
    return f"{description.rstrip('.')}. Please wait {wait_text()} and try again."
