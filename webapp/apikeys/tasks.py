"""Periodic jobs of the API keys domain."""

from __future__ import annotations

import logging

from webapp.apikeys.service import announce_expiring

log = logging.getLogger(__name__)


def announce_expiring_keys() -> int:
    """Warn the owners of keys that expire within the warning window (daily; idempotent)."""
    count = announce_expiring()
    log.info("Announced %d expiring API key(s)", count)
    return count
