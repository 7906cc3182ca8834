"""``flask purge``: what the daily purge jobs do, on demand (cron or a maintainer)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from webapp import unit_of_work


@click.command("purge")
@click.option("--days", type=int, default=None, help="Keep ended sessions and tokens this long [30].")
@click.option("--log-days", type=int, default=None, help="Keep the activity log this long [365].")
@with_appcontext
@unit_of_work.command
def purge(days: int | None, log_days: int | None):
    """Delete ended sessions, dead refresh tokens and old activity (the scheduler runs it daily)."""
    from webapp.activity.tasks import purge_old_activity
    from webapp.auth.tasks import purge_ended_sign_ins

    # The activity log is mostly sign-ins, so one command clears both, as one unit of work.
    counts = (*purge_ended_sign_ins(days), purge_old_activity(log_days))
    click.echo("Deleted {} sessions, {} refresh tokens, {} log entries.".format(*counts))
