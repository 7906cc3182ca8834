"""The JSON API platform under /api/v1: authentication, scopes, endpoints, health."""


def init_app(app) -> None:
    """Plug the platform's own routes in (health, the OpenAPI document and the reference page),
    its table of idempotency keys and the daily job that forgets old ones."""
    from webapp import schedule
    from webapp.api import export, health, idempotency, models, openapi  # noqa: F401  (its table, its @exporter)

    app.register_blueprint(health.bp)
    app.register_blueprint(openapi.bp)
    openapi.register_tag("Health", "Service health for load balancers")
    openapi.register_tag("Meta", "This document")
    schedule.every(app, idempotency.purge_expired, cron="20 3 * * *")
