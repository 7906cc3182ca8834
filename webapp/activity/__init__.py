"""Activity log (seed 002 ``logs``): sign-ins and other events members can review."""


def init_app(app) -> None:
    """Plug the domain into the app: its periodic jobs."""
    from webapp import schedule
    from webapp.activity import tasks

    schedule.every(app, tasks.purge_old_activity, cron="45 3 * * *")
