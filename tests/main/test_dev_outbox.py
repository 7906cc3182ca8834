"""The development outbox: how a newcomer without SMTP follows verification and reset links."""

from __future__ import annotations

import logging

import pytest

from webapp import create_app, mail
from webapp.config import DevelopmentConfig
from webapp.extensions import db


@pytest.fixture
def dev_app(tmp_path):
    class Config(DevelopmentConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'dev.db'}"
        MAIL_SERVER = None
        MAIL_OUTBOX_DIR = str(tmp_path / "outbox")
        REDIS_URL = None
        RATELIMIT_STORAGE_URI = "memory://"

    app = create_app(Config)
    with app.app_context():
        db.create_all()
        yield app
        db.session.remove()


def test_outbox_page_lists_the_mails_written_to_it(dev_app):
    """base.html's flash list once shadowed the page's ``messages``: the page said "No mail yet"."""
    mail.deliver("new@example.com", "Confirm your email", "Open http://127.0.0.1:5000/verify/abc")
    page = dev_app.test_client().get("/dev/outbox")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Confirm your email" in html
    assert "new@example.com" in html
    assert 'href="http://127.0.0.1:5000/verify/abc"' in html
    assert "No mail yet" not in html


def test_outbox_page_says_so_when_empty(dev_app):
    html = dev_app.test_client().get("/dev/outbox").get_data(as_text=True)
    assert "No mail yet" in html


def test_development_logs_each_mail_at_info(dev_app, caplog):
    """The README promises a "Mail to …" log line under ``make run``: INFO must reach the log."""
    assert logging.getLogger("webapp.mail").isEnabledFor(logging.INFO)
    with caplog.at_level(logging.NOTSET):
        mail.deliver("new@example.com", "Reset your password", "Open http://127.0.0.1:5000/reset/xyz")
    [record] = [r for r in caplog.records if r.name == "webapp.mail"]
    assert record.levelno == logging.INFO
    assert "Mail to new@example.com" in record.getMessage()


def test_production_logs_warnings_only_unless_asked(tmp_path, monkeypatch):
    class Config(DevelopmentConfig):
        ENV_NAME = "production"
        SQLALCHEMY_DATABASE_URI = "sqlite://"
        PAYMENT_PROVIDER = None  # production sells through Stripe or not at all, never the demo

    create_app(Config)
    assert not logging.getLogger("webapp").isEnabledFor(logging.INFO)

    class Verbose(Config):
        LOG_LEVEL = "info"

    create_app(Verbose)
    assert logging.getLogger("webapp").isEnabledFor(logging.INFO)


def test_development_runs_periodic_jobs_in_process(dev_app):
    """Without REDIS_URL, the web process itself runs the due periodic jobs (started by the
    first request, so `flask db upgrade` and other commands never start it)."""
    assert "folio_scheduler" not in dev_app.extensions
    dev_app.test_client().get("/")
    scheduler = dev_app.extensions["folio_scheduler"]
    try:
        assert scheduler._thread.is_alive()
        assert "webapp.apikeys.tasks:announce_expiring_keys" in scheduler.jobs
    finally:
        scheduler.stop()
