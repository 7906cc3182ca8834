"""Pages that belong to no single domain: the home page and development tools."""


def init_app(app) -> None:
    """Plug the domain into the app: the home page, and the outbox viewer in development."""
    from webapp.main import views

    app.register_blueprint(views.bp)
    if app.config["ENV_NAME"] == "development":
        from webapp.main import dev

        app.register_blueprint(dev.bp)
