"""Shared fixtures: the app, a client, a real SMTP server, factories and an auth helper.
Plain helpers (``csrf_token``, ``make_key``, ``assert_json_error``, ...) are in ``tests/helpers.py``.

The suite runs on SQLite by default. Set ``TEST_DATABASE_URL`` (PostgreSQL) and
``TEST_REDIS_URL`` to run it against real services, as ``.ci/run`` does.
"""

from __future__ import annotations

import os
import re
import socket
import threading
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from flask import g
from flask.testing import FlaskClient

from tests.helpers import PASSWORD, AuthActions, make_staff
from webapp import create_app
from webapp.config import TestingConfig
from webapp.extensions import db, limiter


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Mailbox:
    """What the local SMTP server received, newest last."""

    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"

    def clear(self):
        with self.lock:
            self.messages.clear()

    def to(self, address: str):
        return [m for m in self.messages if address in m["To"]]

    def last_link(self, address: str, pattern: str) -> str:
        """The first URL matching ``pattern`` in the newest mail to ``address``."""
        body = self.to(address)[-1].get_body(("plain",)).get_content()
        return re.search(rf"https?://\S*{pattern}\S*", body).group(0)


@pytest.fixture(scope="session")
def smtp_server():
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield controller
    controller.stop()


@pytest.fixture(scope="session")
def _app(smtp_server, tmp_path_factory):
    root = tmp_path_factory.mktemp("folio")

    class Config(TestingConfig):
        MAIL_SERVER = "127.0.0.1"
        MAIL_PORT = smtp_server.port
        STORAGE_PATH = str(root / "uploads")
        MAIL_OUTBOX_DIR = str(root / "outbox")
        # Jobs run in-process unless a test opts in with the ``redis_url`` fixture, so mail
        # reaches the SMTP server without a worker.
        REDIS_URL = None
        RQ_QUEUE = "folio-test"

    app = create_app(Config)
    app.test_client_class = FreshGlobalsClient
    with app.app_context():
        db.drop_all()
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.drop_all()


def _truncate_all() -> None:
    db.session.remove()
    with db.engine.begin() as connection:
        for table in reversed(db.metadata.sorted_tables):
            connection.execute(table.delete())


@pytest.fixture
def app(_app, smtp_server):
    """A clean database, an empty mailbox and fresh rate limits for every test."""
    with _app.app_context():
        _truncate_all()
        from webapp.cli import ensure_roles

        ensure_roles()
        db.session.commit()
    smtp_server.handler.clear()
    limiter.reset()
    ctx = _app.app_context()
    ctx.push()
    yield _app
    db.session.remove()
    ctx.pop()


@pytest.fixture
def redis_url(app):
    """Switch this test's app to the real Redis (``TEST_REDIS_URL``); skip without one."""
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        pytest.skip("TEST_REDIS_URL is not set (CI sets it for the PostgreSQL + Redis run)")
    from redis import Redis

    Redis.from_url(url).flushdb()
    app.config["REDIS_URL"] = url
    yield url
    app.config["REDIS_URL"] = None


class FreshGlobalsClient(FlaskClient):
    """Each request starts with an empty ``g``, as in production, where every request has an
    app context of its own. The ``app`` fixture keeps one context pushed for the whole test
    (so tests can use ``db.session``), and requests reuse it; without this, the user and CSRF
    token that Flask-Login and Flask-WTF cache in ``g`` would leak from one request into the next.
    """

    def open(self, *args, **kwargs):
        g.__dict__.clear()
        return super().open(*args, **kwargs)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def mailbox(smtp_server) -> Mailbox:
    return smtp_server.handler


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make_user(app):
    """Factory: a registered member (verified unless asked otherwise)."""
    from webapp.auth import service as auth
    from webapp.timeutil import utcnow

    counter = iter(range(1, 10_000))

    def make(
        email: str | None = None, password: str = PASSWORD, name: str = "Test Member", verified: bool = True, **changes
    ):
        email = email or f"member{next(counter)}@example.com"
        user = auth.register({"email": email, "password": password, "display_name": name}, send_mail=False)
        if verified:
            user.is_verified, user.verified_at = True, utcnow()
        for key, value in changes.items():
            setattr(user, key, value)
        db.session.commit()
        return user

    return make


@pytest.fixture
def auth(client) -> AuthActions:
    return AuthActions(client)


@pytest.fixture
def member(make_user, auth):
    """A signed-in member."""
    user = make_user()
    response = auth.login(user.email)
    assert response.status_code == 303, response.get_data(as_text=True)
    return user


@pytest.fixture
def signed_in_client(app):
    """Factory: ``signed_in_client(user, **login_args)``, another browser signed in as ``user``
    through the real sign-in page (for tests that need two browsers or two members)."""

    def sign_in(user, **login_args):
        browser = app.test_client()
        response = AuthActions(browser).login(user.email, **login_args)
        assert response.status_code == 303, response.get_data(as_text=True)
        return browser

    return sign_in


@pytest.fixture
def admin(make_user):
    """A staff member (role ``admin``), so that staff routes fail on what a test checks, not the role."""
    return make_staff(make_user(email="admin@example.com", name="Ada Admin"))


@pytest.fixture
def notices(caplog, monkeypatch):
    """``notices(user)``: what ``webapp.notify`` told the member during the test (it logs each
    notice). An Alembic run earlier in the session (``fileConfig``) disables loggers that
    already exist, so the notify logger is switched back on for the test."""
    import logging

    logger = logging.getLogger("folio.notify")
    monkeypatch.setattr(logger, "disabled", False)
    caplog.set_level(logging.INFO, logger="folio.notify")

    def told(user) -> list[str]:
        return [r.getMessage() for r in caplog.records if r.name == logger.name and f"user={user.id}" in r.getMessage()]

    return told
