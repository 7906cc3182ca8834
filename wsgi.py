"""WSGI entry point: ``gunicorn wsgi:app`` (production) or ``flask --app wsgi run``."""

import gc

from webapp import create_app

app = create_app()
# What start-up built (templates, mappers, contracts, the URL map) lives as long as the
# process. Frozen, it is left out of the collector's walks, so a full collection no longer
# pauses a request for the whole heap (~0.1-0.2 s on the benchmark machine, a few percent of
# every signed-in request on average).
gc.freeze()
