"""Sign-up, sign-in, sessions, verification and password reset."""


def init_app(app) -> None:
    """Plug the domain into the app: its tables, pages and API, OpenAPI tag, export files, CLI
    command, periodic jobs, dashboard card and getting-started step."""
    from webapp import schedule
    from webapp.api.openapi import register_tag
    from webapp.auth import (  # noqa: F401  (its tables for Alembic, its @exporter files)
        api,
        cli,
        dashboard,
        export,
        models,
        tasks,
        views,
    )
    from webapp.dashboard import add_card, add_step

    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp)
    register_tag(
        "Auth",
        "Sign up and sign in without a browser; access and refresh tokens. Unlike every other tag, "
        "these routes use camelCase field names (`accessToken`, `firstName`), as their specification does.",
    )
    app.cli.add_command(cli.purge)
    schedule.every(app, tasks.purge_ended_sign_ins, cron="30 3 * * *")
    schedule.every(app, tasks.flush_last_seen, seconds=max(30, app.config["LAST_SEEN_FLUSH_SECONDS"]))
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
