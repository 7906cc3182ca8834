"""``flask create-staff``: the first admin has no admin to promote them, so a command does."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from webapp import unit_of_work
from webapp.extensions import db


@click.command("create-staff")
@click.argument("email")
@click.option("--role", type=click.Choice(["support", "admin"]), default="admin")
@with_appcontext
@unit_of_work.command
def create_staff(email: str, role: str):
    """Give an existing member a staff role."""
    from webapp.auth.models import Role, User
    from webapp.cli import ensure_roles

    ensure_roles()
    user = db.session.scalar(sa.select(User).where(User.email == email.lower()))
    if user is None:
        raise click.ClickException(f"No member with email {email}")
    user.role = db.session.scalar(sa.select(Role).where(Role.name == role))
    click.echo(f"{email} is now {role}")
