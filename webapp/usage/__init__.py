"""Daily usage counters per member (API calls now; images, storage and more later)."""


def init_app(app) -> None:
    """Plug the domain into the app: its periodic jobs and dashboard card."""
    from webapp import schedule
    from webapp.dashboard import add_card
    from webapp.usage import dashboard, tasks

    schedule.every(app, tasks.flush_usage, seconds=max(30, app.config["USAGE_FLUSH_SECONDS"]))
    add_card(app, "api-usage", "API usage", dashboard.render_card, order=30)
