"""Periodic jobs: one registry that every domain adds to from its ``init_app``.

In production rq's ``CronScheduler`` (``flask scheduler``, beside ``flask worker``) enqueues
each job when it is due, and a worker runs it like any other job. Without ``REDIS_URL`` (``make
run``) a thread in the web process runs the due jobs itself, so a newcomer sees expiring-key
notices and purges happen without setting anything up.

Jobs take no arguments and run in an app context; like every job they are a unit of work
(``webapp.jobs.run_job`` commits once, or rolls back on failure). Schedules are UTC.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from croniter import croniter
from flask import Flask

from webapp.extensions import db
from webapp.jobs import dotted, run_job
from webapp.timeutil import utcnow

log = logging.getLogger(__name__)
EXTENSION = "folio_periodic_jobs"
LONGEST_NAP = 60.0  # seconds: the in-process loop looks again at least this often


@dataclass(frozen=True)
class PeriodicJob:
    """A job that runs every ``every`` seconds (first at start-up) or on a ``cron`` schedule."""

    func: Callable[[], Any]
    every: int | None = None
    cron: str | None = None

    @property
    def name(self) -> str:
        return dotted(self.func)

    def first_run(self, now: datetime) -> datetime:
        return now if self.every else self.next_run(now)

    def next_run(self, after: datetime) -> datetime:
        if self.every:
            return after + timedelta(seconds=self.every)
        return croniter(self.cron, after).get_next(datetime)


def every(app: Flask, func: Callable[[], Any], *, seconds: int | None = None, cron: str | None = None) -> None:
    """Register ``func`` to run periodically: every ``seconds``, or on a crontab line (UTC)."""
    if (seconds is None) == (cron is None):
        raise ValueError("give either seconds or cron")
    if cron is not None and not croniter.is_valid(cron):
        raise ValueError(f"not a crontab schedule: {cron!r}")
    if seconds is not None and seconds < 1:
        raise ValueError("seconds must be at least 1")
    app.extensions.setdefault(EXTENSION, []).append(PeriodicJob(func, seconds, cron))


def periodic_jobs(app: Flask) -> list[PeriodicJob]:
    return list(app.extensions.get(EXTENSION, []))


def cron_scheduler(app: Flask, connection):
    """rq's CronScheduler with every registered job, each enqueued as ``webapp.jobs.execute``."""
    from rq.cron import CronScheduler

    scheduler = CronScheduler(connection=connection, logging_level=logging.INFO)
    for job in periodic_jobs(app):
        scheduler.register(
            run_job_by_name,
            queue_name=app.config["RQ_QUEUE"],
            args=(job.name,),
            interval=job.every,
            cron=job.cron,
            # No ``timeout``: rq 2.6's CronJob hands it to the function as a keyword instead of
            # to the queue, so jobs run with the queue's default timeout (180 s).
        )
    return scheduler


def run_job_by_name(name: str) -> None:
    """What the worker runs for a periodic job (rq stores the name, not the function)."""
    from webapp.jobs import execute

    execute(name, (), {})


class InProcessScheduler:
    """Runs due jobs in a daemon thread of the web process (development without Redis)."""

    def __init__(self, app: Flask, jobs: list[PeriodicJob], now: datetime | None = None):
        self.app = app
        start = now or utcnow()
        self.due = {job.name: job.first_run(start) for job in jobs}
        self.jobs = {job.name: job for job in jobs}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_due(self, now: datetime | None = None) -> list[str]:
        """Run every job whose time has come; return their names. A failure is logged and the
        job is tried again at its next time, as rq would."""
        now = now or utcnow()
        ran = []
        for name, when in sorted(self.due.items(), key=lambda item: item[1]):
            if when > now:
                continue
            with self.app.app_context():
                try:
                    run_job(self.jobs[name].func, (), {})
                except Exception:
                    log.exception("Periodic job %s failed", name)
                finally:
                    db.session.remove()
            self.due[name] = self.jobs[name].next_run(now)
            ran.append(name)
        return ran

    def seconds_until_next(self, now: datetime | None = None) -> float:
        if not self.due:
            return LONGEST_NAP
        wait = (min(self.due.values()) - (now or utcnow())).total_seconds()
        return max(0.0, min(wait, LONGEST_NAP))

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="folio-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.run_due()
            self._stop.wait(self.seconds_until_next())


def start_in_process(app: Flask) -> None:
    """Start the in-process scheduler once, at the first request of a web process without Redis.

    At the first request rather than in ``create_app``, so that ``flask db upgrade`` and other
    commands never start it; never under test (tests call ``run_due`` themselves)."""
    if app.config.get("REDIS_URL") or app.testing or not app.config.get("RUN_PERIODIC_JOBS_IN_PROCESS", True):
        return
    lock = threading.Lock()

    @app.before_request
    def _start_scheduler_once():
        if "folio_scheduler" in app.extensions:
            return
        with lock:
            if "folio_scheduler" not in app.extensions:
                scheduler = InProcessScheduler(app, periodic_jobs(app))
                app.extensions["folio_scheduler"] = scheduler
                scheduler.start()
                log.info("Running %d periodic job(s) in-process (no REDIS_URL)", len(scheduler.jobs))
