"""Bridging service validation errors onto WTForms fields."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from flask_wtf import FlaskForm
from wtforms import Field, FieldList, Form, FormField, SelectChoice

from webapp.errors import ServiceError


def apply_errors(form: FlaskForm, error: ServiceError, *, entries: Mapping[str, Sequence[int]] | None = None) -> None:
    """Show each ``details`` entry next to its field; the rest becomes a form-level error.

    Services name fields the way the API does, so a path may be dotted (``experience.1.title``):
    it walks into lists by position and into subforms by name. ``entries`` maps a list's path to
    the form entry behind each item the service saw, for forms that leave empty rows out of what
    they send (see ``CVForm.kept_rows``); without it, positions are the form's own.
    """
    details = error.details or {}
    unplaced = []
    for path, messages in details.items():
        field = find_field(form, path, entries or {})
        if field is not None:
            field.errors = list(field.errors or []) + list(messages)
        elif not _summarised_below(form, path, details, entries or {}):
            unplaced.extend(_labelled(form, path, messages))
    if unplaced or not error.details:
        form.form_errors.extend(unplaced or [error.message])


def _summarised_below(form: Form, path: str, details: Mapping[str, Any], entries: Mapping[str, Sequence[int]]) -> bool:
    """A list's summary ("Check experience entries 2 and 3.") whose rows' own errors are shown
    inside them: the page shows each error once, where it is, so the summary is left out."""
    prefix = path + "."
    return any(key.startswith(prefix) and find_field(form, key, entries) is not None for key in details)


def find_field(form: Form, path: str, entries: Mapping[str, Sequence[int]] | None = None) -> Field | None:
    """The input field ``path`` names, or None for an unknown path or a whole list or subform,
    which have no place of their own on the page to show an error."""
    node: Any = form
    walked: list[str] = []
    for part in path.split("."):
        node = _child(node, part, (entries or {}).get(".".join(walked)))
        if node is None:
            return None
        walked.append(part)
    is_input = isinstance(node, Field) and not isinstance(node, (FieldList, FormField))
    return node if is_input else None


def _child(node: Any, part: str, positions: Sequence[int] | None) -> Any:
    if isinstance(node, FieldList):
        if not part.isdigit():
            return None
        index = int(part)
        if positions is not None:
            index = positions[index] if index < len(positions) else len(node.entries)
        return node.entries[index] if index < len(node.entries) else None
    if isinstance(node, FormField):
        node = node.form
    return node._fields.get(part) if isinstance(node, Form) else None


def _labelled(form: Form, path: str, messages: Iterable[str]) -> list[str]:
    """Messages about a whole list or subform, prefixed with its label so they read on their own."""
    field = form._fields.get(path.split(".")[0])
    if field is None or not isinstance(field, (FieldList, FormField)):
        return list(messages)
    return [f"{field.label.text}: {message}" for message in messages]


def choices(pairs: Iterable[tuple[Any, str]]) -> list[SelectChoice]:
    """``(value, label)`` pairs as WTForms choices (tuples are deprecated since WTForms 3.3)."""
    return [SelectChoice(value, label) for value, label in pairs]
