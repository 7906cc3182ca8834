"""Sign-up, sign-in, rate limits, email verification and password reset, through the pages."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
import time_machine

from tests.helpers import NEW_PASSWORD, PASSWORD, csrf_token, path_of
from webapp.activity.models import ActivityLog
from webapp.auth.models import User, UserSession
from webapp.extensions import db
from webapp.timeutil import utcnow


def user_by_email(email: str) -> User | None:
    db.session.expire_all()
    return db.session.scalar(sa.select(User).where(User.email == email))


def count(model, *where) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def register(client, **fields):
    data = {
        "display_name": "Ana Silva",
        "email": "ana@example.com",
        "password": PASSWORD,
        "csrf_token": csrf_token(client, "/auth/register"),
        **fields,
    }
    data.setdefault("confirm", data["password"])
    return client.post("/auth/register", data=data)


def login_form(client, email: str, password: str = PASSWORD, **extra):
    data = {"email": email, "password": password, "csrf_token": csrf_token(client), **extra}
    return client.post("/auth/login", data=data)


# --- Register --------------------------------------------------------------------------------


def test_register_signs_in_and_mails_verification_link(client, mailbox):
    response = register(client)
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/dashboard")
    user = user_by_email("ana@example.com")
    assert user is not None and not user.is_verified
    assert user.password_hash.startswith("$argon2id$")
    assert count(UserSession, UserSession.user_id == user.id) == 1
    assert client.get("/profile").status_code == 200
    [message] = mailbox.to("ana@example.com")
    assert message["Subject"] == "Confirm your email for Folio"
    assert "/auth/verify/" in message.get_body(("plain",)).get_content()


def test_register_duplicate_email_is_refused(client, make_user, mailbox):
    make_user("ana@example.com")
    response = register(client, email="ANA@example.com")
    assert response.status_code == 422
    assert "An account with this email already exists" in response.get_data(as_text=True)
    assert count(User) == 1
    assert mailbox.to("ana@example.com") == []


@pytest.mark.parametrize(
    "password, expected",
    [
        ("short1!", "at least 10 characters"),
        ("password123", "Choose a less common password"),
        ("1234567890", "Choose a less common password"),
        ("ana@example.com", "Choose a less common password"),
    ],
)
def test_register_weak_password_gets_inline_error(client, password, expected):
    response = register(client, password=password)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert expected.lower() in html.lower()
    # The message sits next to the password field, not only in a banner.
    assert 'id="password-error"' in html or 'aria-invalid="true"' in html
    assert count(User) == 0


def test_register_bad_email(client):
    response = register(client, email="not-an-email")
    assert response.status_code == 422
    assert "email" in response.get_data(as_text=True).lower()
    assert count(User) == 0


def test_register_without_csrf_is_rejected(client, mailbox):
    client.get("/auth/register")
    response = client.post(
        "/auth/register", data={"display_name": "Ana", "email": "ana@example.com", "password": PASSWORD}
    )
    assert response.status_code == 400
    assert count(User) == 0
    assert mailbox.messages == []


def test_login_without_csrf_is_rejected(client, make_user):
    user = make_user()
    client.get("/auth/login")
    response = client.post("/auth/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert count(UserSession) == 0


def test_logout_is_not_a_get(client, member):
    assert client.get("/auth/logout").status_code == 405
    assert client.get("/profile").status_code == 200


# --- Login -----------------------------------------------------------------------------------


def test_login_renews_session_no_fixation(app, client, make_user):
    user = make_user()
    token = csrf_token(client)
    before = client.get_cookie("folio_session").value
    # An attacker who planted (or copied) the pre-login cookie gains nothing from it.
    attacker = app.test_client()
    attacker.set_cookie("folio_session", before)
    data = {"email": user.email, "password": PASSWORD, "csrf_token": token}
    response = client.post("/auth/login", data=data)
    assert response.status_code == 303
    after = client.get_cookie("folio_session").value
    assert after != before
    assert client.get("/profile").status_code == 200
    assert attacker.get("/profile").status_code == 302
    # The CSRF token was rotated with the session.
    assert csrf_token(client, "/settings") != token


def test_login_remember_me_sets_30_day_cookie(client, make_user):
    user = make_user()
    response = login_form(client, user.email, remember="y")
    assert response.status_code == 303
    cookies = response.headers.getlist("Set-Cookie")
    remember = next(c for c in cookies if c.startswith("folio_remember="))
    assert "HttpOnly" in remember and "SameSite=Lax" in remember
    expires = client.get_cookie("folio_remember").expires
    assert timedelta(days=29) < expires - utcnow() <= timedelta(days=30, minutes=1)
    row = db.session.scalar(sa.select(UserSession).where(UserSession.user_id == user.id))
    assert row.remember and row.expires_at - row.created_at == timedelta(days=30)


def test_login_without_remember_sets_no_remember_cookie(client, make_user):
    user = make_user()
    response = login_form(client, user.email)
    assert response.status_code == 303
    assert client.get_cookie("folio_remember") is None
    assert not any(c.startswith("folio_remember=") for c in response.headers.getlist("Set-Cookie"))


def test_unknown_email_and_wrong_password_answer_alike(client, make_user):
    user = make_user()
    unknown = login_form(client, "nobody@example.com")
    wrong = login_form(client, user.email, "not-the-password-at-all")
    assert unknown.status_code == wrong.status_code == 401
    message = "That email and password don&#39;t match an account."
    assert message in unknown.get_data(as_text=True)
    assert message in wrong.get_data(as_text=True)
    assert client.get("/profile").status_code == 302
    failure = db.session.scalar(sa.select(ActivityLog).where(ActivityLog.user_id == user.id))
    assert failure.status == "failure"


def test_login_empty_fields_is_422(client):
    response = login_form(client, "", "")
    assert response.status_code == 422
    assert client.get("/profile").status_code == 302


@pytest.mark.parametrize(
    "changes, expected",
    [
        ({"is_suspended": True, "suspended_reason": "Spam reports"}, "suspended. Reason: Spam reports"),
        ({"is_suspended": True}, "This account is suspended"),
        ({"is_active": False}, "This account is deactivated"),
    ],
)
def test_locked_account_is_told_why_and_cannot_sign_in(client, make_user, changes, expected):
    user = make_user(**changes)
    response = login_form(client, user.email)
    assert response.status_code == 403
    assert expected in response.get_data(as_text=True)
    assert count(UserSession, UserSession.user_id == user.id) == 0
    assert client.get("/profile").status_code == 302


def test_locked_account_with_wrong_password_learns_nothing(client, make_user):
    user = make_user(is_suspended=True, suspended_reason="Spam reports")
    response = login_form(client, user.email, "not-the-password-at-all")
    assert response.status_code == 401
    assert "Spam reports" not in response.get_data(as_text=True)


def test_suspension_ends_an_open_session(client, auth, member):
    assert client.get("/profile").status_code == 200
    member.is_suspended = True
    db.session.commit()
    assert client.get("/profile").status_code == 302


def test_login_follows_same_site_next(client, make_user):
    user = make_user()
    token = csrf_token(client)
    response = client.post(
        "/auth/login?next=/settings%3Ftab%3D2", data={"email": user.email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/settings?tab=2"


@pytest.mark.parametrize(
    "target",
    [
        "//evil.com",
        "https://evil.com",
        "/\\evil.com",
        "\\\\evil.com",
        "http:/evil.com",
        "/\t/evil.com",
        "javascript:alert(1)",
        "///evil.com",
        " //evil.com",
    ],
)
def test_login_refuses_offsite_next(client, make_user, target):
    user = make_user()
    token = csrf_token(client)
    response = client.post(
        "/auth/login",
        query_string={"next": target},
        data={"email": user.email, "password": PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/dashboard"


def test_login_page_for_signed_in_member_redirects(client, member):
    response = client.get("/auth/login?next=//evil.com")
    assert response.status_code == 302
    assert response.headers["Location"] == "/dashboard"


def test_successful_login_is_recorded(client, make_user):
    user = make_user()
    login_form(client, user.email)
    entry = db.session.scalar(sa.select(ActivityLog).where(ActivityLog.user_id == user.id))
    assert entry.action == "login" and entry.status == "success"
    assert user_by_email(user.email).last_login is not None


# --- Rate limits -----------------------------------------------------------------------------


def test_login_rate_limited_per_ip(app, client, make_user, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_IP", "3 per minute")
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_ACCOUNT", "100 per minute")
    emails = [make_user().email for _ in range(4)]
    for email in emails[:3]:
        assert login_form(client, email, "wrong-password-123").status_code == 401
    response = login_form(client, emails[3])
    assert response.status_code == 429
    html = response.get_data(as_text=True)
    assert "Too many sign-in attempts from your network. Please wait 1 minute and try again." in html
    assert 'name="email"' in html  # the sign-in form is still there
    assert int(response.headers["Retry-After"]) <= 60
    # Another address is not affected.
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "10.0.0.9"
    assert login_form(other, emails[3]).status_code == 303


def test_login_rate_limited_per_account_and_address_counts_only_failures(app, client, make_user, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_ACCOUNT", "3 per minute")
    victim, bystander = make_user(), make_user()
    # Successes do not use up the account's allowance.
    for _ in range(4):
        assert login_form(app.test_client(), victim.email).status_code == 303
    attacker = app.test_client()
    attacker.environ_base["REMOTE_ADDR"] = "10.0.0.1"
    for _ in range(3):
        assert login_form(attacker, victim.email, "wrong-password-123").status_code == 401
    response = login_form(attacker, f"  {victim.email.upper()} ")  # one account, however it is typed
    assert response.status_code == 429
    html = response.get_data(as_text=True)
    assert "Too many failed sign-in attempts for this account. Please wait 1 minute" in html
    assert "Retry-After" in response.headers
    assert count(UserSession, UserSession.user_id == victim.id) == 4  # no session from the refused try
    # Other accounts still sign in from the same address, and the owner from another one.
    assert login_form(attacker, bystander.email).status_code == 303
    owner = app.test_client()
    owner.environ_base["REMOTE_ADDR"] = "10.0.0.4"
    assert login_form(owner, victim.email).status_code == 303


# --- Email verification ----------------------------------------------------------------------


def _verify_path(client, mailbox, email="ana@example.com") -> str:
    return path_of(mailbox.last_link(email, "/auth/verify/"))


def test_verify_link_marks_verified_and_reuse_is_refused(client, mailbox):
    register(client)
    path = _verify_path(client, mailbox)
    response = client.get(path)
    assert response.status_code == 302
    user = user_by_email("ana@example.com")
    assert user.is_verified and user.verified_at is not None
    again = client.get(path)
    assert again.status_code == 400
    assert "already used" in again.get_data(as_text=True)


def test_verify_link_expires_after_two_days(client, mailbox):
    with time_machine.travel(utcnow(), tick=True) as traveller:
        register(client)
        path = _verify_path(client, mailbox)
        traveller.shift(timedelta(days=2, minutes=1))
        response = client.get(path)
    assert response.status_code == 400
    assert "expired" in response.get_data(as_text=True)
    assert not user_by_email("ana@example.com").is_verified


def test_tampered_verify_token_is_invalid(client, mailbox):
    register(client)
    path = _verify_path(client, mailbox)
    response = client.get(path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB"))
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "not valid" in html
    assert "reset link" not in html  # the way out fits a verification link
    assert not user_by_email("ana@example.com").is_verified


def test_reset_token_is_not_a_verify_token(client, make_user, mailbox):
    user = make_user(verified=False)
    client.post("/auth/forgot", data={"email": user.email, "csrf_token": csrf_token(client, "/auth/forgot")})
    token = mailbox.last_link(user.email, "/auth/reset/").rsplit("/", 1)[-1]
    response = client.get(f"/auth/verify/{token}")
    assert response.status_code == 400
    assert not user_by_email(user.email).is_verified


def test_banner_and_resend_for_unverified_member(client, make_user, auth, mailbox):
    user = make_user(verified=False)
    auth.login(user.email)
    html = client.get("/profile").get_data(as_text=True)
    assert 'id="verify-banner"' in html and "/auth/verify/resend" in html
    response = client.post("/auth/verify/resend", headers={"HX-Request": "true", **auth.headers()})
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in body and f"We sent a new link to {user.email}" in body
    assert "HX-Request" in response.headers.get("Vary", "")
    [message] = mailbox.to(user.email)
    assert "/auth/verify/" in message.get_body(("plain",)).get_content()


def test_resend_without_htmx_gets_a_page(client, make_user, auth, mailbox):
    user = make_user(verified=False)
    auth.login(user.email)
    response = client.post("/auth/verify/resend", data={"csrf_token": auth.csrf()})
    assert response.status_code == 200
    assert "<html" in response.get_data(as_text=True)
    assert len(mailbox.to(user.email)) == 1


def test_resend_is_rate_limited_and_says_so_in_the_banner(app, client, make_user, auth, mailbox, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_LIMIT", "2 per hour")
    user = make_user(verified=False)
    auth.login(user.email)
    headers = {"HX-Request": "true", **auth.headers()}
    for _ in range(2):
        assert client.post("/auth/verify/resend", headers=headers).status_code == 200
    response = client.post("/auth/verify/resend", headers=headers)
    body = response.get_data(as_text=True)
    assert "<html" not in body and "We already sent you several links" in body
    assert len(mailbox.to(user.email)) == 2


def test_resend_refusal_without_htmx_is_a_429_page(app, client, make_user, auth, mailbox, monkeypatch):
    """The plain-form refusal once answered 200: its status fell into the template context."""
    monkeypatch.setitem(app.config, "MAIL_LIMIT", "1 per hour")
    user = make_user(verified=False)
    auth.login(user.email)
    assert client.post("/auth/verify/resend", data={"csrf_token": auth.csrf()}).status_code == 200
    response = client.post("/auth/verify/resend", data={"csrf_token": auth.csrf()})
    body = response.get_data(as_text=True)
    assert response.status_code == 429
    assert "<html" in body and "We already sent you several links" in body
    assert len(mailbox.to(user.email)) == 1


def test_forgot_is_rate_limited_per_ip(app, client, make_user, mailbox, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_LIMIT", "1 per hour")
    user = make_user()
    assert _forgot(client, user.email).status_code == 200
    response = _forgot(client, user.email)
    assert response.status_code == 429
    assert "Too many reset requests from your network." in response.get_data(as_text=True)
    assert len(mailbox.to(user.email)) == 1


def test_no_banner_for_verified_member(client, member):
    assert 'id="verify-banner"' not in client.get("/profile").get_data(as_text=True)


def test_resend_for_verified_member_sends_nothing(client, member, auth, mailbox):
    response = client.post("/auth/verify/resend", headers={"HX-Request": "true", **auth.headers()})
    assert "already confirmed" in response.get_data(as_text=True)
    assert mailbox.messages == []


def test_resend_requires_csrf(client, make_user, auth, mailbox):
    user = make_user(verified=False)
    auth.login(user.email)
    assert client.post("/auth/verify/resend", headers={"HX-Request": "true"}).status_code == 400
    assert mailbox.messages == []


# --- Password reset --------------------------------------------------------------------------


def _forgot(client, email):
    token = csrf_token(client, "/auth/forgot")
    return client.post("/auth/forgot", data={"email": email, "csrf_token": token})


def _blank(response, email: str) -> str:
    html = response.get_data(as_text=True).replace(email, "X")
    return re.sub(r"[\w-]+\.[\w-]+\.[\w-]+", "TOKEN", html)


def _reset_path(mailbox, email) -> str:
    return path_of(mailbox.last_link(email, "/auth/reset/"))


def _reset(client, path, password=NEW_PASSWORD, confirm=None):
    return client.post(
        path, data={"password": password, "confirm": confirm or password, "csrf_token": csrf_token(client, path)}
    )


def test_forgot_answers_alike_for_known_and_unknown(client, make_user, mailbox):
    user = make_user("known@example.com")
    known = _forgot(client, "known@example.com")
    unknown = _forgot(client, "unknown@example.com")
    assert known.status_code == unknown.status_code == 200
    # The same page, once the address asked about and the (time-stamped) CSRF token are blanked out.
    assert _blank(known, "known@example.com") == _blank(unknown, "unknown@example.com")
    assert len(mailbox.to(user.email)) == 1
    assert mailbox.to("unknown@example.com") == []
    assert "/auth/reset/" in mailbox.to(user.email)[0].get_body(("plain",)).get_content()


def test_reset_link_works_once_and_revokes_sessions(app, client, make_user, auth, mailbox):
    user = make_user()
    auth.login(user.email)
    other = app.test_client()
    _forgot(other, user.email)
    path = _reset_path(mailbox, user.email)
    assert other.get(path).status_code == 200
    response = _reset(other, path)
    assert response.status_code == 303 and response.headers["Location"].endswith("/auth/reset/done")
    # Every session of the account, including the one that was open elsewhere, is over.
    assert count(UserSession, UserSession.user_id == user.id, UserSession.revoked_at.is_(None)) == 0
    assert client.get("/profile").status_code == 302
    assert login_form(app.test_client(), user.email, NEW_PASSWORD).status_code == 303
    assert login_form(app.test_client(), user.email, PASSWORD).status_code == 401
    second = other.get(path)
    assert second.status_code == 400 and "already used" in second.get_data(as_text=True)


def test_reset_link_expires_after_an_hour(client, make_user, mailbox):
    user = make_user()
    with time_machine.travel(utcnow(), tick=True) as traveller:
        _forgot(client, user.email)
        path = _reset_path(mailbox, user.email)
        traveller.shift(timedelta(minutes=61))
        response = client.get(path)
        assert response.status_code == 400 and "expired" in response.get_data(as_text=True)
        # Posting to the expired link changes nothing either.
        client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert login_form(client, user.email).status_code == 303


def test_reset_new_password_must_be_strong(client, make_user, mailbox):
    user = make_user()
    _forgot(client, user.email)
    path = _reset_path(mailbox, user.email)
    response = _reset(client, path, "password123")
    assert response.status_code == 422
    assert "Choose a less common password" in response.get_data(as_text=True)
    assert _reset(client, path, "short").status_code == 422
    mismatch = _reset(client, path, NEW_PASSWORD, "another-long-passphrase")
    assert mismatch.status_code == 422 and "The passwords differ." in mismatch.get_data(as_text=True)
    # The link still works after refusals: nothing was used up.
    assert _reset(client, path).status_code == 303


def test_reset_link_dies_when_the_email_changes(client, make_user, auth, mailbox):
    user = make_user("old@example.com")
    _forgot(client, "old@example.com")
    path = _reset_path(mailbox, "old@example.com")
    auth.login(user.email)
    client.post(
        "/settings/security/email",
        data={
            "em-new_email": "new@example.com",
            "em-password": PASSWORD,
            "csrf_token": csrf_token(client, "/settings/security"),
        },
    )
    assert client.get(path_of(mailbox.last_link("new@example.com", "/auth/verify/"))).status_code == 302
    auth.logout()
    response = client.get(path)  # the old inbox no longer controls the account
    assert response.status_code == 400 and "already used" in response.get_data(as_text=True)


def test_tampered_reset_token_is_invalid(client, make_user, mailbox):
    user = make_user()
    _forgot(client, user.email)
    path = _reset_path(mailbox, user.email)
    response = client.get(path + "x")
    assert response.status_code == 400
    assert "not valid" in response.get_data(as_text=True)


def test_no_reset_mail_for_suspended_account(client, make_user, mailbox):
    user = make_user(is_suspended=True)
    assert _forgot(client, user.email).status_code == 200
    assert mailbox.messages == []


def test_simultaneous_sign_ups_with_one_email_give_one_account(app):
    """The unique index settles the race; the losers get a 409, not a 500 (PostgreSQL only:
    SQLite's in-memory test database has one shared connection, so there is no race)."""
    import threading

    import sqlalchemy as sa

    from tests.helpers import is_postgres
    from webapp import unit_of_work
    from webapp.auth import service as auth_service
    from webapp.auth.models import User
    from webapp.errors import Conflict
    from webapp.extensions import db

    if not is_postgres():
        pytest.skip("needs PostgreSQL (TEST_DATABASE_URL)")
    barrier, outcomes = threading.Barrier(4), []

    def sign_up():
        with app.app_context():
            barrier.wait()
            try:
                with unit_of_work.unit():  # each sign-up commits on its own, as its request would
                    auth_service.register(
                        {"email": "race@example.com", "password": PASSWORD, "display_name": "Racer"}, send_mail=False
                    )
                outcomes.append("created")
            except Conflict:
                outcomes.append("conflict")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=sign_up) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["conflict"] * 3 + ["created"]
    assert db.session.scalar(sa.select(sa.func.count()).where(User.email == "race@example.com")) == 1


def test_short_password_gets_the_services_message(client):
    response = register(client, password="short")
    assert response.status_code == 422
    assert "Use at least 10 characters." in response.get_data(as_text=True)


def test_sign_up_counts_as_the_first_sign_in(client):
    assert register(client).status_code == 303
    page = client.get("/settings/security").get_data(as_text=True)
    assert "No sign-ins recorded yet." not in page and "Signed in" in page


def test_confirming_another_accounts_email_while_signed_in_warns(client, auth, member, make_user):
    from webapp.auth import service as auth_service

    other = make_user(verified=False)
    link = "/auth/verify/" + auth_service.verification_token(other)
    page = client.get(link, follow_redirects=True).get_data(as_text=True)
    assert f"{other.email} is confirmed" in page and "belongs to another account" in page


def test_sign_up_lands_on_the_dashboard_as_a_known_device(client, mailbox):
    """A new member's first browser is theirs: strangers' guesses cannot lock it out later."""
    response = register(client)
    assert response.headers["Location"] == "/dashboard"
    assert any(c.startswith("folio_device=") for c in response.headers.getlist("Set-Cookie"))
