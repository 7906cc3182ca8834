"""Bridging service validation errors onto WTForms fields."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_wtf import FlaskForm
from wtforms import SelectChoice

from webapp.errors import ServiceError


def apply_errors(form: FlaskForm, error: ServiceError) -> None:
    """Show each ``details`` entry next to its field; the rest becomes a form-level error."""
    unplaced = []
    for name, messages in (error.details or {}).items():
        field = getattr(form, name, None)
        if field is not None and hasattr(field, "errors"):
            field.errors = list(field.errors or []) + list(messages)
        else:
            unplaced.extend(messages)
    if unplaced or not error.details:
        form.form_errors.extend(unplaced or [error.message])


def choices(pairs: Iterable[tuple[Any, str]]) -> list[SelectChoice]:
    """``(value, label)`` pairs as WTForms choices (tuples are deprecated since WTForms 3.3)."""
    return [SelectChoice(value, label) for value, label in pairs]
