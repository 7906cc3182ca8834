"""The one place that reads ``HX-*`` headers: views ask ``is_htmx()`` and call ``render``."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import make_response, render_template, request


def is_htmx() -> bool:
    """A fragment request: htmx, but not boosted navigation or a history restore."""
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-Boosted") != "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def current_page() -> str | None:
    """The page the htmx request was made from (``HX-Current-URL``), as a path on this site,
    or None when absent or foreign."""
    parts = urlsplit(request.headers.get("HX-Current-URL", ""))
    if not parts.path or (parts.netloc and parts.netloc != request.host):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def render(page: str, partial: str, /, *, status: int = 200, **context):
    """The partial for htmx, the whole page otherwise; caches are told the two differ.

    ``status`` is keyword-only and never reaches the template: a refusal cannot turn into a 200
    by being passed where the context goes (it once did, positionally-only, for the resend form).
    """
    template = partial if is_htmx() else page
    response = make_response(render_template(template, **context), status)
    response.headers["Vary"] = "HX-Request"
    return response


def hx_redirect(url: str):
    """Send the browser to ``url``: a full navigation for htmx, a 303 for plain forms."""
    if is_htmx():
        response = make_response("", 204)
        response.headers["HX-Redirect"] = url
        return response
    response = make_response("", 303)
    response.headers["Location"] = url
    return response
