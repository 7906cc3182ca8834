"""Profile, CV, avatar, settings, export and deletion of a member's account."""


def init_app(app) -> None:
    """Plug the domain into the app: its getting-started steps."""
    from webapp.accounts import dashboard as steps
    from webapp.dashboard import add_step

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
