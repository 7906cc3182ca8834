"""Form helpers: service errors onto WTForms fields, choices, and a select drawn once per process."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import Field, FieldList, Form, FormField, SelectChoice, SelectField, widgets

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


class CachedSelect(widgets.Select):
    """A ``<select>`` whose options are rendered once per distinct list of choices.

    WTForms renders every option through ``Markup.format`` on every request; the settings
    page's 418 time zones made that alone about half of the page's time. Here the options are
    drawn once per process (the lists are the same for everyone), and a request only marks the
    selected one. Choices must be ``SelectChoice``s without ``render_kw`` (what ``choices()`` gives).
    """

    def __call__(self, field: SelectField, **kwargs: Any) -> Markup:
        kwargs.setdefault("id", field.id)
        if field.flags.required and "required" not in kwargs:
            kwargs["required"] = True
        options, positions = _options_for(field.choices)
        selected = positions.get(str(field.data))
        parts = list(options)
        if selected is not None:
            parts[selected] = parts[selected].replace("<option ", "<option selected ", 1)
        # Safe: html_params escapes the attributes and _rendered_options escaped every option.
        select = f"<select {html_params(name=field.name, **kwargs)}>{''.join(parts)}</select>"
        return Markup(select)  # noqa: S704


# Lists of choices met before, by the identity of their items: the time zones are the same
# SelectChoice objects on every request (built once per process), so finding their options
# costs a tuple of ids instead of reading 418 choices. Each entry holds its choices, so no id
# in a key can be reused by another object while the entry lives.
_BY_IDENTITY: dict[tuple[int, ...], tuple[tuple[Any, ...], tuple[tuple[str, ...], dict[str, int]]]] = {}
_BY_IDENTITY_MAX = 64


def _options_for(field_choices: Sequence[Any]) -> tuple[tuple[str, ...], dict[str, int]]:
    identity = tuple(map(id, field_choices))
    known = _BY_IDENTITY.get(identity)
    if known is not None:
        return known[1]
    drawn = _rendered_options(tuple((str(c.value), c.label, c.optgroup) for c in field_choices))
    if len(field_choices) >= 50:  # short lists are cheap to key by value; long ones repeat
        if len(_BY_IDENTITY) >= _BY_IDENTITY_MAX:
            _BY_IDENTITY.clear()
        _BY_IDENTITY[identity] = (tuple(field_choices), drawn)
    return drawn


@functools.lru_cache(maxsize=256)
def _rendered_options(key: tuple[tuple[str, str, str | None], ...]) -> tuple[tuple[str, ...], dict[str, int]]:
    """The options' HTML (optgroups opened and closed) and where each value's option sits."""
    parts: list[str] = []
    positions: dict[str, int] = {}
    group: str | None = None
    for value, label, optgroup in key:
        if optgroup != group:
            if group is not None:
                parts.append("</optgroup>")
            if optgroup is not None:
                parts.append(f'<optgroup label="{escape(optgroup)}">')
            group = optgroup
        positions.setdefault(value, len(parts))
        parts.append(f'<option value="{escape(value)}">{escape(label or value)}</option>')
    if group is not None:
        parts.append("</optgroup>")
    return tuple(parts), positions


# --- Field rendering -------------------------------------------------------------------------
# WTForms draws each attribute through ``Markup.format`` (string.Formatter in pure Python); on
# the profile page that was two thirds of the time. The same attributes, sorted and escaped the
# same way, are drawn here with plain f-strings; the HTML is identical (tests/platform/test_forms.py
# compares every field of every form with WTForms' own output).


def _esc(value: Any) -> str:
    """``str(markupsafe.escape(value))``, with a fast path for plain strings (most values): the
    same five replacements markupsafe makes, without building a Markup object for each."""
    if type(value) is str:
        return (
            value.replace("&", "&amp;")
            .replace(">", "&gt;")
            .replace("<", "&lt;")
            .replace("'", "&#39;")
            .replace('"', "&#34;")
        )
    return str(escape(value))


def html_params(**kwargs: Any) -> str:
    """``wtforms.widgets.html_params``, without the formatter: same order, escaping and output."""
    parts = []
    for key, value in sorted(kwargs.items()):
        key = widgets.core.clean_key(key)
        if value is True:
            parts.append(key)
        elif value is not False:
            parts.append(f'{key}="{_esc(value)}"')
    return " ".join(parts)


def _validation_attrs(widget: Any, field: Field, kwargs: dict[str, Any]) -> None:
    """The field's flags that the widget turns into attributes (required, maxlength, …).

    WTForms walks ``dir(field.flags)`` for this on every input, which is slow; the flags a
    field was given live in the instance's ``__dict__``, which is what is walked here."""
    flags = getattr(field, "flags", None)
    if flags is None:
        return
    for key, value in vars(flags).items():
        if key in widget.validation_attrs and key not in kwargs:
            kwargs[key] = value() if callable(value) else value


def _password(widget: Any, field: Field, kwargs: dict[str, Any]) -> None:
    if widget.hide_value:
        kwargs["value"] = ""


def _checkbox(widget: Any, field: Field, kwargs: dict[str, Any]) -> None:
    if getattr(field, "checked", field.data):
        kwargs.setdefault("checked", True)


def _radio(widget: Any, field: Field, kwargs: dict[str, Any]) -> None:
    if field.checked:
        kwargs.setdefault("checked", True)


def _number(widget: Any, field: Field, kwargs: dict[str, Any]) -> None:
    for name in ("step", "min", "max"):
        if getattr(widget, name) is not None:
            kwargs.setdefault(name, getattr(widget, name))


def _no_step(widget: Any, field: Field, kwargs: dict[str, Any]) -> None:
    return None


def _draw_input(widget: Any, field: Field, kwargs: dict[str, Any]) -> Markup:
    """``wtforms.widgets.Input.__call__`` (after its subclass's own step), same output."""
    kwargs.setdefault("id", field.id)
    kwargs.setdefault("type", widget.input_type)
    if "value" not in kwargs:
        kwargs["value"] = field._value()
    datalist = getattr(field, "_datalist", None)
    if datalist is not None and "list" not in kwargs:
        kwargs["list"] = datalist if isinstance(datalist, str) else datalist.id
    _validation_attrs(widget, field, kwargs)
    return Markup(f"<input {html_params(name=field.name, **kwargs)}>")  # noqa: S704 (html_params escapes)


def _draw_textarea(widget: Any, field: Field, kwargs: dict[str, Any]) -> Markup:
    """``wtforms.widgets.TextArea.__call__``, same output."""
    kwargs.setdefault("id", field.id)
    _validation_attrs(widget, field, kwargs)
    text = _esc(field._value())
    return Markup(f"<textarea {html_params(name=field.name, **kwargs)}>\r\n{text}</textarea>")  # noqa: S704


# Each WTForms widget class drawn here: the step its own ``__call__`` takes before
# ``Input.__call__`` (WTForms 3.3's widgets), and the drawing. Widgets not listed (selects,
# radio lists, files) and subclasses of these are drawn by WTForms itself.
_FAST_WIDGETS: dict[type, tuple[Callable[..., None], Callable[..., Markup]]] = {
    widgets.TextInput: (_no_step, _draw_input),
    widgets.PasswordInput: (_password, _draw_input),
    widgets.HiddenInput: (_no_step, _draw_input),
    widgets.CheckboxInput: (_checkbox, _draw_input),
    widgets.RadioInput: (_radio, _draw_input),
    widgets.EmailInput: (_no_step, _draw_input),
    widgets.URLInput: (_no_step, _draw_input),
    widgets.TelInput: (_no_step, _draw_input),
    widgets.NumberInput: (_number, _draw_input),
    widgets.SearchInput: (_no_step, _draw_input),
    widgets.DateInput: (_no_step, _draw_input),
    widgets.MonthInput: (_no_step, _draw_input),
    widgets.TextArea: (_no_step, _draw_textarea),
}


class FastRendering:
    """A form ``Meta`` that draws common widgets itself (same HTML as WTForms)."""

    def render_field(self, field: Field, render_kw: dict[str, Any]) -> Markup:
        widget = field.widget
        fast = _FAST_WIDGETS.get(type(widget))
        if fast is None:
            return super().render_field(field, render_kw)
        step, draw = fast
        own = field.render_kw
        merged = {**own, **render_kw} if own else render_kw
        kwargs = {widgets.core.clean_key(k): v for k, v in merged.items()}
        step(widget, field, kwargs)
        return draw(widget, field, kwargs)


# --- Field blocks --------------------------------------------------------------------------
# A page's fields are drawn with their label, hint and error, tied to the input with aria
# attributes. As Jinja macros these were a third of the profile page's time (a macro call, a
# dozen ``set``s and attribute lookups per field); the same markup is built here in Python and
# offered to templates as the globals ``field`` and ``checkbox`` (``register_form_helpers``).


def _hint_and_error(f: Field, hint: Any) -> tuple[Any, list[str], dict[str, Any]]:
    """The hint shown, the ids the input is described by, and the aria attributes it gets."""
    shown = hint or f.description
    describedby = []
    if shown:
        describedby.append(f"{f.id}-hint")
    if f.errors:
        describedby.append(f"{f.id}-error")
    attrs: dict[str, Any] = {}
    if describedby:
        attrs["aria-describedby"] = " ".join(describedby)
    if f.errors:
        attrs["aria-invalid"] = "true"
    return shown, describedby, attrs


def _hint_html(f: Field, shown: Any) -> str:
    return f'<p class="hint" id="{_esc(f.id)}-hint">{_esc(shown)}</p>' if shown else ""


def _error_html(f: Field) -> str:
    if not f.errors:
        return ""
    return f'<p class="error" id="{_esc(f.id)}-error">{" ".join(_esc(e) for e in f.errors)}</p>'


def field_block(f: Field, class_: str = "", hint: Any = None, **kwargs: Any) -> Markup:
    """A labelled field: ``<div class="field">`` with its label, input, hint and error.

    ``class_`` adds classes to the block (``class`` in templates: ``field(f, class='wide')``);
    ``hint`` replaces the field's description. WTForms renders a None value as the text
    "None", so only the attributes that apply are set."""
    class_ = kwargs.pop("class", class_)
    if kwargs:
        raise TypeError(f"field() got unexpected arguments: {', '.join(kwargs)}")
    shown, _, attrs = _hint_and_error(f, hint)
    if f.flags.required:
        attrs["required"] = True
    extra = _esc(class_) if class_ else ""
    classes = " ".join(c for c in ("field", extra, "has-error" if f.errors else "") if c)
    html = (
        f'<div class="{classes}">\n'
        f'    <label class="label" for="{_esc(f.id)}">{_esc(f.label.text)}</label>\n'
        f"    {f(**attrs)}\n"
        + "".join(f"    {part}\n" for part in (_hint_html(f, shown), _error_html(f)) if part)
        + "  </div>"
    )
    return Markup(html)  # noqa: S704 (every value above is escaped or already Markup)


def checkbox_block(f: Field) -> Markup:
    """A checkbox with its label (and hint and error) beside it: ``<div class="check">``."""
    shown, _, attrs = _hint_and_error(f, None)
    classes = "check has-error" if f.errors else "check"
    inner = "".join(f"      {part}\n" for part in (_hint_html(f, shown), _error_html(f)) if part)
    html = (
        f'<div class="{classes}">\n'
        f"    {f(**attrs)}\n"
        "    <div>\n"
        f'      <label for="{_esc(f.id)}">{_esc(f.label.text)}</label>\n'
        f"{inner}"
        "    </div>\n"
        "  </div>"
    )
    return Markup(html)  # noqa: S704 (every value above is escaped or already Markup)


def _target_id(f: Field) -> str:
    """The element a field's error leads to: radios have no element with the field's own id."""
    return f"{f.id}-0" if f.type == "RadioField" else f.id


def _problems(form: Form) -> list[tuple[str, str]]:
    """(label, target id) of every field with an error, in page order. Rows of a FieldList of
    FormFields are named by list and position ("Experience 2: Role"); hidden fields and the
    CSRF token are left out."""
    problems = []
    for f in form:
        if f.type in ("CSRFTokenField", "HiddenField"):
            continue
        if f.type == "FieldList":
            for index, entry in enumerate(f, start=1):
                position = f"{f.label.text} {index}"
                if entry.type == "FormField":
                    problems += [(f"{position}: {sub.label.text}", _target_id(sub)) for sub in entry.form if sub.errors]
                elif entry.errors:
                    problems.append((position, _target_id(entry)))
        elif f.type == "FormField":
            problems += [(f"{f.label.text}: {sub.label.text}", _target_id(sub)) for sub in f.form if sub.errors]
        elif f.errors:
            problems.append((f.label.text, _target_id(f)))
    return problems


def error_summary_block(form: Form) -> Markup:
    """A refused form's summary, for the top of that form: how many fields need fixing, each
    a link to its field (static/js/app.js moves focus there). Nothing when no field has an error."""
    problems = _problems(form)
    if not problems:
        return Markup("")
    count = len(problems)
    links = "".join(f'<li><a href="#{_esc(target)}">{_esc(label)}</a></li>' for label, target in problems)
    return Markup(  # noqa: S704 (labels and ids are escaped)
        '<div class="alert alert-error error-summary" role="alert">\n'
        f'    <p class="error-summary-title">Please fix {count} field{"s" if count != 1 else ""}</p>\n'
        f"    <ul>\n      {links}\n    </ul>\n"
        "  </div>"
    )


def register_form_helpers(app: Any) -> None:
    """``field``, ``checkbox`` and ``error_summary`` for every template."""
    app.jinja_env.globals.update(field=field_block, checkbox=checkbox_block, error_summary=error_summary_block)


class FolioForm(FlaskForm):
    """Every page form: CSRF from Flask-WTF, fields drawn by ``FastRendering``."""

    class Meta(FastRendering):
        pass


class FolioSubform(Form):
    """A form nested in another (``FormField``): rows of a list, drawn the same fast way."""

    class Meta(FastRendering):
        pass


def shaped_by(contract: Any) -> Any:
    """A class decorator: the form's text inputs take their length limit (``maxlength``) from the
    contract their values go to, field by field of the same name, so the page cannot offer more
    than the rule accepts and no number is written twice. The contract's words stay the judge:
    nothing else is enforced in the browser."""
    from wtforms.fields.core import UnboundField

    from webapp.contracts import inline_json_schema

    properties = inline_json_schema(contract).get("properties", {})

    def decorate(form_class: type) -> type:
        for name, unbound in vars(form_class).items():
            limit = properties.get(name, {}).get("maxLength")
            if isinstance(unbound, UnboundField) and limit is not None:
                render_kw = dict(unbound.kwargs.get("render_kw") or {})
                render_kw.setdefault("maxlength", limit)
                unbound.kwargs["render_kw"] = render_kw
        return form_class

    return decorate
