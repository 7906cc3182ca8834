"""``apply_errors``: service error paths (dotted like the API's) shown on the right fields."""

from __future__ import annotations

import re

import pytest
from werkzeug.datastructures import MultiDict
from wtforms import FieldList, Form, FormField, RadioField, StringField

from webapp.errors import ValidationFailed
from webapp.forms import apply_errors, choices, find_field


class Row(Form):
    title = StringField("Role")


class Document(Form):
    headline = StringField("Headline")
    experience = FieldList(FormField(Row))


@pytest.fixture
def form():
    """Rows 0, 3 and 5 came from the browser (rows between were removed there)."""
    data = MultiDict({"experience-0-title": "A", "experience-3-title": "", "experience-5-title": "C"})
    return Document(formdata=data)


def failed(details: dict) -> ValidationFailed:
    return ValidationFailed("Some fields need your attention.", details=details)


def test_dotted_path_walks_lists_and_subforms(form):
    apply_errors(form, failed({"headline": ["Too long."], "experience.2.title": ["Required."]}))
    assert form.headline.errors == ["Too long."]
    assert [list(entry.form.title.errors) for entry in form.experience] == [[], [], ["Required."]]
    assert form.form_errors == []


def test_entries_map_the_services_positions_to_form_rows(form):
    """The form sent rows 0 and 2 (the blank one left out): the service's item 1 is form row 2."""
    apply_errors(form, failed({"experience.1.title": ["Required."]}), entries={"experience": [0, 2]})
    assert [list(entry.form.title.errors) for entry in form.experience] == [[], [], ["Required."]]


@pytest.mark.parametrize(
    "path, expected",
    [
        ("experience", "Experience: Entry 2, role: Required."),  # a whole list has no place of its own
        ("experience.7.title", "Experience: Entry 2, role: Required."),  # no such row
        ("experience.x.title", "Experience: Entry 2, role: Required."),
        ("experience.0", "Experience: Entry 2, role: Required."),  # a whole row
        ("experience.0.nope", "Experience: Entry 2, role: Required."),
        ("body", "Entry 2, role: Required."),  # not a field at all
        ("validate", "Entry 2, role: Required."),  # a form attribute is not a field
    ],
)
def test_paths_without_a_field_become_form_errors(form, path, expected):
    apply_errors(form, failed({path: ["Entry 2, role: Required."]}))
    assert form.form_errors == [expected]
    assert all(not entry.form.title.errors for entry in form.experience)


def test_list_summary_is_left_out_when_its_rows_show_their_errors(form):
    """The CV once showed each row error twice: inline, and again in the list's raw summary."""
    details = {"experience": ["Check experience entry 2."], "experience.1.title": ["Required."]}
    apply_errors(form, failed(details))
    assert form.form_errors == []
    assert list(form.experience[1].form.title.errors) == ["Required."]


def test_list_summary_stays_when_no_row_error_can_be_placed(form):
    apply_errors(form, failed({"experience": ["Check experience entry 9."], "experience.8.title": ["Required."]}))
    assert form.form_errors == ["Experience: Check experience entry 9.", "Experience: Required."]


def test_service_error_without_details_is_a_form_error(form):
    apply_errors(form, ValidationFailed("Try again later."))
    assert form.form_errors == ["Try again later."]


def test_find_field_out_of_range_mapping(form):
    assert find_field(form, "experience.5.title", {"experience": [0, 1]}) is None
    assert find_field(form, "experience.1.title", {"experience": [0, 1]}) is form.experience[1].form.title


# --- The error summary, as templates draw it (the global ``error_summary``) ------------------


class Choices(Form):
    size = RadioField("Size", choices=choices([("s", "Small"), ("l", "Large")]))
    name = StringField("Name")


def summary(app, form) -> str:
    template = app.jinja_env.from_string("{{ error_summary(form) }}")
    return template.render(form=form)


def test_error_summary_lists_each_invalid_field_as_a_link(app, form):
    apply_errors(form, failed({"headline": ["Too long."], "experience.1.title": ["Required."]}))
    html = summary(app, form)
    assert 'role="alert"' in html and "Please fix 2 fields" in html
    links = re.findall(r'<a href="#([^"]+)">([^<]+)</a>', html)
    # Rows are named by their place on the page; the link goes to the id the row's field renders with.
    assert links == [("headline", "Headline"), (form.experience[1].form.title.id, "Experience 2: Role")]


def test_error_summary_counts_one_field_in_the_singular(app, form):
    apply_errors(form, failed({"headline": ["Too long."]}))
    assert "Please fix 1 field<" in summary(app, form)


def test_error_summary_is_absent_without_field_errors(app, form):
    assert summary(app, form).strip() == ""
    apply_errors(form, failed({}))  # a form-level error only: form_errors() shows it
    assert summary(app, form).strip() == ""


def test_error_summary_links_radios_to_their_first_option(app):
    form = Choices(formdata=MultiDict({"size": "x"}))
    form.validate()
    assert form.size.errors
    assert '<a href="#size-0">Size</a>' in summary(app, form)


def _options(html: str) -> list[tuple[str | None, str, bool, str]]:
    """(optgroup, value, selected, label) for every option of a rendered select."""
    found, group = [], None
    for match in re.finditer(r'<optgroup label="([^"]*)">|</optgroup>|<option ([^>]*)>([^<]*)</option>', html):
        if match.group(0).startswith("<optgroup"):
            group = match.group(1)
        elif match.group(0) == "</optgroup>":
            group = None
        else:
            attrs = match.group(2)
            value = re.search(r'value="([^"]*)"', attrs).group(1)
            found.append((group, value, "selected" in attrs, match.group(3)))
    return found


@pytest.mark.parametrize("zone", ["Europe/Lisbon", "UTC", "US/Eastern", "America/Argentina/Buenos_Aires"])
def test_cached_select_draws_what_wtforms_draws(app, zone):
    """The settings page's selects are drawn from a per-process cache: same options, groups,
    selection and escaping as WTForms' own widget, for every zone."""
    from wtforms import widgets

    from webapp.accounts.forms import SettingsForm

    with app.test_request_context("/settings"):
        form = SettingsForm(formdata=None, data={"timezone": zone, "language": "pt-BR", "items_per_page": 20})
        for field in (form.timezone, form.language, form.items_per_page):
            ours, theirs = field(), widgets.Select()(field)
            assert _options(ours) == _options(theirs)
            assert sum(selected for _, _, selected, _ in _options(ours)) == 1
            assert ours.startswith(f'<select id="{field.id}" name="{field.name}">')


def _every_form_class():
    from webapp.accounts import forms as accounts_forms
    from webapp.apikeys import forms as apikeys_forms
    from webapp.auth import forms as auth_forms
    from webapp.forms import FolioForm, FolioSubform

    for module in (accounts_forms, apikeys_forms, auth_forms):
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, (FolioForm, FolioSubform))
                and value.__module__ == module.__name__
            ):
                yield value


TRICKY = 'Zoë "quoted" <b>&amp; \' done'


@pytest.mark.parametrize("form_class", list(_every_form_class()), ids=lambda c: c.__name__)
def test_fast_rendering_draws_exactly_what_wtforms_draws(app, member, form_class):
    """Folio's forms draw their inputs without WTForms' formatter: the HTML must not change."""
    from wtforms.meta import DefaultMeta

    with app.test_request_context("/"):
        from flask_login import login_user

        login_user(member)
        kwargs = {"member": member} if "member" in form_class.__init__.__code__.co_varnames else {}
        form = form_class(formdata=None, **kwargs)
        plain = DefaultMeta()
        for field in form:
            if field.type in ("FieldList", "FormField"):
                continue
            if field.type in ("StringField", "TextAreaField", "EmailField", "URLField", "PasswordField"):
                field.data = TRICKY
            for extra in ({}, {"aria_describedby": "x-hint", "aria_invalid": "true", "required": True, "class": "a b"}):
                assert str(field(**extra)) == str(plain.render_field(field, extra)), field.name
