"""The member's home (/dashboard): a grid of cards that domains contribute, each loaded on its own.

A domain adds a card with ``add_card(app, ...)`` and getting-started steps with
``add_step(app, ...)`` from its own ``init_app``; the dashboard knows nothing of their insides.
"""

from __future__ import annotations

from webapp.dashboard.registry import add_card, add_step  # noqa: F401  (the domain-facing API)


def init_app(app) -> None:
    """Plug the dashboard in: its page, the card route, and its own getting-started card."""
    from webapp.dashboard import views
    from webapp.dashboard.registry import render_checklist

    app.register_blueprint(views.bp)
    add_card(app, "getting-started", "Getting started", render_checklist, order=0)
