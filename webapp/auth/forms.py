"""Forms for signing up and in, resetting passwords, and the security page."""

from __future__ import annotations

from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Email

from webapp.auth import passwords
from webapp.auth.schemas import SignUpPage
from webapp.forms import FolioForm, shaped_by

# Fields whose rules the service checks carry no validators: a WTForms validator would
# refuse the form before the service runs, showing one message (in WTForms' own words)
# instead of every field's. ``required`` only marks them for the browser and assistive tech.
_REQUIRED = {"required": True}


def _new_password(label: str) -> PasswordField:
    """A field for choosing a password, with the hint that ``webapp.auth.passwords`` words."""
    return PasswordField(label, description=passwords.HINT, render_kw={"autocomplete": "new-password", **_REQUIRED})


def _repeat_password(label: str) -> PasswordField:
    """The chosen password typed again; the service compares the two (``passwords.MISMATCH``)."""
    return PasswordField(label, render_kw={"autocomplete": "new-password", **_REQUIRED})


@shaped_by(SignUpPage)
class RegisterForm(FolioForm):
    # Nothing is checked here: the service's rules (name, address format, length, common
    # passwords, the repetition) give every field's message at once, the same ones the API gives.
    display_name = StringField("Your name", render_kw={"autocomplete": "name", **_REQUIRED})
    email = EmailField("Email", render_kw={"autocomplete": "email", **_REQUIRED})
    password = _new_password("Password")
    confirm = _repeat_password("Repeat the password")

    def changes(self) -> dict:
        """The sign-up as ``SignUpPage`` takes it."""
        return typed(self)


class LoginForm(FolioForm):
    email = EmailField("Email", validators=[DataRequired()], render_kw={"autocomplete": "username"})
    password = PasswordField("Password", validators=[DataRequired()], render_kw={"autocomplete": "current-password"})
    remember = BooleanField("Keep me signed in for 30 days")


class ForgotForm(FolioForm):
    email = EmailField("Email", validators=[DataRequired(), Email()], render_kw={"autocomplete": "email"})


class ResetForm(FolioForm):
    password = _new_password("New password")
    confirm = _repeat_password("Repeat the new password")

    def changes(self) -> dict:
        return typed(self)


class ChangePasswordForm(FolioForm):
    current_password = PasswordField("Current password", render_kw={"autocomplete": "current-password", **_REQUIRED})
    new_password = _new_password("New password")

    def changes(self) -> dict:
        return typed(self)


class ChangeEmailForm(FolioForm):
    new_email = EmailField("New email", render_kw={"autocomplete": "email", **_REQUIRED})
    password = PasswordField("Password", render_kw={"autocomplete": "current-password", **_REQUIRED})

    def changes(self) -> dict:
        return typed(self, trimmed=("new_email",))


def typed(form: FolioForm, trimmed: tuple[str, ...] = ("email",)) -> dict:
    """What the member typed, as the contract takes it: text (never None), with the spaces
    around an address dropped; passwords stay exactly as typed."""
    data = {name: field.data or "" for name, field in form._fields.items() if name != "csrf_token"}
    return {name: value.strip() if name in trimmed else value for name, value in data.items()}


class ConfirmForm(FolioForm):
    """A CSRF-only form for buttons that POST (logout, resend, sign out elsewhere)."""
