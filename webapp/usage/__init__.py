"""Daily usage counters per member (API calls now; images, storage and more later)."""


def init_app(app) -> None:
    """Plug the domain into the app: its table, export file, CLI command, periodic job and
    dashboard card."""
    from webapp import schedule
    from webapp.dashboard import add_card
    from webapp.usage import (  # noqa: F401  (its table for Alembic, its @exporter file)
        cli,
        dashboard,
        export,
        models,
        tasks,
    )

    app.cli.add_command(cli.flush_usage)
    schedule.every(app, tasks.flush_usage, seconds=max(30, app.config["USAGE_FLUSH_SECONDS"]))
    add_card(app, "api-usage", "API usage", dashboard.render_card, order=30)
