"""API keys: created and managed by members at /settings/api-keys, used by scripts as bearer tokens."""


def init_app(app) -> None:
    """Plug the domain into the app: its periodic jobs and getting-started step."""
    from webapp import schedule
    from webapp.apikeys import dashboard, tasks
    from webapp.dashboard import add_step

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
