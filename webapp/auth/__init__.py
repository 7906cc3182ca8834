"""Sign-up, sign-in, sessions, verification and password reset."""


def init_app(app) -> None:
    """Plug the domain into the app: its periodic jobs."""
    from webapp import schedule
    from webapp.auth import tasks

    schedule.every(app, tasks.purge_ended_sign_ins, cron="30 3 * * *")
