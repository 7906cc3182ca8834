"""Server-side sessions: logout, sign out elsewhere, timeouts, and the /settings/security page."""

from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa
import time_machine

from tests.helpers import NEW_PASSWORD, PASSWORD, AuthActions, csrf_token, path_of
from webapp.activity.models import ActivityLog
from webapp.auth.models import User, UserSession
from webapp.extensions import db
from webapp.timeutil import utcnow

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0"
COOKIES = ("folio_session", "folio_remember")


def copy_cookies(source, target) -> None:
    """Put ``source``'s auth cookies into ``target`` (no expiry: only the server decides)."""
    for name in COOKIES:
        cookie = source.get_cookie(name)
        if cookie is not None:
            target.set_cookie(name, cookie.value)


def signed_in(client) -> bool:
    """Whether ``client``'s cookies still open a member page (200); if not, the page sends the
    browser to sign in (302), and nothing else is an acceptable answer."""
    response = client.get("/settings/security")
    if response.status_code == 200:
        return True
    assert response.status_code == 302 and response.headers["Location"].startswith("/auth/login"), response.status_code
    return False


def sessions_table(client) -> str:
    """The "where you're signed in" part of the security page."""
    html = client.get("/settings/security").get_data(as_text=True)
    return html.split("sessions-title", 1)[1].split("signins-title", 1)[0]


def live_sessions(user_id) -> int:
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(UserSession)
        .where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
    )


def user_row(user_id) -> User:
    db.session.expire_all()
    return db.session.get(User, user_id)


# --- Logout and revocation -------------------------------------------------------------------


def test_logout_revokes_the_row_so_a_copied_cookie_dies(app, client, auth, member):
    stolen = app.test_client()
    copy_cookies(client, stolen)
    assert signed_in(stolen)
    response = auth.logout()
    assert response.status_code == 303 and response.headers["Location"] == "/auth/login"
    assert live_sessions(member.id) == 0
    assert not signed_in(client)
    assert not signed_in(stolen)


def test_logout_with_remember_clears_the_remember_cookie(app, client, auth, make_user):
    user = make_user()
    auth.login(user.email, remember=True)
    stolen = app.test_client()
    copy_cookies(client, stolen)
    response = auth.logout()
    cleared = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("folio_remember=")]
    assert cleared and ("Max-Age=0" in cleared[0] or "1970" in cleared[0])
    assert client.get_cookie("folio_remember") is None
    # The stolen remember cookie alone cannot bring the session back.
    stolen.delete_cookie("folio_session")
    assert not signed_in(stolen)


def test_logout_needs_csrf(client, member):
    assert client.post("/auth/logout").status_code == 400
    assert signed_in(client)


def test_logout_over_htmx_answers_hx_redirect(client, auth, member):
    response = client.post("/auth/logout", headers={"HX-Request": "true", **auth.headers()})
    assert response.headers["HX-Redirect"] == "/auth/login"
    assert not signed_in(client)


def test_sign_out_everywhere_else_keeps_the_current_session(app, client, auth, signed_in_client, member):
    others = [signed_in_client(member) for _ in range(2)]
    assert live_sessions(member.id) == 3
    response = client.post("/settings/security/sessions/revoke-others", data={"csrf_token": auth.csrf()})
    assert response.status_code == 303
    assert live_sessions(member.id) == 1
    assert "Signed out 2 other browser sessions and every API app" in client.get("/settings/security").get_data(
        as_text=True
    )
    assert signed_in(client)
    assert not any(signed_in(other) for other in others)


def test_sign_out_everywhere_else_counts_only_live_sessions(app, client, auth, signed_in_client, make_user):
    user = make_user()
    with time_machine.travel(utcnow(), tick=True) as traveller:
        auth.login(user.email, remember=True)
        signed_in_client(user)  # will go idle
        traveller.shift(timedelta(hours=3))
        live = signed_in_client(user)
        client.post("/settings/security/sessions/revoke-others", data={"csrf_token": auth.csrf()})
        assert "Signed out 1 other browser session and every API app" in client.get("/settings/security").get_data(
            as_text=True
        )
        assert not signed_in(live)
    assert live_sessions(user.id) == 1


def test_sign_out_everywhere_else_spares_other_members(app, client, auth, signed_in_client, member, make_user):
    stranger = make_user()
    theirs = signed_in_client(stranger)
    client.post("/settings/security/sessions/revoke-others", data={"csrf_token": auth.csrf()})
    assert signed_in(theirs)


def test_sign_out_everywhere_else_needs_csrf(app, client, signed_in_client, member):
    other = signed_in_client(member)
    assert client.post("/settings/security/sessions/revoke-others").status_code == 400
    assert signed_in(other)


# --- Timeouts --------------------------------------------------------------------------------


def test_idle_timeout_ends_a_session(app, client, auth, make_user):
    user = make_user()
    with time_machine.travel(utcnow(), tick=True) as traveller:
        auth.login(user.email)
        traveller.shift(timedelta(minutes=100))
        assert signed_in(client)  # activity keeps it alive...
        traveller.shift(timedelta(minutes=100))
        assert signed_in(client)
        traveller.shift(timedelta(minutes=121))  # ...idleness past two hours ends it
        assert not signed_in(client)
    row = db.session.scalar(sa.select(UserSession).where(UserSession.user_id == user.id))
    assert row.revoked_at is not None


def test_absolute_lifetime_ends_an_active_session(app, client, auth, make_user):
    user = make_user()
    with time_machine.travel(utcnow(), tick=True) as traveller:
        auth.login(user.email)
        for _ in range(11):
            traveller.shift(timedelta(hours=1))
            assert signed_in(client)
        traveller.shift(timedelta(minutes=61))  # 12 hours and a minute after signing in
        assert not signed_in(client)


def test_remember_me_outlasts_the_idle_timeout_until_its_own_limits(app, client, auth, make_user):
    user = make_user()
    with time_machine.travel(utcnow(), tick=True) as traveller:
        auth.login(user.email, remember=True)
        traveller.shift(timedelta(hours=13))  # past both limits of a plain session
        assert signed_in(client)
        for _ in range(2):
            traveller.shift(timedelta(days=9))
            replay = app.test_client()
            copy_cookies(client, replay)
            assert signed_in(replay)
            client = replay
        traveller.shift(timedelta(days=12, hours=1))  # 30 days after sign-in, seen 12 days ago
        replay = app.test_client()
        copy_cookies(client, replay)
        assert not signed_in(replay)


def test_remember_me_idle_limit(app, client, auth, make_user):
    user = make_user()
    with time_machine.travel(utcnow(), tick=True) as traveller:
        auth.login(user.email, remember=True)
        traveller.shift(timedelta(days=14, minutes=1))
        replay = app.test_client()
        copy_cookies(client, replay)
        assert not signed_in(replay)


def test_remember_cookie_restores_a_lost_browser_session(app, client, auth, make_user):
    user = make_user()
    auth.login(user.email, remember=True)
    restarted = app.test_client()  # the browser was closed: only the persistent cookie survives
    restarted.set_cookie("folio_remember", client.get_cookie("folio_remember").value)
    assert signed_in(restarted)


# --- The security page -----------------------------------------------------------------------


def test_security_page_lists_sessions_with_browser_and_ip(app, client, auth, make_user):
    user = make_user()
    client.environ_base.update(REMOTE_ADDR="203.0.113.7", HTTP_USER_AGENT=FIREFOX)
    auth.login(user.email)
    other = app.test_client()
    other.environ_base.update(REMOTE_ADDR="198.51.100.4")
    AuthActions(other).login(user.email)
    html = sessions_table(client)
    assert "Firefox on Linux" in html and "203.0.113.7" in html
    assert "198.51.100.4" in html
    assert html.count("This browser") == 1
    assert "Sign out everywhere else" in html


def test_security_page_shows_failed_sign_ins(app, client, auth, make_user):
    user = make_user()
    attacker = app.test_client()
    attacker.environ_base["REMOTE_ADDR"] = "192.0.2.66"
    type(auth)(attacker).login(user.email, "guessing-the-password")
    auth.login(user.email)
    html = client.get("/settings/security").get_data(as_text=True)
    table = html.split("signins-title", 1)[1]
    assert "192.0.2.66" in table and "Wrong password" in table and "Signed in" in table


def test_idle_sessions_are_not_listed_as_active(app, client, auth, make_user):
    user = make_user()
    with time_machine.travel(utcnow(), tick=True) as traveller:
        auth.login(user.email, remember=True)
        idle = app.test_client()
        idle.environ_base["REMOTE_ADDR"] = "198.51.100.50"
        AuthActions(idle).login(user.email)
        assert "198.51.100.50" in sessions_table(client)
        traveller.shift(timedelta(hours=3))  # past a plain session's idle timeout, not a remembered one's
        html = sessions_table(client)
    assert "198.51.100.50" not in html
    assert "Sign out everywhere else" not in html  # nothing else is live


def test_other_members_sessions_are_not_listed(app, client, auth, member, make_user):
    stranger = make_user()
    theirs = app.test_client()
    theirs.environ_base["REMOTE_ADDR"] = "198.51.100.99"
    AuthActions(theirs).login(stranger.email)
    assert "198.51.100.99" not in client.get("/settings/security").get_data(as_text=True)
    assert "198.51.100.99" not in sessions_table(client)


# --- Change password -------------------------------------------------------------------------


def _change_password(client, current, new):
    return client.post(
        "/settings/security/password",
        data={
            "pw-current_password": current,
            "pw-new_password": new,
            "csrf_token": csrf_token(client, "/settings/security"),
        },
    )


def test_change_password_wrong_current_is_an_inline_error(client, member):
    response = _change_password(client, "not-my-password-at-all", NEW_PASSWORD)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(r'id="pw-current_password-error">This is not your password', html)
    assert user_row(member.id).password_changed_at is None


def test_change_password_weak_new_is_refused(client, member):
    response = _change_password(client, PASSWORD, "password123")
    assert response.status_code == 422
    assert 'id="pw-new_password-error"' in response.get_data(as_text=True)


def test_change_password_revokes_other_sessions_keeps_current(app, client, signed_in_client, member):
    other = signed_in_client(member)
    response = _change_password(client, PASSWORD, NEW_PASSWORD)
    assert response.status_code == 303
    assert signed_in(client)
    assert not signed_in(other)
    assert live_sessions(member.id) == 1
    fresh = app.test_client()
    assert AuthActions(fresh).login(member.email, NEW_PASSWORD).status_code == 303
    assert AuthActions(app.test_client()).login(member.email, PASSWORD).status_code == 401


def test_guessing_the_current_password_is_rate_limited(app, client, member, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_ACCOUNT", "3 per minute")
    for _ in range(3):
        assert _change_password(client, "guess-number-one-two", NEW_PASSWORD).status_code == 422
    response = _change_password(client, PASSWORD, NEW_PASSWORD)
    assert response.status_code == 429
    assert "Too many wrong passwords. Please wait 1 minute" in response.get_data(as_text=True)
    assert user_row(member.id).password_changed_at is None


def test_password_forms_share_one_budget(app, client, auth, member, monkeypatch):
    """Wrong passwords on the security page use up the account-deletion attempts too."""
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_ACCOUNT", "3 per minute")
    for _ in range(3):
        assert _change_password(client, "guess-number-one-two", NEW_PASSWORD).status_code == 422
    response = client.delete("/api/v1/account", json={"password": PASSWORD}, headers=auth.headers())
    assert response.status_code == 429
    assert user_row(member.id) is not None


def test_successful_password_changes_do_not_use_up_the_limit(app, client, member, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_ACCOUNT", "1 per minute")
    assert _change_password(client, PASSWORD, NEW_PASSWORD).status_code == 303
    assert _change_password(client, NEW_PASSWORD, PASSWORD + "-again").status_code == 303


# --- Change email ----------------------------------------------------------------------------


def _change_email(client, new_email, password=PASSWORD):
    return client.post(
        "/settings/security/email",
        data={
            "em-new_email": new_email,
            "em-password": password,
            "csrf_token": csrf_token(client, "/settings/security"),
        },
    )


def test_change_email_confirms_from_the_new_inbox(client, member, mailbox):
    old = member.email
    response = _change_email(client, "New.Address@Example.com")
    assert response.status_code == 303
    assert mailbox.to(old) == []
    assert len(mailbox.to("new.address@example.com")) == 1
    row = user_row(member.id)
    assert row.email == old and row.pending_email == "new.address@example.com"
    assert "Waiting for you to confirm" in client.get("/settings/security").get_data(as_text=True)
    assert client.get(path_of(mailbox.last_link("new.address@example.com", "/auth/verify/"))).status_code == 302
    row = user_row(member.id)
    assert row.email == "new.address@example.com" and row.pending_email is None
    assert row.profile.email == "new.address@example.com"


def test_change_email_needs_the_password(client, member, mailbox):
    response = _change_email(client, "new@example.com", "not-my-password-at-all")
    assert response.status_code == 422
    assert 'id="em-password-error"' in response.get_data(as_text=True)
    assert mailbox.messages == []
    assert user_row(member.id).pending_email is None


def test_change_email_to_another_accounts_address_is_refused(client, member, make_user, mailbox):
    make_user("taken@example.com")
    response = _change_email(client, "taken@example.com")
    assert response.status_code == 422
    assert "Another account uses this email." in response.get_data(as_text=True)
    assert mailbox.messages == []


def test_change_email_taken_before_the_click_is_refused(client, member, make_user, mailbox):
    _change_email(client, "race@example.com")
    make_user("race@example.com")
    response = client.get(path_of(mailbox.last_link("race@example.com", "/auth/verify/")))
    assert response.status_code == 409
    assert "Another account now uses this email address." in response.get_data(as_text=True)
    assert user_row(member.id).email == member.email


def test_change_email_link_works_once(client, member, mailbox):
    _change_email(client, "once@example.com")
    path = path_of(mailbox.last_link("once@example.com", "/auth/verify/"))
    assert client.get(path).status_code == 302
    again = client.get(path)
    assert again.status_code == 400 and "already used" in again.get_data(as_text=True)


def test_superseded_email_change_link_is_refused(client, member, mailbox):
    _change_email(client, "first@example.com")
    first = path_of(mailbox.last_link("first@example.com", "/auth/verify/"))
    _change_email(client, "second@example.com")
    assert client.get(first).status_code == 400
    assert user_row(member.id).email == member.email


def test_login_activity_is_recorded_for_failures_of_known_accounts_only(client, auth, make_user):
    user = make_user()
    auth.login(user.email, "guessing-the-password")
    auth.login("ghost@example.com", "guessing-the-password")
    rows = db.session.scalars(sa.select(ActivityLog)).all()
    assert [(r.user_id, r.status) for r in rows] == [(user.id, "failure")]


def test_email_change_requests_are_rate_limited(app, client, member, mailbox, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_LIMIT", "2 per hour")
    for n in range(2):
        assert _change_email(client, f"spam{n}@example.com").status_code == 303
    response = _change_email(client, "victim@example.com")
    assert response.status_code == 429
    assert "Too many email change requests." in response.get_data(as_text=True)
    assert mailbox.to("victim@example.com") == []


def test_security_lists_follow_items_per_page(client, member):
    """The member's items-per-page setting caps the sessions and sign-ins shown."""
    from webapp.accounts import service as accounts
    from webapp.activity import service as activity
    from webapp.auth import sessions

    for _ in range(7):
        sessions.start(member, remember=False, ip="203.0.113.9", user_agent="Mozilla/5.0 Firefox/130.0")
        activity.record("login", user_id=member.id, ip_address="203.0.113.9")
    db.session.commit()
    accounts.update_settings(member, {"items_per_page": 5})
    html = client.get("/settings/security").get_data(as_text=True)
    assert html.count("203.0.113.9") == 10  # 5 sessions + 5 sign-ins
    assert "Showing your 5 most recently used sessions" in html


def test_only_wrong_passwords_use_up_the_attempts(app, client, member, monkeypatch):
    """A weak new password is a 422 too, but it is not a guess: it must not lock the member out."""
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_ACCOUNT", "2 per minute")
    for _ in range(4):
        assert _change_password(client, PASSWORD, "password123").status_code == 422
    assert _change_password(client, PASSWORD, NEW_PASSWORD).status_code == 303


def test_email_change_guesses_share_the_budget_and_are_logged(app, client, member, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_ACCOUNT", "2 per minute")
    for _ in range(2):
        assert _change_email(client, "new@example.com", password="not-the-password-1").status_code == 422
    assert _change_password(client, PASSWORD, NEW_PASSWORD).status_code == 429
    failures = db.session.scalars(
        sa.select(ActivityLog.action).where(ActivityLog.user_id == member.id, ActivityLog.status == "failure")
    ).all()
    assert failures == ["email_change", "email_change"]


# --- Last seen: noted, not written, on a GET ---------------------------------------------------


def _writes_during(app, action) -> list[str]:
    """The INSERT, UPDATE and DELETE statements the database received while ``action`` ran."""
    writes: list[str] = []

    def collect(_conn, _cursor, statement, *_args):
        if statement.lstrip().split(None, 1)[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            writes.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", collect)
    try:
        action()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", collect)
    return writes


def _check_last_seen_is_noted_not_written(app, client, auth, make_user, pages):
    from webapp.auth import last_seen

    user = make_user()
    start = utcnow().replace(second=0, microsecond=0)
    with time_machine.travel(start, tick=False) as traveller:
        auth.login(user.email)
        traveller.shift(timedelta(minutes=30))
        writes = _writes_during(app, lambda: [client.get(page) for page in pages])
        assert writes == []
        row = db.session.scalar(sa.select(UserSession).where(UserSession.user_id == user.id))
        assert row.last_seen_at == start  # the row is not written...
        listed = sessions_table(client)
        assert (start + timedelta(minutes=30)).strftime("%H:%M") in listed  # ...yet the list is true
        assert start.strftime("%H:%M") in listed  # signed in at the start
        last_seen.flush()
        db.session.expire_all()
        assert row.last_seen_at == start + timedelta(minutes=30)


PAGES = ("/profile", "/settings", "/settings/security", "/settings/api-keys", "/dashboard")


def test_a_signed_in_get_writes_nothing_and_the_sessions_list_shows_the_latest_use(app, client, auth, make_user):
    _check_last_seen_is_noted_not_written(app, client, auth, make_user, PAGES)


def test_last_seen_noted_in_redis(app, client, auth, make_user, redis_url, monkeypatch):
    """As in production: API calls are counted in Redis too, and a worker writes both."""
    monkeypatch.setitem(app.config, "USAGE_FLUSH_SECONDS", 30)
    _check_last_seen_is_noted_not_written(app, client, auth, make_user, (*PAGES, "/api/v1/profile"))


def test_a_use_noted_but_not_yet_written_keeps_the_session_alive(app, client, auth, make_user, redis_url):
    """The idle timeout counts from the latest use, even one the row does not hold yet."""
    user = make_user()
    with time_machine.travel(utcnow(), tick=True) as traveller:
        auth.login(user.email)
        traveller.shift(timedelta(minutes=100))
        assert signed_in(client)  # noted in Redis; the flush job waits in the queue
        traveller.shift(timedelta(minutes=100))  # 200 minutes after the row's last_seen_at
        assert signed_in(client)
        traveller.shift(timedelta(minutes=121))
        assert not signed_in(client)
