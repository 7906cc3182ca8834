"""``GET /api/v1/health``: is the database reachable, and Redis if configured."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, jsonify

from webapp.api.endpoint import OPERATIONS, Operation
from webapp.extensions import db
from webapp.jobs import redis_connection

bp = Blueprint("health", __name__, url_prefix="/api/v1")

HEALTH_SCHEMA = {
    "type": "object",
    "required": ["status", "checks"],
    "properties": {
        "status": {"type": "string", "enum": ["ok", "degraded", "unavailable"]},
        "checks": {
            "type": "object",
            "properties": {
                "database": {"type": "string", "enum": ["ok", "unreachable"]},
                "redis": {"type": "string", "enum": ["ok", "unreachable", "not configured"]},
            },
        },
    },
}


def _database_state() -> str:
    try:
        db.session.execute(sa.text("SELECT 1"))
        return "ok"
    except Exception:  # any driver error means the same thing here: unreachable
        db.session.rollback()
        return "unreachable"


def _redis_state() -> str:
    try:
        connection = redis_connection()
        if connection is None:
            return "not configured"
        connection.ping()
        return "ok"
    except Exception:
        return "unreachable"


@bp.get("/health")
def health():
    """200 when the database answers, 503 when it does not; Redis is reported either way."""
    database, redis_state = _database_state(), _redis_state()
    status = "ok" if database == "ok" and redis_state != "unreachable" else "degraded"
    if database != "ok":
        status = "unavailable"
    body = {"status": status, "checks": {"database": database, "redis": redis_state}}
    return jsonify(body), 200 if database == "ok" else 503


# Health answers bare JSON (load balancers read it), so it is documented by hand.
OPERATIONS.append(
    Operation(
        method="GET",
        path="/api/v1/health",
        endpoint="health.health",
        summary="Service health",
        scope=None,
        tag="Health",
        public=True,
        raw_response=HEALTH_SCHEMA,
    )
)
