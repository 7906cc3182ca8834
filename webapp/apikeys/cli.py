"""``flask announce-expiring-keys``: the daily expiry notice, on demand."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from webapp import unit_of_work


@click.command("announce-expiring-keys")
@with_appcontext
@unit_of_work.command
def announce_expiring_keys():
    """Warn owners of API keys that expire within a week (the scheduler runs it daily)."""
    from webapp.apikeys.tasks import announce_expiring_keys as announce

    count = announce()
    click.echo(f"Announced {count} expiring key(s).")
