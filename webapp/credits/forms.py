"""The auto-refill form. It draws the fields and carries the CSRF token; the rules are
``schemas.AutoRefillChanges``, whose messages ``apply_errors`` puts beside the fields, so the
page and the API refuse the same things in the same words."""

from __future__ import annotations

from wtforms import BooleanField, StringField, widgets

from webapp import rules
from webapp.credits import schemas
from webapp.forms import FolioForm, shaped_by

NUMBER = widgets.NumberInput(min=0, step=1)


@shaped_by(schemas.AutoRefillChanges)
class AutoRefillForm(FolioForm):
    auto_refill_enabled = BooleanField("Refill automatically")
    # Text, not IntegerField: the contract parses the number and words the error.
    refill_threshold = StringField(
        "When the balance falls below", widget=NUMBER, description="In credits. 0 refills only when you run out."
    )
    refill_amount = StringField("Buy this many credits", widget=widgets.NumberInput(min=1, step=1))
    monthly_limit = StringField(
        "Monthly limit",
        widget=NUMBER,
        description="The most credits spent, and refilled, in a calendar month (UTC).",
    )

    @classmethod
    def of(cls, account) -> AutoRefillForm:
        data = {
            name: getattr(account, name)
            for name in ("auto_refill_enabled", "refill_threshold", "refill_amount", "monthly_limit")
        }
        return cls(formdata=None, data=data)

    def changes(self) -> dict:
        return {
            "auto_refill_enabled": bool(self.auto_refill_enabled.data),
            "refill_threshold": rules.form_number(self.refill_threshold.data),
            "refill_amount": rules.form_number(self.refill_amount.data),
            "monthly_limit": rules.form_number(self.monthly_limit.data),
        }
