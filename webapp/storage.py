"""Where uploaded files live. One small interface; the local folder is the default backend.

Files follow the database transaction that points rows at them: ``discard_unless_committed``
and ``delete_after_commit`` act when the session commits or ends without committing, so a
rollback never deletes a file a row still points to, and a commit never leaves one behind.
"""

from __future__ import annotations

import functools
import logging
import shutil
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa
from flask import current_app, url_for
from sqlalchemy.orm import Session, SessionTransaction
from werkzeug.utils import safe_join

from webapp.extensions import db

log = logging.getLogger(__name__)


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


def delete_folder(folder: str) -> None:
    """Remove ``folder`` and everything in it (a member's own folder, when the member goes)."""
    path = _path(folder)
    if path.resolve() == _root().resolve():
        raise ValueError("the storage root is not a folder to delete")
    shutil.rmtree(path, ignore_errors=True)


# --- Files that follow the transaction ---------------------------------------------------------

_ON_COMMIT = "storage.on_commit"  # actions for after the commit
_UNLESS_COMMITTED = "storage.unless_committed"  # actions for a transaction that ends otherwise


def _when(slot: str, action: Callable[[], None]) -> None:
    session = db.session()
    if not session.in_transaction():
        session.begin()  # so that the transaction's end, whichever it is, is seen
    session.info.setdefault(slot, []).append(action)


def discard_unless_committed(key: str) -> None:
    """The file just saved under ``key`` goes again unless this transaction commits (a rollback,
    a refusal or a crash before the commit leaves no orphan behind)."""
    _when(_UNLESS_COMMITTED, functools.partial(delete, key))


def delete_after_commit(key: str) -> None:
    """Remove ``key`` once this transaction commits; after a rollback the file stays, as the row
    that points to it does."""
    _when(_ON_COMMIT, functools.partial(delete, key))


def delete_folder_after_commit(folder: str) -> None:
    _when(_ON_COMMIT, functools.partial(delete_folder, folder))


def _run(actions: list[Callable[[], None]]) -> None:
    for action in actions:
        try:
            action()
        except OSError:  # the commit stands; a file left behind is logged, not turned into a 500
            log.exception("Could not remove a stored file")


@sa.event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint released: the outer transaction may still fail
        return
    session.info.pop(_UNLESS_COMMITTED, None)
    _run(session.info.pop(_ON_COMMIT, []))


@sa.event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    """The transaction ended without a commit (rollback, close, failed commit): new files go,
    replaced ones stay. After a commit, ``_after_commit`` has already emptied both lists."""
    if transaction.parent is None:
        session.info.pop(_ON_COMMIT, None)
        _run(session.info.pop(_UNLESS_COMMITTED, []))


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
