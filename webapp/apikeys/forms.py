"""The key form: name, permissions (checkboxes from the scope registry), expiry, rate limit.

It renders the fields and carries the CSRF token; the rules are ``schemas.KeyCreation`` and ``KeyChanges``, whose
messages ``show`` puts next to the fields, so the page and the JSON API refuse the same things.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from wtforms import DateField, SelectMultipleField, StringField, widgets
from wtforms.validators import Optional

from webapp import rules
from webapp.api import scopes
from webapp.apikeys import schemas
from webapp.apikeys.service import DEFAULT_RATE_LIMIT
from webapp.errors import ServiceError
from webapp.forms import FolioForm, apply_errors, choices, shaped_by
from webapp.timeutil import last_day


class CheckboxesField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


@shaped_by(schemas.KeyChanges)
class ApiKeyForm(FolioForm):
    name = StringField("Name", description="So you can tell keys apart, e.g. “Zapier” or “Reporting script”.")
    # validate_choice off: the service says which scopes this member's role may grant.
    permissions = CheckboxesField("Permissions", validate_choice=False)
    expires_on = DateField(
        "Expires on", validators=[Optional()], description="Leave empty for a key that never expires."
    )
    # Text, not IntegerField: the service's cleaner parses it and words the error.
    rate_limit = StringField(
        "Rate limit (requests per hour)", default=str(DEFAULT_RATE_LIMIT), widget=widgets.NumberInput(min=1, step=1)
    )

    def __init__(self, *args, member, **kwargs):
        super().__init__(*args, **kwargs)
        self.permissions.choices = choices((name, name) for name in scopes.available_to(member))

    @classmethod
    def from_key(cls, key, timezone: str, **kwargs) -> ApiKeyForm:
        """The form filled from ``key``: the inverse of ``changes``."""
        data = {
            "name": key.name,
            "permissions": key.permissions,
            "rate_limit": key.rate_limit,
            "expires_on": last_day(key.expires_at, timezone),  # the list shows the same day
        }
        return cls(formdata=None, data=data, **kwargs)

    def changes(self, timezone: str, stored=None) -> dict:
        """Service input; the expiry is the end of the chosen day in the member's time zone.
        Editing a ``stored`` key, an expiry whose day is left as shown is not sent: the page
        shows days, and the exact moment the key was given (by the API, say) stays."""
        data = {
            "name": (self.name.data or "").strip(),
            "permissions": self.permissions.data or [],
            "rate_limit": rules.form_number(self.rate_limit.data),
            "expires_at": self._end_of(self.expires_on.data, timezone),
        }
        if stored is not None and self.expires_on.data == last_day(stored.expires_at, timezone):
            del data["expires_at"]
        return data

    @staticmethod
    def _end_of(day, timezone: str) -> datetime | None:
        if day is None:
            return None
        try:
            return datetime.combine(day + timedelta(days=1), time.min, ZoneInfo(timezone))
        except OverflowError:  # the end of 9999-12-31: too far, and the service says how far is allowed
            return datetime.max.replace(tzinfo=UTC)

    def show(self, error: ServiceError) -> None:
        """The service's errors next to their fields (its ``expires_at`` is this ``expires_on``)."""
        error.details = {("expires_on" if k == "expires_at" else k): v for k, v in error.details.items()}
        apply_errors(self, error)
