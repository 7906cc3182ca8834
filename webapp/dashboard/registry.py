"""What domains put on the dashboard: cards (htmx partials) and getting-started steps."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, current_app, render_template, url_for

from webapp.auth.models import User

CARDS = "folio_dashboard_cards"
STEPS = "folio_dashboard_steps"


@dataclass(frozen=True)
class Card:
    """A dashboard card: ``render(member)`` returns its body, loaded by htmx after the page."""

    id: str
    title: str
    render: Callable[[User], str]
    order: int = 100


@dataclass(frozen=True)
class Step:
    """A getting-started step: shown, linking to ``endpoint``, until ``done(member)`` is true."""

    id: str
    label: str
    hint: str
    endpoint: str
    done: Callable[[User], bool]
    order: int = 100
    anchor: str = ""

    @property
    def url(self) -> str:
        return url_for(self.endpoint) + (f"#{self.anchor}" if self.anchor else "")


def add_card(app: Flask, card_id: str, title: str, render: Callable[[User], str], *, order: int = 100) -> None:
    cards = app.extensions.setdefault(CARDS, {})
    if card_id in cards:
        raise ValueError(f"dashboard card {card_id!r} is registered twice")
    cards[card_id] = Card(card_id, title, render, order)


def add_step(
    app: Flask,
    step_id: str,
    label: str,
    *,
    hint: str,
    endpoint: str,
    done: Callable[[User], bool],
    order: int = 100,
    anchor: str = "",
) -> None:
    steps = app.extensions.setdefault(STEPS, {})
    if step_id in steps:
        raise ValueError(f"getting-started step {step_id!r} is registered twice")
    steps[step_id] = Step(step_id, label, hint, endpoint, done, order, anchor)


def cards() -> list[Card]:
    return sorted(current_app.extensions.get(CARDS, {}).values(), key=lambda card: (card.order, card.id))


def card(card_id: str) -> Card | None:
    return current_app.extensions.get(CARDS, {}).get(card_id)


def steps() -> list[Step]:
    return sorted(current_app.extensions.get(STEPS, {}).values(), key=lambda step: (step.order, step.id))


def render_checklist(member: User) -> str:
    """The getting-started card: the steps still to do, and how far along the member is."""
    all_steps = steps()
    todo = [step for step in all_steps if not step.done(member)]
    return render_template("dashboard/_checklist.html", todo=todo, total=len(all_steps))
