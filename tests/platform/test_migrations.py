"""Alembic: upgrading an empty database gives exactly the models' schema, roles seeded."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade

from tests.helpers import is_postgres
from webapp import create_app
from webapp.config import TestingConfig, database_url
from webapp.extensions import db

PG_SERVER = "postgresql://127.0.0.1:5432"


def migrated_app(url: str):
    """A separate app bound to ``url``, upgraded to the newest revision."""

    class Config(TestingConfig):
        SQLALCHEMY_DATABASE_URI = database_url(url)

    app = create_app(Config)
    with app.app_context():
        upgrade()
    return app


def schema_differences(app) -> list:
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "compare_server_default": False})
        return compare_metadata(context, db.metadata)


def seeded_roles(app) -> dict[str, list[str]]:
    with app.app_context(), db.engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT name, permissions FROM roles ORDER BY id"))
        return {name: permissions for name, permissions in rows}


def assert_matches_models(app) -> None:
    differences = schema_differences(app)
    assert differences == [], "\n".join(map(str, differences))
    roles = seeded_roles(app)
    assert set(roles) == {"member", "support", "admin"}
    from webapp.auth.models import DEFAULT_ROLES

    for name, permissions in roles.items():
        if isinstance(permissions, str):  # SQLite hands JSON back as text through sa.text
            import json

            permissions = json.loads(permissions)
        assert permissions == DEFAULT_ROLES[name]
    with app.app_context(), db.engine.connect() as connection:
        tables = set(sa.inspect(connection).get_table_names())
    assert tables == set(db.metadata.tables) | {"alembic_version"}


def test_upgrade_empty_sqlite_matches_models(tmp_path):
    app = migrated_app(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        assert_matches_models(app)
        # Upgrading again is a no-op.
        with app.app_context():
            upgrade()
        assert_matches_models(app)
    finally:
        with app.app_context():
            db.engine.dispose()


def test_upgrade_empty_postgres_matches_models(app):
    if not is_postgres():
        pytest.skip("TEST_DATABASE_URL does not point at PostgreSQL")
    name = f"folio_migrations_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(database_url(f"{PG_SERVER}/test"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    migrated = None
    try:
        migrated = migrated_app(f"{PG_SERVER}/{name}")
        assert_matches_models(migrated)
    finally:
        if migrated is not None:
            with migrated.app_context():
                db.engine.dispose()
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
