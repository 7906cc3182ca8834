"""Sign-up, sign-in, sessions, verification and password reset."""


def init_app(app) -> None:
    """Plug the domain into the app: its periodic jobs, dashboard card and getting-started step."""
    from webapp import schedule
    from webapp.auth import dashboard, tasks
    from webapp.dashboard import add_card, add_step

    schedule.every(app, tasks.purge_ended_sign_ins, cron="30 3 * * *")
    add_card(app, "security", "Security", dashboard.render_card, order=20)
    add_step(
        app,
        "verify-email",
        "Confirm your email address",
        hint="Open the link we sent you; it keeps your account recoverable.",
        endpoint="auth.security",
        done=dashboard.email_verified,
        order=10,
    )
