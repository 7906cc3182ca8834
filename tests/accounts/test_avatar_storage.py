"""Avatar files follow the transaction: no orphan from racing uploads, none after deletion."""

from __future__ import annotations

import io
import threading

import pytest
import sqlalchemy as sa

from tests.helpers import PASSWORD, AuthActions, is_postgres, png_bytes, stored_avatar, upload_page
from webapp import storage
from webapp.accounts import service as accounts
from webapp.auth.models import User
from webapp.errors import NotFound
from webapp.extensions import db


def member_files(user_id) -> list[str]:
    folder = storage.root() / "avatars" / str(user_id)
    return sorted(str(path.relative_to(storage.root())) for path in folder.rglob("*") if path.is_file())


# --- The hooks ---------------------------------------------------------------------------------


@pytest.fixture
def in_request(app):
    """``storage.save`` answers the file's URL, which needs a request to build."""
    with app.test_request_context():
        yield


def test_a_new_file_stays_only_if_its_transaction_commits(in_request, member):
    storage.save("avatars/kept.webp", b"x")
    storage.discard_unless_committed("avatars/kept.webp")
    db.session.commit()
    for end in (db.session.rollback, db.session.remove):
        storage.save("avatars/dropped.webp", b"x")
        storage.discard_unless_committed("avatars/dropped.webp")
        end()
        assert not storage.exists("avatars/dropped.webp"), end
    assert storage.exists("avatars/kept.webp")


def test_a_replaced_file_goes_only_once_the_replacement_commits(in_request, member):
    storage.save("avatars/old.webp", b"x")
    storage.delete_after_commit("avatars/old.webp")
    db.session.rollback()  # the row still points to it: it stays
    assert storage.exists("avatars/old.webp")
    storage.delete_after_commit("avatars/old.webp")
    with db.session.begin_nested():  # releasing a savepoint is not the commit
        pass
    assert storage.exists("avatars/old.webp")
    db.session.commit()
    assert not storage.exists("avatars/old.webp")


# --- Uploads and account deletion --------------------------------------------------------------


def test_account_deletion_removes_every_file_in_the_members_folder(client, member, auth):
    """Also files no row points to (left by an upload that lost a race before this fix)."""
    assert upload_page(client, png_bytes()).status_code == 303
    key, _ = stored_avatar(member)
    stray = f"avatars/{member.id}/stray.webp"
    (storage.root() / stray).write_bytes(b"orphan")
    response = client.delete("/api/v1/account", json={"password": PASSWORD}, headers=auth.headers())
    assert response.status_code == 204
    assert member_files(member.id) == []
    assert not (storage.root() / "avatars" / str(member.id)).exists()
    for left in (key, stray):
        assert client.get(f"/media/{left}").status_code == 404


def test_an_upload_for_an_account_deleted_meanwhile_leaves_no_file(in_request, make_user):
    """The upload's transaction no longer sees the member's row: it is refused and its new file
    goes with the rollback."""
    user = make_user()
    db.session.execute(sa.delete(User).where(User.id == user.id))  # as a deletion committed meanwhile
    with pytest.raises(NotFound):
        accounts.set_avatar(user, png_bytes(), max_bytes=5 * 1024 * 1024)
    db.session.rollback()
    assert member_files(user.id) == []


def test_racing_uploads_leave_only_the_winners_file_and_deletion_leaves_none(app, make_user, signed_in_client):
    """Ten clients signed in as one member upload at once (PostgreSQL: SQLite's in-memory test
    database has one shared connection, so nothing races there)."""
    if not is_postgres():
        pytest.skip("needs PostgreSQL (TEST_DATABASE_URL)")
    user = make_user()
    clients = []
    for _ in range(10):
        client = signed_in_client(user)
        clients.append((client, AuthActions(client).headers()))
    barrier, answers = threading.Barrier(len(clients)), []

    def upload(client, headers, shade):
        image = png_bytes(color=(shade, 9, 9))
        with app.app_context():  # the test client clears ``g``, which needs one
            barrier.wait()
            try:
                answers.append(
                    client.post(
                        "/api/v1/profile/avatar",
                        data={"avatar": (io.BytesIO(image), "me.png")},
                        headers=headers,
                        content_type="multipart/form-data",
                    )
                )
            finally:
                db.session.remove()

    threads = [threading.Thread(target=upload, args=(c, h, i * 20)) for i, (c, h) in enumerate(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [answer.status_code for answer in answers] == [201] * len(clients)
    urls = [answer.get_json()["data"]["avatar_url"].removeprefix("http://localhost") for answer in answers]
    db.session.expire_all()
    current = user.profile.avatar_url
    assert current in urls
    assert member_files(user.id) == [storage.key_from_url(current)]
    client = clients[0][0]
    for url in urls:
        assert client.get(url).status_code == (200 if url == current else 404)

    response = client.delete("/api/v1/account", json={"password": PASSWORD}, headers=clients[0][1])
    assert response.status_code == 204
    assert member_files(user.id) == []
    for url in urls:
        assert client.get(url).status_code == 404
