"""Background jobs of the credits domain."""

from __future__ import annotations

import uuid

from webapp.credits import payments


def auto_refill(user_id: str) -> None:
    """Queued by a spend that left the balance under the member's refill threshold."""
    payments.auto_refill(uuid.UUID(user_id))
