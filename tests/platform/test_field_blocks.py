"""The field blocks drawn in Python (webapp/forms.py) say what the Jinja macros said."""

from __future__ import annotations

import re

import pytest

# The macros as they were before the blocks moved to Python: the reference for the markup.
REFERENCE = """
{% macro field(f, class='', hint=none) -%}
  {% set describedby = [] %}
  {% if f.description or hint %}{% set _ = describedby.append(f.id ~ '-hint') %}{% endif %}
  {% if f.errors %}{% set _ = describedby.append(f.id ~ '-error') %}{% endif %}
  <div class="field {{ class }} {{ 'has-error' if f.errors }}">
    <label class="label" for="{{ f.id }}">{{ f.label.text }}</label>
    {% set attrs = {} %}
    {% if describedby %}{% set _ = attrs.update({'aria-describedby': describedby|join(' ')}) %}{% endif %}
    {% if f.errors %}{% set _ = attrs.update({'aria-invalid': 'true'}) %}{% endif %}
    {% if f.flags.required %}{% set _ = attrs.update({'required': true}) %}{% endif %}
    {{ f(**attrs) }}
    {% if f.description or hint %}<p class="hint" id="{{ f.id }}-hint">{{ hint or f.description }}</p>{% endif %}
    {% if f.errors %}<p class="error" id="{{ f.id }}-error">{{ f.errors|join(' ') }}</p>{% endif %}
  </div>
{%- endmacro %}
{% macro checkbox(f) -%}
  {% set describedby = [] %}
  {% if f.description %}{% set _ = describedby.append(f.id ~ '-hint') %}{% endif %}
  {% if f.errors %}{% set _ = describedby.append(f.id ~ '-error') %}{% endif %}
  {% set attrs = {} %}
  {% if describedby %}{% set _ = attrs.update({'aria-describedby': describedby|join(' ')}) %}{% endif %}
  {% if f.errors %}{% set _ = attrs.update({'aria-invalid': 'true'}) %}{% endif %}
  <div class="check {{ 'has-error' if f.errors }}">
    {{ f(**attrs) }}
    <div>
      <label for="{{ f.id }}">{{ f.label.text }}</label>
      {% if f.description %}<p class="hint" id="{{ f.id }}-hint">{{ f.description }}</p>{% endif %}
      {% if f.errors %}<p class="error" id="{{ f.id }}-error">{{ f.errors|join(' ') }}</p>{% endif %}
    </div>
  </div>
{%- endmacro %}
"""

# The error summary macro before it moved to Python (webapp.forms.error_summary_block).
REFERENCE_SUMMARY = """
{# A refused form's summary, for the top of that form: how many fields need fixing, each a link
   to its field (static/js/app.js moves focus there). Rows of a FieldList of FormFields are named
   by list and position ("Experience 2: Role"). Hidden fields and the CSRF token are left out. #}
{% macro error_summary(form) -%}
  {% set problems = [] %}
  {% for f in form if f.type not in ('CSRFTokenField', 'HiddenField') %}
    {% if f.type == 'FieldList' %}
      {% for entry in f %}
        {% set position = f.label.text ~ ' ' ~ loop.index %}
        {% if entry.type == 'FormField' %}
          {% for sub in entry.form if sub.errors %}
            {% set _ = problems.append((position ~ ': ' ~ sub.label.text, _target_id(sub))) %}
          {% endfor %}
        {% elif entry.errors %}
          {% set _ = problems.append((position, _target_id(entry))) %}
        {% endif %}
      {% endfor %}
    {% elif f.type == 'FormField' %}
      {% for sub in f.form if sub.errors %}
        {% set _ = problems.append((f.label.text ~ ': ' ~ sub.label.text, _target_id(sub))) %}
      {% endfor %}
    {% elif f.errors %}
      {% set _ = problems.append((f.label.text, _target_id(f))) %}
    {% endif %}
  {% endfor %}
  {% if problems %}
  <div class="alert alert-error error-summary" role="alert">
    <p class="error-summary-title">Please fix {{ problems|length }} field{{ 's' if problems|length != 1 }}</p>
    <ul>
      {% for label, target in problems %}<li><a href="#{{ target }}">{{ label }}</a></li>{% endfor %}
    </ul>
  </div>
  {% endif %}
{%- endmacro %}

{# The element a field's error should lead to: radios have no element with the field's own id. #}
{% macro _target_id(f) -%}
  {{ f.id ~ '-0' if f.type == 'RadioField' else f.id }}
{%- endmacro %}
"""

TRICKY = 'Zoë "quoted" <b>&amp; \' done'


def _normal(html: str) -> str:
    """Markup without the blank lines and doubled spaces the macros left behind."""
    html = re.sub(r'class="([^"]*)"', lambda m: 'class="' + " ".join(m.group(1).split()) + '"', html)
    return re.sub(r">\s+<", "><", html.strip())


def _forms():
    from webapp.accounts.forms import ProfileForm, SettingsForm
    from webapp.auth.forms import LoginForm, RegisterForm

    return [LoginForm, RegisterForm, ProfileForm, SettingsForm]


@pytest.mark.parametrize("with_errors", [False, True])
@pytest.mark.parametrize("form_index", range(4))
def test_field_and_checkbox_blocks_match_the_macros(app, member, form_index, with_errors):
    from flask import render_template_string
    from flask_login import login_user

    from webapp.forms import checkbox_block, field_block

    form_class = _forms()[form_index]
    with app.test_request_context("/"):
        login_user(member)
        kwargs = {"member": member} if "member" in form_class.__init__.__code__.co_varnames else {}
        form = form_class(formdata=None, **kwargs)
        reference = app.jinja_env.from_string(REFERENCE).module
        drawn = 0
        for f in form:
            if f.type in ("FieldList", "FormField", "CSRFTokenField", "HiddenField", "RadioField"):
                continue
            if with_errors:
                f.errors = [TRICKY, "Second <problem>."]
            if f.type == "BooleanField":
                assert _normal(str(checkbox_block(f))) == _normal(str(reference.checkbox(f))), f.name
            else:
                for hint, class_ in ((None, ""), (TRICKY, "wide <x>")):
                    ours = field_block(f, class_, hint)
                    theirs = reference.field(f, class_, hint)
                    assert _normal(str(ours)) == _normal(str(theirs)), f.name
            drawn += 1
        assert drawn
        # Templates call them as globals, ``class`` included.
        html = render_template_string("{{ field(f, class='label-hidden', hint='H') }}", f=next(iter(form)))
        assert 'class="field label-hidden' in html and ">H</p>" in html


def test_radio_options_draw_what_wtforms_draws(app):
    from wtforms.meta import DefaultMeta

    from webapp.accounts.forms import SettingsForm

    with app.test_request_context("/settings"):
        form = SettingsForm(formdata=None, data={"theme": "dark", "default_view": "list"})
        plain = DefaultMeta()
        options = [option for field in (form.theme, form.default_view) for option in field]
        assert any(option.checked for option in options)
        for option in options:
            assert str(option()) == str(plain.render_field(option, {})), option.id


def test_an_idle_pooled_connection_is_pinged_and_a_dead_one_replaced(tmp_path):
    """No ping on a checkout that follows another closely; one after an idle spell, and a
    connection that fails it is thrown away for a fresh one."""
    import sqlalchemy as sa

    from webapp.extensions import ping_after_idle

    engine = sa.create_engine(f"sqlite:///{tmp_path / 'pool.db'}", pool_size=1, poolclass=sa.pool.QueuePool)
    pings: list[bool] = []
    original = engine.dialect.do_ping

    def ping(dbapi_connection):
        pings.append(True)
        if len(pings) == 1:
            raise engine.dialect.loaded_dbapi.OperationalError("closed the connection unexpectedly")
        return original(dbapi_connection)

    engine.dialect.do_ping = ping
    engine.dialect.is_disconnect = lambda exc, *_: "unexpectedly" in str(exc)
    ping_after_idle(engine, idle_seconds=0.05)
    with engine.connect() as conn:
        first = conn.connection.dbapi_connection
    with engine.connect() as conn:  # at once: no ping
        assert conn.connection.dbapi_connection is first
    assert pings == []
    import time

    time.sleep(0.06)
    with engine.connect() as conn:  # idle: pinged, fails, replaced
        assert conn.connection.dbapi_connection is not first
        assert conn.execute(sa.text("select 1")).scalar() == 1
    assert len(pings) == 1


def test_error_summary_matches_the_macro(app):
    """Rows, subforms, radios and escaping: the Python summary says what the macro said."""
    from wtforms import FieldList, Form, FormField, RadioField, StringField

    from webapp.forms import choices, error_summary_block

    class Row(Form):
        title = StringField("Role")

    class Big(Form):
        name = StringField(TRICKY)
        size = RadioField("Size", choices=choices([("s", "Small"), ("l", "Large")]))
        rows = FieldList(FormField(Row), label="Experience", min_entries=3)
        tags = FieldList(StringField("Tag"), label="Tags", min_entries=2)
        address = FormField(Row, label="Address")

    with app.test_request_context("/"):
        form = Big()
        reference = app.jinja_env.from_string(REFERENCE_SUMMARY).module
        assert str(error_summary_block(form)) == "" and str(reference.error_summary(form)).strip() == ""
        for f in (form.name, form.size, form.rows[1].form.title, form.rows[2].form.title, form.tags[0]):
            f.errors = ["Wrong."]
        form.address.form.title.errors = ["Wrong."]
        ours, theirs = str(error_summary_block(form)), str(reference.error_summary(form))
        assert _normal(ours) == _normal(theirs)
        assert "Please fix 6 fields" in ours and 'href="#size-0"' in ours and "Experience 3: Role" in ours
