"""The JSON API platform under /api/v1: authentication, scopes, endpoints, health."""


def init_app(app) -> None:
    """Plug the platform's own routes in: health, the OpenAPI document and the reference page."""
    from webapp.api import health, openapi

    app.register_blueprint(health.bp)
    app.register_blueprint(openapi.bp)
    openapi.register_tag("Health", "Service health for load balancers")
    openapi.register_tag("Meta", "This document")
