"""Serving stored uploads (avatars) from the storage module's local folder."""


def init_app(app) -> None:
    """Plug the domain into the app: the route that serves uploads."""
    from webapp.media import views

    app.register_blueprint(views.bp)
