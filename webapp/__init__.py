"""Folio: the application factory."""

from __future__ import annotations

import logging

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from webapp.api.strict_json import StrictJSONProvider
from webapp.config import PROJECT_ROOT, config_for


def create_app(config: str | type | None = None) -> Flask:
    """Build a configured app. ``config`` is a name (development, testing, production) or a class."""
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
        instance_path=str(PROJECT_ROOT / "instance"),
    )
    app.config.from_object(config if isinstance(config, type) else config_for(config))
    app.json = StrictJSONProvider(app)  # request bodies are strict JSON, whoever reads them
    if not app.config.get("SECRET_KEY"):
        raise RuntimeError("SECRET_KEY is not set. Put it in the environment or in .env.")
    app.config["JWT_SECRET_KEY"] = app.config.get("JWT_SECRET_KEY") or app.config["SECRET_KEY"]
    if app.config["PROXY_HOPS"]:
        hops = app.config["PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    configure_logging(app)

    register_extensions(app)
    register_request_hooks(app)
    register_template_helpers(app)
    register_cli(app)
    register_domains(app)
    return app


# Every domain plugs itself in from its own ``init_app(app)``: its tables, blueprints, scopes,
# OpenAPI tags, export files, CLI commands, periodic jobs and dashboard cards. The order is the
# order of the API reference's sections and of the scopes on the key form.
DOMAINS = (
    "main",
    "dashboard",
    "auth",
    "accounts",
    "activity",
    "apikeys",
    "usage",
    "credits",
    "admin",
    "media",
    "api",
)


def register_domains(app: Flask) -> None:
    import importlib

    from webapp import schedule
    from webapp.api.openapi import check_operations

    for name in DOMAINS:
        importlib.import_module(f"webapp.{name}").init_app(app)
    check_operations(app)
    schedule.start_in_process(app)


def configure_logging(app: Flask) -> None:
    """INFO in development and tests (the "mail to …" lines a newcomer follows links from),
    WARNING in production unless ``LOG_LEVEL`` says otherwise. Set on Folio's own logger, so
    it holds even when a server (flask run, gunicorn) configured the root logger first."""
    default = "INFO" if app.config["ENV_NAME"] in ("development", "testing") else "WARNING"
    level = logging.getLevelName((app.config.get("LOG_LEVEL") or default).upper())
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("webapp").setLevel(level)


def register_extensions(app: Flask) -> None:
    from webapp.extensions import csrf, db, limit_in_views_only, limiter, login_manager, migrate, ping_after_idle

    db.init_app(app)
    with app.app_context():
        ping_after_idle(db.engine, app.config["POOL_PING_AFTER_IDLE_SECONDS"])
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True, compare_type=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    limit_in_views_only(app)  # right after Flask-Limiter, whose before_request it must follow
    _enable_sqlite_foreign_keys(app)


def _enable_sqlite_foreign_keys(app: Flask) -> None:
    """SQLite ignores ON DELETE CASCADE unless asked, and account deletion relies on it."""
    import sqlalchemy as sa

    from webapp.extensions import db

    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":

            @sa.event.listens_for(engine, "connect")
            def _on_connect(dbapi_connection, _record):
                cursor = dbapi_connection.cursor()
                cursor.execute("PRAGMA foreign_keys=ON")
                cursor.close()


def register_request_hooks(app: Flask) -> None:
    from webapp.auth.login import register_login
    from webapp.errors import register_error_handlers
    from webapp.security import register_security_headers
    from webapp.unit_of_work import init_app as register_unit_of_work

    register_unit_of_work(app)  # first, so that its after_request hook (the commit) runs last
    register_login(app)
    register_error_handlers(app)
    register_security_headers(app)


def register_template_helpers(app: Flask) -> None:
    from webapp.templating import register_templating

    register_templating(app)


def register_cli(app: Flask) -> None:
    from webapp.cli import register_commands

    register_commands(app)
