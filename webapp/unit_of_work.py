"""The request or the job is the unit of work: services flush, the boundary commits once.

A request (page or API) commits once, after its view, when its answer is a success or a
redirect (status < 400), and rolls back on an error answer or an exception; a job commits once
in ``webapp.jobs.run_job``; a CLI command once at its end (``command``). Below the boundary,
code flushes and never commits, so a use case that calls three services is one transaction:
a failure half-way leaves nothing behind. Flask-SQLAlchemy removes the session when the
request's (or job's) app context ends.

Two kinds of work follow the transaction instead of running inside it:

- ``after_commit(action)``: ``jobs.enqueue`` queues its job here inside a unit of work, so an
  in-process job runs (and commits) only once the work it was queued for is committed, and an
  rq worker never picks up a job for rows that are not there yet or never will be. A rollback
  drops the queue.
- ``record_anyway(action, *args)``: a write that must stand even though the unit of work is
  refused, such as a failed sign-in's activity row (the answer is a 401), the refresh-token
  family a replayed token revokes, or the notice that sign-ins are paused (a 429). It runs once
  the unit has ended, whichever way, in a transaction of its own; its arguments are plain values
  (ids, text), as a job's are, since the rollback expires ORM objects. Outside a unit of work
  (a shell, a test calling a service) it runs at once.

Only this module commits (``tests/platform/test_unit_of_work.py`` checks the source).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from flask import Flask, Response, g, has_request_context
from sqlalchemy.orm import Session

from webapp.extensions import db

log = logging.getLogger(__name__)

_AFTER_COMMIT = "unit_of_work.after_commit"
_ANYWAY = "unit_of_work.anyway"
_DEPTH = "unit_of_work.depth"  # jobs and commands in progress on this session


def init_app(app: Flask) -> None:
    """Make every request a unit of work (registered before other hooks, so it runs last)."""
    app.after_request(_end_request)
    app.teardown_request(_teardown_request)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            _begin_sqlite_transactions(db.engine)


def _begin_sqlite_transactions(engine: sa.Engine) -> None:
    """Open SQLite's transaction before a savepoint when the sqlite3 driver has not yet.

    The driver begins a transaction only at the first write, so a SAVEPOINT taken before any
    write (a sign-up's attempt, a profile change's slug check) would start SQLite's transaction
    itself, and releasing it would commit everything so far: the unit of work would end early.
    Reads before the first write stay outside a transaction, as before, so concurrent requests
    of the development server do not hold read locks while they wait to write."""

    @sa.event.listens_for(engine, "savepoint")
    def _begin_before_savepoint(connection, _name):
        driver = connection.connection.driver_connection
        if not driver.in_transaction:
            driver.execute("BEGIN")


def _end_request(response: Response) -> Response:
    """Commit a success or a redirect, roll back an error answer. A failing commit raises,
    and Flask answers 500 through the error handler, which comes back here to roll back."""
    g.unit_of_work_ended = True
    if response.status_code < 400:
        commit()
    else:
        rollback()
    return response


def _teardown_request(_exc: BaseException | None) -> None:
    """A request that never reached ``_end_request`` (a hook failed first) keeps nothing."""
    if not g.pop("unit_of_work_ended", False):
        rollback()


def in_unit() -> bool:
    """True inside a request, a job or a command: its boundary will commit or roll back."""
    return has_request_context() or db.session().info.get(_DEPTH, 0) > 0


@contextmanager
def unit() -> Iterator[None]:
    """A job's or a command's unit of work: commit once at the end, roll back on any error
    (which goes on)."""
    session = db.session()
    session.info[_DEPTH] = session.info.get(_DEPTH, 0) + 1
    try:
        yield
        commit()
    except BaseException:
        rollback()
        raise
    finally:
        session.info[_DEPTH] -= 1


def command(func: Callable[..., Any]) -> Callable[..., Any]:
    """A CLI command as a unit of work (put under ``@app.cli.command``)."""

    @functools.wraps(func)
    def run(*args: Any, **kwargs: Any) -> Any:
        with unit():
            return func(*args, **kwargs)

    return run


def commit() -> None:
    """The boundary's one commit, then what waited for it (jobs, writes that stand anyway)."""
    session = db.session()
    session.commit()
    _run_anyway(session)
    while queue := session.info.pop(_AFTER_COMMIT, None):
        for action in queue:
            action()


def rollback() -> None:
    """Undo the unit of work; queued jobs are dropped, writes that stand anyway are made."""
    session = db.session()
    session.rollback()
    session.info.pop(_AFTER_COMMIT, None)
    _run_anyway(session)


def _run_anyway(session: Session) -> None:
    """The ``record_anyway`` writes, in a transaction of their own (one for all of them)."""
    actions = session.info.pop(_ANYWAY, None)
    if not actions:
        return
    try:
        for action, args, kwargs in actions:
            action(*args, **kwargs)
        session.commit()
    except Exception:  # the answer stands; a lost audit row is logged, not turned into a 500
        session.rollback()
        log.exception("Could not record %s after the unit of work", [dotted_name(a) for a, _, _ in actions])
    while queue := session.info.pop(_AFTER_COMMIT, None):  # jobs those writes queued
        for action in queue:
            action()


def dotted_name(func: Callable[..., Any]) -> str:
    return f"{func.__module__}.{func.__qualname__}"


def after_commit(action: Callable[[], None]) -> None:
    """Run ``action`` once this unit of work commits; never if it rolls back."""
    db.session().info.setdefault(_AFTER_COMMIT, []).append(action)


def record_anyway(action: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """Make a write that stands whether or not the unit of work commits (see the module's
    docstring): after its end inside a unit of work, at once outside one."""
    if not in_unit():
        action(*args, **kwargs)
        return
    db.session().info.setdefault(_ANYWAY, []).append((action, args, kwargs))
