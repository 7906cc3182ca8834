"""Where uploaded files live. One small interface; the local folder is the default backend."""

from __future__ import annotations

from pathlib import Path

from flask import current_app, url_for
from werkzeug.utils import safe_join


def _root() -> Path:
    root = Path(current_app.config["STORAGE_PATH"])
    root.mkdir(parents=True, exist_ok=True)
    return root


def _path(key: str) -> Path:
    joined = safe_join(str(_root()), key)
    if joined is None:
        raise ValueError(f"unsafe storage key: {key!r}")
    return Path(joined)


def save(key: str, data: bytes) -> str:
    """Store ``data`` under ``key`` and return the URL it is served from."""
    path = _path(key)
    for attempt in range(2):
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            path.write_bytes(data)
            break
        except FileNotFoundError:  # a delete() just pruned the empty folder: make it again
            if attempt:
                raise
    return url(key)


def delete(key: str) -> None:
    """Remove ``key`` if present (a missing file is not an error), then the folders it leaves
    empty, up to but never including the storage root (``avatars/<user-id>/`` goes with the
    member's last photo)."""
    root = _root().resolve()
    path = _path(key)
    path.unlink(missing_ok=True)
    folder = path.parent.resolve()
    while folder != root and folder.is_relative_to(root):
        try:
            folder.rmdir()  # only ever succeeds on an empty folder
        except OSError:  # not empty (another file, or one saved meanwhile), or already gone
            if folder.exists():
                break
        folder = folder.parent


def exists(key: str) -> bool:
    return _path(key).is_file()


def read(key: str) -> bytes:
    return _path(key).read_bytes()


def url(key: str) -> str:
    return url_for("media.serve", key=key)


def key_from_url(value: str | None) -> str | None:
    """The storage key behind a URL this module produced, or None for outside URLs."""
    prefix = current_app.config["STORAGE_URL_PREFIX"] + "/"
    if value and value.startswith(prefix):
        return value.removeprefix(prefix)
    return None


def root() -> Path:
    """The local folder, for the route that serves files."""
    return _root()


def absolute_url(value: str | None) -> str | None:
    """A stored file's URL on ``BASE_URL``, for API clients that cannot resolve relative ones."""
    if value and value.startswith("/"):
        return current_app.config["BASE_URL"].rstrip("/") + value
    return value
