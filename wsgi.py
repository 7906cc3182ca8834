"""WSGI entry point: ``gunicorn wsgi:app`` (production) or ``flask --app wsgi run``."""

from webapp import create_app

app = create_app()
