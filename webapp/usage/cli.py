"""``flask flush-usage``: write the buffered counters now rather than at the next periodic flush."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from webapp import unit_of_work


@click.command("flush-usage")
@with_appcontext
@unit_of_work.command
def flush_usage():
    """Write buffered API-call counts to the database now."""
    from webapp.usage.counter import flush

    flush()
    click.echo("Usage counters flushed.")
