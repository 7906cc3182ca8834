"""Background jobs: rq on Redis when ``REDIS_URL`` is set, in-process otherwise.

Jobs receive ids and plain values, never ORM objects, and reload what they need. Workers run
``rq worker folio`` (or ``flask worker``); each job builds the app once per process.
"""

from __future__ import annotations

import functools
import importlib
import logging
import uuid
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
    """Run ``func(*args, **kwargs)`` in the background; return the rq job id if queued.

    Inside a unit of work (a request, a job, a command) the job is handed over once that work
    commits, and never if it rolls back: the job only ever sees committed rows, whether an rq
    worker or this process runs it. The rq job id is chosen now, so it can be returned."""
    from webapp import unit_of_work

    connection = redis_connection()
    if connection is None:
        hand_over = functools.partial(_run_in_process, func, args, kwargs)
        job_id = None
    else:
        job_id = uuid.uuid4().hex
        hand_over = functools.partial(_push, connection, job_id, func, args, kwargs)
    if unit_of_work.in_unit():
        unit_of_work.after_commit(hand_over)
    else:
        hand_over()
    return job_id


def _push(connection, job_id: str, func: Callable[..., Any], args: tuple, kwargs: dict) -> None:
    from rq import Queue

    queue = Queue(current_app.config["RQ_QUEUE"], connection=connection)
    queue.enqueue(execute, dotted(func), args, kwargs, job_id=job_id, job_timeout=300, result_ttl=3600)


def _run_in_process(func: Callable[..., Any], args: tuple, kwargs: dict) -> None:
    """Without a worker the job runs now, as a unit of work of its own; like a queued job, its
    failure is logged, not raised, so that a broken SMTP relay does not turn the request that
    queued a mail into a 500."""
    try:
        run_job(func, args, kwargs)
    except Exception:
        log.exception("In-process job %s failed", dotted(func))


def execute(path: str, args: tuple, kwargs: dict) -> Any:
    """Entry point inside the worker: push an app context, then call the job function."""
    if has_app_context():  # `flask worker` runs jobs inside its command's app context
        return run_job(_resolve(path), args, kwargs)
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
    from webapp import unit_of_work

    with unit_of_work.unit():
        return func(*args, **kwargs)
