"""Background jobs: rq on Redis when ``REDIS_URL`` is set, in-process otherwise.

Jobs receive ids and plain values, never ORM objects, and reload what they need. Workers run
``rq worker folio`` (or ``flask worker``); each job builds the app once per process.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from typing import Any

from flask import current_app, has_app_context

log = logging.getLogger(__name__)
_worker_app = None


def dotted(func: Callable[..., Any]) -> str:
    """``module:function``: how a job names its function on Redis (rq stores names, not code)."""
    return f"{func.__module__}:{func.__qualname__}"


def _resolve(path: str) -> Callable[..., Any]:
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


def redis_connection():
    """The app's Redis client for ``REDIS_URL`` (one pool per URL), or None when unset.

    Timeouts keep a stalled Redis from hanging requests (health checks, usage counting)."""
    url = current_app.config.get("REDIS_URL")
    if not url:
        return None
    clients = current_app.extensions.setdefault("folio_redis", {})
    if url not in clients:
        from redis import Redis

        clients[url] = Redis.from_url(url, socket_timeout=5, socket_connect_timeout=2, health_check_interval=30)
    return clients[url]


def enqueue(func: Callable[..., Any], *args: Any, **kwargs: Any) -> str | None:
    """Run ``func(*args, **kwargs)`` in the background; return the rq job id if queued."""
    connection = redis_connection()
    if connection is None:
        _run_in_process(func, args, kwargs)
        return None
    from rq import Queue

    queue = Queue(current_app.config["RQ_QUEUE"], connection=connection)
    job = queue.enqueue(execute, dotted(func), args, kwargs, job_timeout=300, result_ttl=3600)
    return job.id


def _run_in_process(func: Callable[..., Any], args: tuple, kwargs: dict) -> None:
    """Without a worker the job runs now; like a queued job, its failure is logged, not raised,
    so that a broken SMTP relay does not turn the request that queued a mail into a 500."""
    try:
        func(*args, **kwargs)
    except Exception:
        log.exception("In-process job %s failed", dotted(func))


def execute(path: str, args: tuple, kwargs: dict) -> Any:
    """Entry point inside the worker: push an app context, then call the job function."""
    if has_app_context():
        return _resolve(path)(*args, **kwargs)
    global _worker_app
    if _worker_app is None:
        from webapp import create_app

        _worker_app = create_app()
    with _worker_app.app_context():
        try:
            return run_job(_resolve(path), args, kwargs)
        finally:
            from webapp.extensions import db

            db.session.remove()


def run_job(func: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
    """A job is a unit of work: it commits once when it succeeds and rolls back when it fails
    (the exception goes on, so rq records the failure)."""
    from webapp.extensions import db

    try:
        result = func(*args, **kwargs)
        db.session.commit()
        return result
    except Exception:
        db.session.rollback()
        raise
