"""WSGI entry point: ``gunicorn wsgi:app`` (production) or ``flask --app wsgi run``."""

from werkzeug.middleware.proxy_fix import ProxyFix

from webapp import create_app

app = create_app()
# Behind one reverse proxy, trust its X-Forwarded-For/Proto so that rate limits and the
# session list see the client's address and secure cookies work.
app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)
