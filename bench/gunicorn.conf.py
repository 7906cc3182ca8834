"""One gunicorn config for both servers the benchmark compares (hello-world and Folio)."""

workers = 2
threads = 4
worker_class = "gthread"
accesslog = None
loglevel = "warning"
keepalive = 5
