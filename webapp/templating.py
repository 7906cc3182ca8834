"""Jinja helpers: the member's theme and time zone, navigation, htmx config."""

from __future__ import annotations

import json
from datetime import datetime

from flask import Flask, current_app, has_request_context, request, url_for
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from user_agents import parse as parse_user_agent

from webapp.timeutil import last_day, to_zone

# htmx's inline indicator styles would break the CSP, and eval-based features stay off.
HTMX_CONFIG = json.dumps(
    {
        "includeIndicatorStyles": False,
        "allowEval": False,
        "allowScriptTags": False,
        "selfRequestsOnly": True,
        "responseHandling": [
            {"code": "204", "swap": False},
            {"code": "[23]..", "swap": True},
            # Refusals that answer a corrected form (the photo card's oversize file is a 413).
            {"code": "422", "swap": True},
            {"code": "413", "swap": True},
            {"code": "[45]..", "swap": False, "error": True},
        ],
    }
)


# The language Folio's pages are written in. The member's ``language`` setting is kept for
# mails and translations to come; until a page is translated, its lang attribute stays true to it.
UI_LANGUAGE = "en"


def member_timezone() -> str:
    if current_user.is_authenticated and current_user.profile:
        return current_user.profile.timezone
    return "UTC"


def localtime(value: datetime | None, fmt: str = "%b %-d, %Y %H:%M") -> str:
    """A UTC timestamp shown in the member's time zone."""
    local = to_zone(value, member_timezone())
    return local.strftime(fmt) if local else "—"


def untilday(value: datetime | None, fmt: str = "%b %-d, %Y") -> str:
    """The last day, in the member's time zone, before ``value`` ends something (an expiry)."""
    day = last_day(value, member_timezone())
    return day.strftime(fmt) if day else "—"


def browser(user_agent: str | None) -> str:
    """ "Firefox on macOS" from a User-Agent header."""
    if not user_agent:
        return "Unknown browser"
    parsed = parse_user_agent(user_agent)
    family = parsed.browser.family if parsed.browser.family != "Other" else "Unknown browser"
    system = parsed.os.family if parsed.os.family != "Other" else None
    return f"{family} on {system}" if system else family


# Pages build the same links on every request (the navigation, the forms' actions, static
# files): about thirty ``url_for`` calls a page, each a walk through Werkzeug's URL map. Folio
# registers no ``url_defaults`` hooks, so a link depends only on its arguments and the app's
# mount point; it is built once per process (per app) and reused. External URLs and the rare
# ``_anchor``, ``_method`` … arguments are built every time, as are arguments that cannot be a key.
_LINKS_MAX = 4096


def cached_url_for(endpoint: str, **values) -> str:
    """``url_for`` for templates, remembered per app and process (see above)."""
    if any(name.startswith("_") for name in values) or not has_request_context():
        return url_for(endpoint, **values)
    links = current_app.extensions.setdefault("folio_links", {})
    # A relative endpoint (".index") means the current blueprint's.
    blueprint = request.blueprint if endpoint.startswith(".") else None
    try:
        key = (request.script_root, blueprint, endpoint, *sorted(values.items()))
        return links[key]
    except TypeError:  # an argument that cannot be a key
        return url_for(endpoint, **values)
    except KeyError:
        pass
    link = url_for(endpoint, **values)
    if len(links) >= _LINKS_MAX:
        links.clear()
    links[key] = link
    return link


def register_templating(app: Flask) -> None:
    from webapp.forms import register_form_helpers

    register_form_helpers(app)
    app.jinja_env.globals["url_for"] = cached_url_for
    app.jinja_env.filters["localtime"] = localtime
    app.jinja_env.filters["untilday"] = untilday
    app.jinja_env.filters["browser"] = browser

    @app.context_processor
    def inject_layout():
        # Mails are rendered in workers too, with no request (and so no member or CSRF token);
        # the layout's values belong to pages only.
        if not has_request_context():
            return {}
        theme, compact = "system", False
        if current_user.is_authenticated and current_user.settings:
            theme, compact = current_user.settings.theme, current_user.settings.compact_mode
        return {
            "ui_language": UI_LANGUAGE,
            "theme": theme,
            "compact_mode": compact,
            "htmx_config": HTMX_CONFIG,
            "csrf_headers": json.dumps({"X-CSRFToken": generate_csrf()}),
            "member_timezone": member_timezone(),
            "current_path": request.path,
        }
