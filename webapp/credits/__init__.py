"""Credits and billing: the balance members pay with, its ledger, packs, auto-refill."""

CREDITS_READ = "credits:read"
CREDITS_SPEND = "credits:spend"
CREDITS_PURCHASE = "credits:purchase"
CREDITS_GRANT = "credits:grant"  # staff: a scope and the role permission it needs


def init_app(app) -> None:
    """Plug the domain into the app: its tables, what every new member starts with, its page and API,
    scopes, OpenAPI tag, export files, dashboard card and its job."""
    from webapp.api.openapi import register_tag
    from webapp.api.scopes import register_scopes
    from webapp.auth.service import on_new_member
    from webapp.credits import (  # noqa: F401  (its tables for Alembic, its @exporter files, its job)
        api,
        dashboard,
        export,
        models,
        service,
        tasks,
        views,
    )
    from webapp.dashboard import add_card

    register_scopes(
        {
            CREDITS_READ: "See your balance, ledger, purchases and credit usage",
            CREDITS_SPEND: "Spend credits",
            CREDITS_PURCHASE: "Buy credit packs and change auto-refill and the monthly limit",
            CREDITS_GRANT: "Staff: give members credits",
        },
        staff={CREDITS_GRANT: CREDITS_GRANT},
    )
    if app.config["ENV_NAME"] == "production" and app.config.get("PAYMENT_PROVIDER") == "demo":
        raise RuntimeError("PAYMENT_PROVIDER=demo mints credits for free: not in production")
    on_new_member("credits", service.set_up_member)
    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp)
    add_card(app, "credits", "Credits", dashboard.render_card, order=25)
    register_tag("Credits", "Your balance, its ledger, purchases and auto-refill (seed 001's tokens too)")
