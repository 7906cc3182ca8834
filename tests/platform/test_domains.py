"""Domains plug themselves in: ``create_app`` lists them, each one's ``init_app`` registers the
rest (blueprints, scopes, OpenAPI tags, export files, CLI commands, tables, jobs, cards)."""

from __future__ import annotations

import importlib
import io
import json
import pkgutil
import zipfile

import click
import pytest
from flask import Blueprint
from flask.cli import with_appcontext

import webapp
from webapp import DOMAINS, create_app
from webapp.api import endpoint as endpoint_module
from webapp.api import openapi, scopes
from webapp.api.endpoint import endpoint, no_content, ok
from webapp.api.openapi import check_operations
from webapp.api.ratelimit import Limit
from webapp.config import TestingConfig
from webapp.extensions import db


@pytest.mark.parametrize("name", DOMAINS)
def test_every_domain_has_an_init_app(name):
    assert callable(getattr(importlib.import_module(f"webapp.{name}"), "init_app", None))


def test_every_domain_package_is_listed():
    """A package under webapp/ is a domain; one missing from DOMAINS would never be plugged in."""
    packages = {module.name for module in pkgutil.iter_modules(webapp.__path__) if module.ispkg}
    assert packages == set(DOMAINS)


@pytest.fixture
def registries():
    """The registries that live beside the code (scopes, tags, export files, operations) are put
    back as they were, so that what this module adds reaches no other test."""
    from webapp import export

    dicts = (scopes.SCOPES, scopes.STAFF_SCOPES, openapi.TAGS, export._EXPORTERS)
    saved = [dict(d) for d in dicts], list(endpoint_module.OPERATIONS)
    yield
    for registry, old in zip(dicts, saved[0], strict=True):
        registry.clear()
        registry.update(old)
    endpoint_module.OPERATIONS[:] = saved[1]


def _throwaway_domain():
    """A domain as a later issue would write one, defined here and listed nowhere else."""
    bp = Blueprint("throwaway", __name__, url_prefix="/api/v1")

    @endpoint(
        bp,
        "GET",
        "/throwaway",
        scope="throwaway:read",
        tag="Throwaway",
        summary="Your throwaway",
        response={"type": "object", "properties": {"member_id": {"type": "string"}}},
    )
    def read_throwaway(principal):
        return ok({"member_id": str(principal.user.id)})

    @endpoint(
        bp,
        "POST",
        "/throwaway/ping",
        public=True,
        scope=None,
        tag="Throwaway",
        summary="Once a minute",
        status=204,
        limit=Limit("1 per minute", lambda: "throwaway-ping", "throwaway-ping"),
    )
    def ping():
        return no_content()

    @click.command("throwaway-hello")
    @with_appcontext
    def hello():
        click.echo("hello from the throwaway domain")

    def init_app(app) -> None:
        from webapp.export import exporter

        scopes.register_scopes({"throwaway:read": "Read your throwaway"})
        app.register_blueprint(bp)
        openapi.register_tag("Throwaway", "A domain that exists only in this test")
        exporter("throwaway.json")(lambda user_id: {"owner": user_id})
        app.cli.add_command(hello)

    return init_app


@pytest.fixture
def fresh_app(tmp_path, registries):
    class Config(TestingConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'throwaway.db'}"
        STORAGE_PATH = str(tmp_path / "uploads")
        MAIL_SERVER = None
        MAIL_OUTBOX_DIR = str(tmp_path / "outbox")
        REDIS_URL = None

    app = create_app(Config)
    _throwaway_domain()(app)
    check_operations(app)
    with app.app_context():
        db.create_all()
        yield app
        db.session.remove()
        db.drop_all()


def test_a_new_domain_plugs_in_from_its_init_app(fresh_app):
    from webapp.apikeys import service as apikeys
    from webapp.auth import service as auth
    from webapp.cli import ensure_roles
    from webapp.export import build_zip

    ensure_roles()
    user = auth.register(
        {"email": "new@example.com", "password": "correct-horse-battery-staple", "display_name": "New"}, send_mail=False
    )
    _, secret = apikeys.create_key(user, {"name": "Script", "permissions": ["throwaway:read"]})
    db.session.commit()
    client = fresh_app.test_client()

    # Its blueprint and its scope: the route answers a key that holds the scope.
    answer = client.get("/api/v1/throwaway", headers={"Authorization": f"Bearer {secret}"})
    assert answer.status_code == 200
    assert answer.get_json() == {"data": {"member_id": str(user.id)}}
    assert scopes.available_to(user)["throwaway:read"] == "Read your throwaway"

    # A rate-limit policy of its own.
    assert [client.post("/api/v1/throwaway/ping").status_code for _ in range(2)] == [204, 429]

    # Its tag: the document lists it, with the operation under it and its scope.
    spec = client.get("/api/v1/openapi.json").get_json()
    assert {"name": "Throwaway", "description": "A domain that exists only in this test"} in spec["tags"]
    operation = spec["paths"]["/api/v1/throwaway"]["get"]
    assert operation["tags"] == ["Throwaway"] and operation["x-required-scope"] == "throwaway:read"
    assert spec["x-scopes"]["throwaway:read"] == "Read your throwaway"

    # Its export file.
    with zipfile.ZipFile(io.BytesIO(build_zip(user.id))) as archive:
        assert json.loads(archive.read("throwaway.json")) == {"owner": str(user.id)}
        assert "throwaway.json" in json.loads(archive.read("manifest.json"))["files"]

    # Its CLI command.
    result = fresh_app.test_cli_runner().invoke(args=["throwaway-hello"])
    assert result.exit_code == 0 and result.output == "hello from the throwaway domain\n"


def test_an_app_documents_only_the_routes_it_serves(fresh_app, client):
    """The session's app never registered the throwaway blueprint, so its document omits it."""
    spec = client.get("/api/v1/openapi.json").get_json()
    assert "/api/v1/throwaway" not in spec["paths"]


def test_a_route_with_a_scope_no_domain_registered_stops_the_app(registries):
    bp = Blueprint("typo", __name__, url_prefix="/api/v1")

    @endpoint(bp, "GET", "/typo", scope="profile:raed", tag="Profile", summary="A typo")
    def typo(principal):
        return ok({})

    app = create_app(TestingConfig)
    app.register_blueprint(bp)
    with pytest.raises(ValueError, match="scope 'profile:raed' is not registered"):
        check_operations(app)


def test_a_route_with_an_unregistered_tag_stops_the_app(registries):
    bp = Blueprint("untagged", __name__, url_prefix="/api/v1")

    @endpoint(bp, "GET", "/untagged", scope=None, tag="Nobody's", summary="No tag")
    def untagged(principal):
        return ok({})

    app = create_app(TestingConfig)
    app.register_blueprint(bp)
    with pytest.raises(ValueError, match='tag "Nobody\'s" is not registered'):
        check_operations(app)


@pytest.mark.parametrize("setting", ["RATELIMIT_DEFAULT", "RATELIMIT_APPLICATION"])
def test_a_default_or_application_limit_stops_the_app(setting):
    """Limits are evaluated in their routes only (``limit_in_views_only``): an app-wide limit
    would be skipped, so it is refused at start-up instead of silently ignored."""
    config = type("AppWideLimit", (TestingConfig,), {setting: "100 per minute"})
    with pytest.raises(RuntimeError, match=f"{setting} is not supported"):
        create_app(config)
