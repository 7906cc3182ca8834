"""The key form: name, permissions (checkboxes from the scope registry), expiry, rate limit."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectMultipleField, StringField, widgets
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from webapp.api import scopes
from webapp.forms import choices


class CheckboxesField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class ApiKeyForm(FlaskForm):
    name = StringField(
        "Name",
        validators=[DataRequired(), Length(max=200)],
        description="So you can tell keys apart, e.g. “Zapier” or “Reporting script”.",
    )
    permissions = CheckboxesField("Permissions", validators=[DataRequired("Choose at least one permission.")])
    expires_on = DateField(
        "Expires on", validators=[Optional()], description="Leave empty for a key that never expires."
    )
    rate_limit = IntegerField(
        "Rate limit (requests per hour)", default=1000, validators=[DataRequired(), NumberRange(min=1, max=100_000)]
    )

    def __init__(self, *args, member, **kwargs):
        super().__init__(*args, **kwargs)
        self.permissions.choices = choices((name, name) for name in scopes.available_to(member))

    def changes(self, timezone: str) -> dict:
        """Service input; the expiry is the end of the chosen day in the member's time zone."""
        expires_at = None
        if self.expires_on.data:
            local_end = datetime.combine(self.expires_on.data + timedelta(days=1), time.min, ZoneInfo(timezone))
            expires_at = local_end
        return {
            "name": self.name.data,
            "permissions": self.permissions.data or [],
            "rate_limit": self.rate_limit.data,
            "expires_at": expires_at,
        }
