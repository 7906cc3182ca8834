"""Profile, CV, avatar, settings, export and deletion of a member's account."""

PROFILE_READ = "profile:read"
PROFILE_WRITE = "profile:write"
ACCOUNT_DELETE = "account:delete"


def init_app(app) -> None:
    """Plug the domain into the app: its tables, what every new member starts with, pages and
    API, scopes, OpenAPI tags, export files and getting-started steps."""
    from webapp.accounts import (  # noqa: F401  (its tables for Alembic, its @exporter files)
        api,
        export,
        models,
        service,
        views,
    )
    from webapp.accounts import dashboard as steps
    from webapp.api.openapi import register_tag
    from webapp.api.scopes import register_scopes
    from webapp.auth.service import on_new_member
    from webapp.dashboard import add_step

    register_scopes(
        {
            PROFILE_READ: "Read your profile, CV and settings",
            PROFILE_WRITE: "Change your profile, CV, avatar and settings",
            ACCOUNT_DELETE: "Delete your account",
        }
    )
    on_new_member("accounts", service.set_up_member, retry_on=(service.SLUG_CONSTRAINT,))
    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp)
    register_tag("Profile", "Your profile and avatar")
    register_tag("CV", "Your CV document (headline, experience, education, skills, links)")
    register_tag("Settings", "Appearance, workspace, region and privacy settings")
    register_tag("Account", "Deleting your account")

    add_step(
        app,
        "profile",
        "Tell clients who you are",
        hint="Add your job title, location and a short bio.",
        endpoint="accounts.profile",
        done=steps.profile_filled,
        order=20,
    )
    add_step(
        app,
        "photo",
        "Add a profile photo",
        hint="A face makes your portfolio feel personal.",
        endpoint="accounts.profile",
        anchor="photo",
        done=steps.photo_added,
        order=30,
    )
    add_step(
        app,
        "cv",
        "Write your CV",
        hint="Your experience and education, shown on your portfolio.",
        endpoint="accounts.profile",
        anchor="cv",
        done=steps.cv_written,
        order=40,
    )
