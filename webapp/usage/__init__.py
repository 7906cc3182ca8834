"""Daily usage per member against the plan's limits: counted where the work happens
(``service.consume`` / ``add_to_day``), API calls through a buffered counter."""

USAGE_READ = "usage:read"


def init_app(app) -> None:
    """Plug the domain into the app: its table, page and API, scope, OpenAPI tag, export file,
    CLI command, periodic job and dashboard card."""
    from webapp import schedule
    from webapp.api.openapi import register_tag
    from webapp.api.scopes import register_scopes
    from webapp.dashboard import add_card
    from webapp.usage import (  # noqa: F401  (its table for Alembic, its @exporter file)
        api,
        cli,
        dashboard,
        export,
        models,
        tasks,
        views,
    )

    register_scopes({USAGE_READ: "See your usage against your plan's limits"})
    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp)
    register_tag("Usage", "What you have used against your plan's daily limits, and its history")
    app.cli.add_command(cli.flush_usage)
    schedule.every(app, tasks.flush_usage, seconds=max(30, app.config["USAGE_FLUSH_SECONDS"]))
    add_card(app, "api-usage", "API usage", dashboard.render_card, order=30)
