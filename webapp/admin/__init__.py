"""Staff tools: user management (RBAC-checked)."""

USERS_READ = "users:read"
USERS_WRITE = "users:write"


def init_app(app) -> None:
    """Plug the domain into the app: its API, staff scopes, OpenAPI tag and CLI command."""
    from webapp.admin import api, cli
    from webapp.api.openapi import register_tag
    from webapp.api.scopes import register_scopes

    register_scopes(
        {USERS_READ: "Staff: list and read members", USERS_WRITE: "Staff: create, change and delete members"},
        staff={USERS_READ: "users:read", USERS_WRITE: "users:write"},  # the role permission each needs
    )
    app.register_blueprint(api.bp)
    register_tag("Users (staff)", "Member management for staff roles")
    app.cli.add_command(cli.create_staff)
