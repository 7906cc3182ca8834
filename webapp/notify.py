"""The one function every domain calls to tell a member something.

Until the notifications issue lands (inbox, preferences, channels), a notice is written to the
log; the signature is what that issue will route to the inbox, email, push and SMS.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

log = logging.getLogger("folio.notify")


def notify(
    user_id: uuid.UUID,
    title: str,
    message: str,
    *,
    type: str = "info",
    category: str = "system",
    action_url: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> None:
    """Tell a member about something that happened (seed 000 §5's fields)."""
    log.info(
        "notify user=%s category=%s type=%s title=%r message=%r action=%s meta=%s",
        user_id,
        category,
        type,
        title,
        message,
        action_url,
        metadata or {},
    )
