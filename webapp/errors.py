"""Domain errors and the two faces that answer them: JSON under /api/v1/, pages elsewhere."""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

from flask import Flask, jsonify, render_template, request, request_finished
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class ServiceError(Exception):
    """A rule a service refused to break. Views turn it into a page, the API into JSON."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, details: dict[str, Any] | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.details = details or {}
        if code:
            self.code = code


class ValidationFailed(ServiceError):
    status = 422
    code = "validation_failed"


class NotFound(ServiceError):
    status = 404
    code = "not_found"


class Conflict(ServiceError):
    status = 409
    code = "conflict"


class Unauthorized(ServiceError):
    status = 401
    code = "unauthorized"


class Forbidden(ServiceError):
    status = 403
    code = "forbidden"


class PayloadTooLarge(ServiceError):
    status = 413
    code = "payload_too_large"


def parse_uuid(value: uuid.UUID | str, not_found_message: str) -> uuid.UUID:
    """An id from a URL as a UUID; a malformed one names nothing, so it is ``NotFound`` (not 422)."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise NotFound(not_found_message) from None


# Error codes for HTTP statuses that reach us as werkzeug exceptions.
HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    402: "payment_required",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "rate_limited",
    500: "internal_error",
    503: "service_unavailable",
}


API_PREFIX = "/api/v1"


def wants_json() -> bool:
    """The JSON API always answers JSON, whatever the Accept header says; /api/docs is a page."""
    return request.path == API_PREFIX or request.path.startswith(API_PREFIX + "/")


def _retry_after_only_on_429(sender: Flask, response, **extra: Any) -> None:
    """Flask-Limiter 4 sets ``Retry-After`` on every answer a limit applies to, telling a client
    that got a 200 or a 401 to wait. It has no setting to stop that, and its after_request hook
    runs last of all, so the header is dropped here, once the response is final."""
    if response.status_code != 429:
        response.headers.pop("Retry-After", None)


def json_error(status: int, code: str, message: str, details: dict[str, Any] | None = None):
    """DESIGN.md's error body: ``{"error": {"code", "message", "details"}}``."""
    response = jsonify({"error": {"code": code, "message": message, "details": details or {}}})
    response.status_code = status
    if status == 401:  # RFC 6750: tell bearer clients how to authenticate, and why it failed
        challenge = f'Bearer realm="folio", error="invalid_token", error_description="{code}"'
        response.headers["WWW-Authenticate"] = challenge
    return response


def _page_error(status: int, message: str | None = None):
    template = f"errors/{status}.html" if status in (403, 404, 413, 429, 500) else "errors/generic.html"
    return render_template(template, status=status, message=message), status


def wait_text() -> str:
    """How long until the limit that was just hit lets the member try again, in minutes."""
    from webapp.extensions import limiter

    current = limiter.current_limit
    seconds = current.reset_at - time.time() if current else 60
    # reset_at is a whole second in the future, so round rather than ceil ("1 minute", not 2).
    minutes = max(1, round(seconds / 60))
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def refusal(description: str) -> str:
    """The sentence a page shows for a 429: what happened and how long to wait."""
    return f"{description.rstrip('.')}. Please wait {wait_text()} and try again."


def _http_message(exc: HTTPException) -> str:
    if exc.code == 413:
        from flask import current_app

        return f"The upload is too large. The limit is {current_app.config['AVATAR_MAX_BYTES'] // 2**20} MB."
    if exc.code == 429:
        description = exc.description or ""
        if description[:1].isdigit():  # Flask-Limiter's default description is the limit itself
            description = f"Too many requests (limit: {description})"
        return refusal(description)
    return exc.description or "Request failed."


def register_error_handlers(app: Flask) -> None:
    """One handler per face for domain errors, HTTP errors, CSRF failures and crashes."""
    request_finished.connect(_retry_after_only_on_429, app)

    @app.errorhandler(ServiceError)
    def handle_service_error(exc: ServiceError):
        if wants_json():
            return json_error(exc.status, exc.code, exc.message, exc.details)
        return _page_error(exc.status, exc.message)

    @app.errorhandler(CSRFError)
    def handle_csrf(exc: CSRFError):
        message = "Your form expired or was sent from elsewhere. Reload the page and try again."
        if wants_json():
            return json_error(400, "csrf_failed", exc.description or message)
        return _page_error(400, message)

    @app.errorhandler(HTTPException)
    def handle_http(exc: HTTPException):
        status = exc.code or 500
        if wants_json():
            response = json_error(status, HTTP_CODES.get(status, "error"), _http_message(exc))
            valid_methods = getattr(exc, "valid_methods", None)
            if status == 405 and valid_methods:
                response.headers["Allow"] = ", ".join(valid_methods)
            if status == 429 and exc.response is not None:
                for header in ("Retry-After", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"):
                    if header in exc.response.headers:
                        response.headers[header] = exc.response.headers[header]
            return response
        return _page_error(status, _http_message(exc))

    @app.errorhandler(Exception)
    def handle_crash(exc: Exception):
        log.exception("Unhandled error on %s %s", request.method, request.path)
        from webapp.extensions import db

        db.session.rollback()
        if wants_json():
            return json_error(500, "internal_error", "Something went wrong on our side.")
        return _page_error(500)
