"""Activity log (seed 002 ``logs``): sign-ins and other events members can review."""


def init_app(app) -> None:
    """Plug the domain into the app: its table, export file and periodic job (``flask purge``,
    auth's command, clears the log with the sign-ins it mostly records)."""
    from webapp import schedule
    from webapp.activity import export, models, tasks  # noqa: F401  (its table for Alembic, its @exporter file)

    schedule.every(app, tasks.purge_old_activity, cron="45 3 * * *")
