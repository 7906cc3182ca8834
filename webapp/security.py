"""Security headers on every answer."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, request

# No inline scripts or styles: htmx's indicator styles are switched off in the page's
# htmx-config meta and live in app.css instead.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "object-src 'none'",
    ]
)


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def client_ip() -> str:
    """The caller's address. Behind a proxy, ``PROXY_HOPS`` makes ProxyFix put the client's
    address here; with no proxy, forwarded headers are ignored, so they cannot be forged."""
    return request.remote_addr or "unknown"


def register_security_headers(app: Flask) -> None:
    """CSP, no sniffing, no framing, a strict referrer; HSTS outside development."""

    @app.after_request
    def add_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if app.config.get("SESSION_COOKIE_SECURE"):
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return response


def safe_next_path(target: str | None, default: str) -> str:
    """``target`` when it is a same-site path, else ``default`` (no open redirects)."""
    target = target or ""
    parts = urlsplit(target)
    if (
        target.startswith("/")
        and not target.startswith("//")
        and not parts.netloc
        and not parts.scheme
        and "\\" not in target
    ):
        return target
    return default
