"""The per-member limit on refused account deletions, shared by the page and the API.

Deleting the account asks for the password, so without a limit a stolen session could guess it
there without end. As on the security page, only refused attempts count, the size is
``LOGIN_LIMIT_PER_ACCOUNT``, and the page and the API draw from one budget per member.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from flask import current_app, g
from flask_login import current_user

from webapp.extensions import limiter

MESSAGE = "Too many wrong passwords for deleting this account."


def _limit() -> str:
    return current_app.config["LOGIN_LIMIT_PER_ACCOUNT"]


def _description() -> str:
    """The 429's description, which the API's error body shows as "Limit: <description>."."""
    return f"{_limit()} on wrong passwords for deleting this account"


def _member_key() -> str:
    """The member the attempt is for: the API's authenticated caller, or the signed-in page user."""
    principal = g.get("principal")
    user_id = principal.user.id if principal is not None else current_user.id
    return f"account-delete:{user_id}"


def deletion_limit(success_status: int) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Limit a deletion route; any answer but ``success_status`` counts as a refused attempt."""
    return limiter.shared_limit(
        _limit,
        scope="account-delete",
        key_func=_member_key,
        methods=["POST", "DELETE"],
        deduct_when=lambda response: response.status_code != success_status,
        error_message=_description,
    )


def refusal() -> str:
    """The page's 429 sentence: what happened and how long to wait, in whole minutes."""
    current = limiter.current_limit
    seconds = current.reset_at - time.time() if current else 60
    minutes = max(1, round(seconds / 60))
    return f"{MESSAGE} Please wait {minutes} minute{'s' if minutes != 1 else ''} and try again."
