"""App-wide Flask CLI commands: demo data, roles, an rq worker and the scheduler bound to this
app. A domain's own commands live in ``webapp/<domain>/cli.py``, added by its ``init_app``.

A command that changes data is a unit of work (``unit_of_work.command``): it commits once at
its end, or not at all when it fails."""

from __future__ import annotations

import click
from flask import Flask, current_app

from webapp import unit_of_work

DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "folio-demo-2026!"  # noqa: S105 (the documented demo login)


def seed_demo_member() -> bool:
    """Create the demo member with a filled profile; False when it already exists."""
    from webapp.accounts import service as accounts
    from webapp.auth import service as auth
    from webapp.timeutil import utcnow

    if auth.find_by_email(DEMO_EMAIL) is not None:
        return False
    user = auth.register({"email": DEMO_EMAIL, "password": DEMO_PASSWORD, "display_name": "Sarah Lee"}, send_mail=False)
    user.is_verified, user.verified_at = True, utcnow()
    accounts.update_profile(
        user,
        {
            "first_name": "Sarah",
            "last_name": "Lee",
            "slug": "sarah",
            "job_title": "Lifestyle creator & brand consultant",
            "company": "Sarah Lee Studio",
            "location": "Lisbon, Portugal",
            "website": "https://example.com/sarah",
            "phone": "+351912345678",
            "bio": "I help brands tell honest stories on Instagram and YouTube.",
            "linkedin_username": "sarahlee",
            "github_username": "sarahlee",
            "twitter_username": "sarahlee",
            "timezone": "Europe/Lisbon",
            "categories": ["Fashion", "Travel", "Wellness"],
            "budget_min": 50000,
            "budget_max": 500000,
            "public_profile": True,
        },
    )
    accounts.replace_cv(
        user,
        {
            "headline": "Creator with 8 years of brand partnerships",
            "experience": [
                {
                    "title": "Founder",
                    "company": "Sarah Lee Studio",
                    "start": "2019-03",
                    "end": None,
                    "description": "Campaigns for 40+ lifestyle brands.",
                },
                {
                    "title": "Social media lead",
                    "company": "Northwind",
                    "start": "2015-06",
                    "end": "2019-02",
                    "description": None,
                },
            ],
            "education": [
                {"school": "University of Lisbon", "degree": "BA Communication", "start": "2011-09", "end": "2015-06"}
            ],
            "skills": ["Storytelling", "Photography", "Video editing"],
            "links": [{"label": "Showreel", "url": "https://example.com/reel"}],
        },
    )
    return True


def ensure_roles() -> None:
    """Create the built-in roles if missing (migrations seed them too)."""
    from webapp.auth.service import member_role

    member_role()


def register_commands(app: Flask) -> None:
    @app.cli.command("seed-demo")
    @unit_of_work.command
    def seed_demo():
        """Create the demo member (idempotent) and print the demo login."""
        ensure_roles()
        created = seed_demo_member()
        click.echo(("Created" if created else "Kept") + f" demo member: {DEMO_EMAIL} / {DEMO_PASSWORD}")

    @app.cli.command("worker")
    @click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
    def worker(burst: bool):
        """Run an rq worker for this app's queue (needs REDIS_URL)."""
        from redis import Redis
        from rq import Worker

        url = current_app.config["REDIS_URL"]
        if not url:
            raise click.ClickException("REDIS_URL is not set; jobs run in-process.")
        # The worker gets a connection of its own: rq lengthens its socket timeout for blocking
        # dequeues, which must not leak into the app's shared client that jobs use.
        Worker([current_app.config["RQ_QUEUE"]], connection=Redis.from_url(url)).work(burst=burst)

    @app.cli.command("scheduler")
    def scheduler():
        """Enqueue each periodic job when it is due (rq's CronScheduler; run one beside the workers)."""
        from redis import Redis

        from webapp.schedule import cron_scheduler, periodic_jobs

        url = current_app.config["REDIS_URL"]
        if not url:
            raise click.ClickException("REDIS_URL is not set; `flask run` runs periodic jobs in-process.")
        for job in periodic_jobs(current_app):
            click.echo(f"{job.name}: " + (f"every {job.every} s" if job.every else f"cron {job.cron} (UTC)"))
        cron_scheduler(current_app, Redis.from_url(url)).start()
