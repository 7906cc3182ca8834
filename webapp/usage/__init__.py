"""Daily usage counters per member (API calls now; images, storage and more later)."""


def init_app(app) -> None:
    """Plug the domain into the app: its periodic jobs."""
    from webapp import schedule
    from webapp.usage import tasks

    schedule.every(app, tasks.flush_usage, seconds=max(30, app.config["USAGE_FLUSH_SECONDS"]))
