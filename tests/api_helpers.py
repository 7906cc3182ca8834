"""Helpers shared by the API platform tests: keys, staff, the error shape, the operations."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from webapp.api import scopes
from webapp.api.endpoint import OPERATIONS, Operation
from webapp.apikeys import service as apikeys
from webapp.auth.models import Role
from webapp.extensions import db


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
