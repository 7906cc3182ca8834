"""The helpers every test module shares, in one place: sign-in and CSRF, API keys and staff,
the error shape, the documented operations, images, mail links, query counting, a worker's
environment. Fixtures (the app, clients, factories such as ``make_user`` and
``signed_in_client``) live in ``tests/conftest.py`` and build on these."""

from __future__ import annotations

import contextlib
import html
import io
import os
import re
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa

from webapp import storage
from webapp.api import scopes
from webapp.api.endpoint import OPERATIONS, Operation
from webapp.apikeys import service as apikeys
from webapp.auth.models import Role
from webapp.extensions import db

PASSWORD = "correct-horse-battery-staple"
NEW_PASSWORD = "purple-elephant-juggles-teacups"
ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


# --- Pages: CSRF, signing in, inline errors, mail links ----------------------------------------


def csrf_token(client, path: str = "/auth/login") -> str:
    """The CSRF token the page at ``path`` embeds (the session is kept by the client)."""
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        r'name="csrf_token" value="([^"]+)"', page
    )
    assert match, f"no CSRF token on {path}"
    return match.group(1)


class AuthActions:
    """Sign in and out through the real pages, CSRF included."""

    def __init__(self, client):
        self.client = client

    def login(self, email: str, password: str = PASSWORD, remember: bool = False, **kwargs):
        data = {"email": email, "password": password, "csrf_token": csrf_token(self.client)}
        if remember:
            data["remember"] = "y"
        return self.client.post("/auth/login", data=data, **kwargs)

    def logout(self):
        return self.client.post("/auth/logout", data={"csrf_token": self.csrf()})

    def csrf(self, path: str = "/settings") -> str:
        return csrf_token(self.client, path)

    def headers(self, path: str = "/settings") -> dict[str, str]:
        """Headers for a cookie-authenticated JSON write."""
        return {"X-CSRFToken": self.csrf(path)}


def field_error(page: str, field_id: str) -> str | None:
    """The inline error text shown next to the field ``field_id``, or None."""
    match = re.search(rf'<p class="error" id="{re.escape(field_id)}-error">(.*?)</p>', page)
    return html.unescape(match.group(1)) if match else None


def path_of(link: str) -> str:
    """The path (and query) of an absolute link from a mail, for the test client."""
    parts = urlsplit(link)
    return parts.path + (f"?{parts.query}" if parts.query else "")


# --- The profile pages and the avatar ---------------------------------------------------------

FULL_PROFILE = {
    "display_name": "Ana Silva",
    "first_name": "Ana",
    "last_name": "Silva",
    "phone": "+14155550123",
    "bio": "I shoot honest portraits.",
    "company": "Silva Studio",
    "job_title": "Photographer",
    "location": "Porto",
    "website": "https://ana.example.com",
    "linkedin_username": "ana-silva",
    "github_username": "anasilva",
    "twitter_username": "ana_silva",
    "slug": "ana-silva",
    "categories": "Fashion, Travel",
    "budget_min": "500",
    "budget_max": "5000",
}


def post_profile(client, **changes):
    data = {**FULL_PROFILE, **changes, "csrf_token": csrf_token(client, "/profile")}
    return client.post("/profile", data=data)


def post_cv(client, rows: dict[str, str]):
    data = {"form": "cv", "csrf_token": csrf_token(client, "/profile"), **rows}
    return client.post("/profile/cv", data=data)


def png_bytes(size=(64, 64), color=(200, 80, 80), fmt="PNG", **save_args) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format=fmt, **save_args)
    return buffer.getvalue()


def upload_page(client, data: bytes, filename: str = "me.png"):
    return client.post(
        "/profile/avatar",
        data={"avatar": (io.BytesIO(data), filename), "csrf_token": csrf_token(client, "/profile")},
        content_type="multipart/form-data",
    )


def upload_api(client, auth, data: bytes, filename: str = "me.png"):
    return client.post(
        "/api/v1/profile/avatar",
        data={"avatar": (io.BytesIO(data), filename)},
        headers=auth.headers(),
        content_type="multipart/form-data",
    )


def stored_avatar(member) -> tuple[str, bytes]:
    db.session.expire_all()
    url = member.profile.avatar_url
    key = storage.key_from_url(url)
    return key, storage.read(key)


# --- The API: tokens, keys, staff, the error shape, the operations ----------------------------


def api_tokens(client, email: str, password: str = PASSWORD, path: str = "/api/v1/auth/login") -> dict:
    """Sign in without a browser: the ``accessToken``/``refreshToken`` pair."""
    response = client.post(path, json={"email": email, "password": password})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["data"]


def me(client, access: str):
    return client.get("/api/v1/auth/me", headers=bearer(access))


def registered_operations() -> list[Operation]:
    """Every documented operation of the app: registering the domains imports the modules that
    fill ``OPERATIONS``, so a new domain's routes join these tests without being listed here."""
    from flask import Flask

    from webapp import register_domains
    from webapp.config import TestingConfig

    collector = Flask("collect")  # importing is idempotent; a throwaway app keeps it side-effect free
    collector.config.from_object(TestingConfig)
    register_domains(collector)
    return [op for op in OPERATIONS if op.endpoint in collector.view_functions]


def op_id(op: Operation) -> str:
    return f"{op.method} {op.path}"


def make_key(user, permissions=None, **fields) -> tuple[Any, str]:
    """A key for ``user`` (every scope the member may grant, unless told) and its secret."""
    data = {
        "name": fields.pop("name", "Test key"),
        "permissions": list(scopes.available_to(user)) if permissions is None else permissions,
        **fields,
    }
    key, secret = apikeys.create_key(user, data)
    db.session.commit()  # services flush; the factory is its own unit of work
    return key, secret


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def make_staff(user, role: str = "admin"):
    user.role = db.session.scalar(sa.select(Role).where(Role.name == role))
    db.session.commit()
    return user


def assert_json_error(response, status: int, code: str | None = None) -> dict:
    """DESIGN.md's error body (never HTML), with the expected status and code."""
    text = response.get_data(as_text=True)
    assert response.status_code == status, text
    assert response.mimetype == "application/json", text
    assert "<html" not in text
    error = response.get_json()["error"]
    assert set(error) == {"code", "message", "details"}
    assert isinstance(error["details"], dict) and error["message"]
    if code is not None:
        assert error["code"] == code, error
    return error


def path_params(op: Operation) -> list[str]:
    from webapp.api.openapi import PATH_PARAM

    return PATH_PARAM.findall(op.path)


def fill(path: str, **values: str) -> str:
    """``/users/<user_id>`` with ``user_id`` filled in."""
    from webapp.api.openapi import PATH_PARAM

    return PATH_PARAM.sub(lambda m: str(values[m.group(1)]), path)


RATE_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")


def assert_rate_headers(response) -> None:
    for header in RATE_HEADERS:
        assert header in response.headers, (header, dict(response.headers))


# --- The database and the process ---------------------------------------------------------


def table_counts(*, ignore: tuple[str, ...] = ()) -> dict[str, int]:
    """Rows per table; ``ignore`` leaves out tables a refused call writes anyway (the API-call
    count in ``usage_metrics``)."""
    return {
        table.name: db.session.scalar(sa.select(sa.func.count()).select_from(table))
        for table in db.metadata.sorted_tables
        if table.name not in ignore
    }


def is_postgres() -> bool:
    return db.engine.dialect.name == "postgresql"


@contextlib.contextmanager
def count_queries():
    """The SQL statements run inside the block."""
    statements: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", before)


def worker_env(smtp_port: int, queue: str, redis_url: str) -> dict[str, str]:
    """The environment a production worker gets: its app is built by create_app() from it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "MAIL_"))}
    env.update(
        FOLIO_ENV="production",
        SECRET_KEY="test-secret-key",
        DATABASE_URL=os.environ.get("TEST_DATABASE_URL") or "sqlite://",
        REDIS_URL=redis_url,
        RQ_QUEUE=queue,
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=str(smtp_port),
        FLASK_APP="wsgi",
        PYTHONPATH=str(ROOT),
    )
    return env
