"""``flask announce-expiring-keys``: the daily expiry notice, on demand."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from webapp.extensions import db


@click.command("announce-expiring-keys")
@with_appcontext
def announce_expiring_keys():
    """Warn owners of API keys that expire within a week (the scheduler runs it daily)."""
    from webapp.apikeys.tasks import announce_expiring_keys as announce

    count = announce()
    db.session.commit()
    click.echo(f"Announced {count} expiring key(s).")
