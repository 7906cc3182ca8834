"""The route that serves files the storage module saved."""

from __future__ import annotations

from flask import Blueprint, send_from_directory

from webapp import storage

bp = Blueprint("media", __name__, url_prefix="/media")


@bp.get("/<path:key>")
def serve(key: str):
    """A stored file, cached for a long time: keys are never reused."""
    response = send_from_directory(storage.root(), key, max_age=31536000)
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
