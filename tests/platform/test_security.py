"""Security headers, cookie flags, CSRF, and how anonymous callers are refused on each face."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from tests.helpers import PASSWORD, csrf_token
from webapp.config import Config

# Every page a member must be signed in for (GET).
MEMBER_PAGES = [
    "/profile",
    "/settings",
    "/settings/security",
    "/settings/api-keys",
    "/account/export",
    "/account/delete",
    "/profile/cv/rows/experience",
]

# Every form a member must be signed in to send (POST, with a valid CSRF token).
MEMBER_FORMS = [
    "/profile",
    "/profile/cv",
    "/profile/avatar",
    "/profile/avatar/delete",
    "/settings",
    "/settings/theme",
    "/account/delete",
    "/auth/verify/resend",
    "/settings/security/password",
    "/settings/security/email",
    "/settings/security/sessions/revoke-others",
]

PUBLIC_PAGES = ["/", "/auth/login", "/auth/register", "/auth/forgot"]


def login_target(location: str) -> tuple[str, dict[str, list[str]]]:
    parts = urlsplit(location)
    return parts.path, parse_qs(parts.query)


# --- Login required --------------------------------------------------------------------------


@pytest.mark.parametrize("path", MEMBER_PAGES)
def test_member_pages_send_visitors_to_login(client, path):
    response = client.get(path)
    assert response.status_code == 302
    target, query = login_target(response.headers["Location"])
    assert target == "/auth/login"
    assert query["next"] == [path]


@pytest.mark.parametrize("path", MEMBER_FORMS)
def test_member_forms_send_visitors_to_login(client, path):
    token = csrf_token(client)
    response = client.post(path, data={"csrf_token": token})
    assert response.status_code == 302
    assert login_target(response.headers["Location"])[0] == "/auth/login"


@pytest.mark.parametrize("path", MEMBER_PAGES)
def test_member_pages_open_for_members(client, member, path):
    assert client.get(path).status_code == 200


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_public_pages_open_for_visitors(client, path):
    assert client.get(path).status_code == 200


def test_next_keeps_the_query_string(client):
    response = client.get("/settings?tab=display")
    assert login_target(response.headers["Location"])[1]["next"] == ["/settings?tab=display"]


# --- htmx and JSON refusals ------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/profile", "/settings/security", "/profile/cv/rows/experience"])
def test_anonymous_htmx_request_gets_hx_redirect(client, path):
    response = client.get(path, headers={"HX-Request": "true"})
    assert response.status_code == 204  # an empty answer: htmx follows HX-Redirect, not Location
    assert "Location" not in response.headers
    target, query = login_target(response.headers["HX-Redirect"])
    assert target == "/auth/login"
    # A fragment URL is no place to land after signing in.
    assert "next" not in query
    assert "<html" not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "current, expected",
    [
        ("http://localhost/profile?tab=cv", ["/profile?tab=cv"]),
        ("http://evil.example/steal", None),
        (None, None),
    ],
)
def test_htmx_sign_in_returns_to_the_page_the_fragment_came_from(client, current, expected):
    headers = {"HX-Request": "true"} | ({"HX-Current-URL": current} if current else {})
    response = client.get("/profile/cv/rows/experience", headers=headers)
    _, query = login_target(response.headers["HX-Redirect"])
    assert query.get("next") == expected


def test_boosted_navigation_gets_a_normal_redirect(client):
    response = client.get("/profile", headers={"HX-Request": "true", "HX-Boosted": "true"})
    assert response.status_code == 302
    assert "HX-Redirect" not in response.headers


@pytest.mark.parametrize(
    "method, path", [("GET", "/api/v1/profile"), ("GET", "/api/v1/settings"), ("GET", "/api/v1/profile/cv")]
)
def test_anonymous_json_request_gets_json_401(client, method, path):
    response = client.open(path, method=method, headers={"Accept": "application/json"})
    assert response.status_code == 401
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == "unauthorized"
    assert isinstance(body["error"]["details"], dict)


def test_api_refusal_is_json_even_for_browsers(client):
    response = client.get("/api/v1/profile", headers={"Accept": "text/html", "HX-Request": "true"})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"
    assert "HX-Redirect" not in response.headers


def test_api_ends_with_the_session(client, auth, member):
    assert client.get("/api/v1/profile").status_code == 200
    auth.logout()
    assert client.get("/api/v1/profile").status_code == 401


def test_api_write_with_session_cookie_needs_csrf(client, member):
    response = client.patch("/api/v1/profile", json={"bio": "Mallory was here"})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "csrf_failed"
    assert client.get("/api/v1/profile").get_json()["data"]["bio"] != "Mallory was here"


# --- Headers and cookies ---------------------------------------------------------------------


def _directives(csp: str) -> dict[str, list[str]]:
    result = {}
    for part in csp.split(";"):
        words = part.split()
        if words:
            result[words[0]] = words[1:]
    return result


def _assert_security_headers(response):
    csp = _directives(response.headers["Content-Security-Policy"])
    script_src = csp.get("script-src", csp.get("default-src"))
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    assert "*" not in script_src
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] in {
        "strict-origin-when-cross-origin",
        "no-referrer",
        "same-origin",
        "strict-origin",
    }


@pytest.mark.parametrize("path", ["/", "/auth/login", "/auth/register", "/no-such-page", "/profile"])
def test_security_headers_on_pages(client, path):
    _assert_security_headers(client.get(path))


def test_security_headers_on_member_pages(client, member):
    _assert_security_headers(client.get("/settings/security"))


@pytest.mark.parametrize("path", ["/api/v1/health", "/api/v1/profile", "/api/v1/no-such-thing"])
def test_security_headers_on_api_answers(client, path):
    response = client.get(path)
    assert response.mimetype == "application/json"
    _assert_security_headers(response)


def test_pages_carry_no_inline_scripts(client, member):
    html = client.get("/settings/security").get_data(as_text=True)
    for chunk in html.split("<script")[1:]:
        assert "src=" in chunk.split(">", 1)[0], "inline <script> would be blocked by the CSP"
    assert " onclick=" not in html and " onsubmit=" not in html


def test_session_cookie_is_httponly_and_lax(client):
    response = client.get("/auth/login")
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("folio_session="))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_login_cookies_are_httponly_and_lax(client, auth, make_user):
    user = make_user()
    response = auth.login(user.email, remember=True)
    for name in ("folio_session", "folio_remember"):
        cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith(f"{name}="))
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_cookies_are_secure_outside_development():
    assert Config.SESSION_COOKIE_SECURE and Config.REMEMBER_COOKIE_SECURE
    assert Config.SESSION_COOKIE_HTTPONLY and Config.REMEMBER_COOKIE_HTTPONLY


def test_session_cookie_holds_no_password_or_email(app, client, auth, make_user):
    user = make_user()
    auth.login(user.email)
    interface = app.session_interface
    data = interface.get_signing_serializer(app).loads(client.get_cookie("folio_session").value)
    assert user.email not in str(data) and str(user.id) not in str(data) and PASSWORD not in str(data)
    # What it does hold is a random token whose hash names a revocable server-side row.
    assert set(data) >= {"_user_id"} and len(data["_user_id"]) >= 40


def test_tampered_session_cookie_is_ignored(app, client, member):
    value = client.get_cookie("folio_session").value
    forged = app.test_client()
    forged.set_cookie("folio_session", value[:-2] + ("AA" if not value.endswith("AA") else "BB"))
    assert forged.get("/profile").status_code == 302


def test_mail_links_ignore_forged_host_headers(client, make_user, mailbox):
    """A reset link points at BASE_URL whatever Host or X-Forwarded-Host the request claims."""
    user = make_user()
    token = csrf_token(client, "/auth/forgot")
    client.post(
        "/auth/forgot",
        data={"email": user.email, "csrf_token": token},
        headers={"X-Forwarded-Host": "evil.example"},
    )
    link = mailbox.last_link(user.email, "/auth/reset/")
    assert link.startswith("http://localhost/auth/reset/")


def test_mail_link_is_built_on_base_url_not_the_request_host(app):
    from webapp import mail

    with app.test_request_context("/", base_url="http://evil.example"):
        assert mail.link("auth.reset", token="abc") == "http://localhost/auth/reset/abc"


def test_forwarded_for_is_ignored_without_a_trusted_proxy(app, client, monkeypatch):
    """With PROXY_HOPS=0 a client cannot pick its own IP to dodge per-IP limits."""
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_IP", "2 per minute")
    for number in range(3):
        response = client.post(
            "/auth/login",
            data={
                "email": f"x{number}@example.com",
                "password": "wrong-password-123",
                "csrf_token": csrf_token(client),
            },
            headers={"X-Forwarded-For": f"198.51.100.{number}"},
        )
    assert response.status_code == 429
