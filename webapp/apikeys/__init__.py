"""API keys: created and managed by members at /settings/api-keys, used by scripts as bearer tokens."""

KEYS_READ = "keys:read"
KEYS_MANAGE = "keys:manage"


def init_app(app) -> None:
    """Plug the domain into the app: its table, pages and API, scopes, OpenAPI tag, export file,
    CLI command, periodic job and getting-started step."""
    from webapp import schedule
    from webapp.api.openapi import register_tag
    from webapp.api.scopes import register_scopes
    from webapp.apikeys import (  # noqa: F401  (its table for Alembic, its @exporter file)
        api,
        cli,
        dashboard,
        export,
        models,
        tasks,
        views,
    )
    from webapp.dashboard import add_step

    register_scopes({KEYS_READ: "List your API keys", KEYS_MANAGE: "Create, change, regenerate and delete API keys"})
    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp)
    register_tag("API keys", "Keys for your scripts and apps")
    app.cli.add_command(cli.announce_expiring_keys)
    schedule.every(app, tasks.announce_expiring_keys, cron="0 8 * * *")
    add_step(
        app,
        "api-key",
        "Create an API key",
        hint="Connect your scripts and tools to Folio.",
        endpoint="apikeys.index",
        done=dashboard.has_key,
        order=50,
    )
