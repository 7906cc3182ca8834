"""Forms for signing up and in, resetting passwords, and the security page."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from webapp.auth.passwords import MAX_LENGTH, MIN_LENGTH

_password = [DataRequired(), Length(min=MIN_LENGTH, max=MAX_LENGTH)]


class RegisterForm(FlaskForm):
    # Only presence is checked here: the service's rules (length, common passwords, address
    # format) give the messages, the same ones the API gives.
    display_name = StringField("Your name", validators=[DataRequired()], render_kw={"autocomplete": "name"})
    email = EmailField("Email", validators=[DataRequired()], render_kw={"autocomplete": "email"})
    password = PasswordField(
        "Password",
        validators=[DataRequired()],
        description=f"At least {MIN_LENGTH} characters; avoid common passwords.",
        render_kw={"autocomplete": "new-password"},
    )


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired()], render_kw={"autocomplete": "username"})
    password = PasswordField("Password", validators=[DataRequired()], render_kw={"autocomplete": "current-password"})
    remember = BooleanField("Keep me signed in for 30 days")


class ForgotForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Email()], render_kw={"autocomplete": "email"})


class ResetForm(FlaskForm):
    password = PasswordField("New password", validators=_password, render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(
        "Repeat the new password",
        validators=[DataRequired(), EqualTo("password", message="The passwords differ.")],
        render_kw={"autocomplete": "new-password"},
    )


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        "Current password", validators=[DataRequired()], render_kw={"autocomplete": "current-password"}
    )
    new_password = PasswordField("New password", validators=_password, render_kw={"autocomplete": "new-password"})


class ChangeEmailForm(FlaskForm):
    new_email = EmailField("New email", validators=[DataRequired(), Email()], render_kw={"autocomplete": "email"})
    password = PasswordField("Password", validators=[DataRequired()], render_kw={"autocomplete": "current-password"})


class ConfirmForm(FlaskForm):
    """A CSRF-only form for buttons that POST (logout, resend, sign out elsewhere)."""
