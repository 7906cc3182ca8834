"""API keys: created and managed by members at /settings/api-keys, used by scripts as bearer tokens."""


def init_app(app) -> None:
    """Plug the domain into the app: its periodic jobs."""
    from webapp import schedule
    from webapp.apikeys import tasks

    schedule.every(app, tasks.announce_expiring_keys, cron="0 8 * * *")
