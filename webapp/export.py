"""The account export: a zip with one JSON file per domain.

Domains add their own files with ``@exporter("name.ext")`` in ``webapp/<domain>/export.py``,
which the domain's ``init_app`` imports: the function receives the member's id and returns
bytes, a JSON-serialisable value, or None to leave the file out. ``@before_export``
functions run first (the usage buffer is written that way). Decimals are written as strings,
exactly as stored. Later issues plug in (ledger CSV, ICS).
"""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from webapp.timeutil import utcnow

Exporter = Callable[[uuid.UUID], Any]
_EXPORTERS: dict[str, Exporter] = {}
_BEFORE_EXPORT: list[Callable[[], None]] = []


def exporter(filename: str) -> Callable[[Exporter], Exporter]:
    """Register a function that contributes ``filename`` to every export."""

    def register(func: Exporter) -> Exporter:
        _EXPORTERS[filename] = func
        return func

    return register


def before_export(func: Callable[[], None]) -> Callable[[], None]:
    """Register a function that runs before any exporter, e.g. to write buffered data, so
    that every file of the archive reads the same, current rows."""
    if func not in _BEFORE_EXPORT:
        _BEFORE_EXPORT.append(func)
    return func


def _json_default(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Decimal):
        return str(value)  # exact, as stored ("12.50"); a float would round larger amounts
    raise TypeError(f"cannot export {type(value).__name__}")


def row_dict(row: Any, exclude: tuple[str, ...] = ()) -> dict[str, Any]:
    """Every mapped column of ``row`` by attribute name, minus ``exclude``."""
    mapper = sa.inspect(type(row))
    return {attr.key: getattr(row, attr.key) for attr in mapper.column_attrs if attr.key not in exclude}


def build_zip(user_id: uuid.UUID) -> bytes:
    """The export archive for one member; the manifest lists the files it holds."""
    for prepare in _BEFORE_EXPORT:
        prepare()
    files = {}
    for filename, func in sorted(_EXPORTERS.items()):
        content = func(user_id)
        if content is None:
            continue
        if not isinstance(content, bytes):
            content = json.dumps(content, default=_json_default, indent=2).encode()
        files[filename] = content
    manifest = {"generated_at": utcnow(), "user_id": user_id, "files": sorted(files)}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps(manifest, default=_json_default, indent=2))
        for filename, content in files.items():
            archive.writestr(filename, content)
    return buffer.getvalue()
