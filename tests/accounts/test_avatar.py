"""Avatar upload: checked by content, re-encoded to a 512px WebP without metadata, size-limited."""

from __future__ import annotations

import io
import json
import os
import re
from html import unescape as html_unescape

import pytest
from PIL import Image

from tests.helpers import csrf_token, png_bytes, stored_avatar, upload_api, upload_page
from webapp import storage
from webapp.extensions import db


def jpeg_with_exif() -> bytes:
    """A camera-like JPEG: EXIF with a camera model and GPS coordinates, rotated by orientation."""
    image = Image.new("RGB", (800, 600), (30, 120, 200))
    exif = Image.Exif()
    exif[0x010F] = "SpyCam Inc"  # Make
    exif[0x0110] = "Model X"  # Model
    exif[0x0112] = 6  # Orientation: rotate 90° on display
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (48.0, 51.0, 29.0), 3: "E", 4: (2.0, 17.0, 40.0)})
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif.tobytes(), quality=90)
    data = buffer.getvalue()
    with Image.open(io.BytesIO(data)) as check:
        assert check.getexif().get(0x010F) == "SpyCam Inc" and check.getexif().get_ifd(0x8825)
    return data


def noise_png(size_bytes: int) -> bytes:
    """A valid PNG of at least ``size_bytes`` (random pixels barely compress)."""
    side = int((size_bytes / 3) ** 0.5) + 16
    image = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=0)
    data = buffer.getvalue()
    assert len(data) >= size_bytes
    return data


def upload_htmx(client, data: bytes, filename: str = "me.png"):
    """The photo card's htmx post (``hx-encoding="multipart/form-data"``)."""
    return client.post(
        "/profile/avatar",
        data={"avatar": (io.BytesIO(data), filename), "csrf_token": csrf_token(client, "/profile")},
        content_type="multipart/form-data",
        headers={"HX-Request": "true", "HX-Current-URL": "http://localhost/profile"},
    )


@pytest.mark.parametrize(
    "data, name",
    [
        (png_bytes((300, 200)), "photo.png"),
        (png_bytes((1000, 1000), fmt="JPEG"), "photo.jpg"),
        (png_bytes((64, 64), fmt="GIF"), "tiny.gif"),
        (png_bytes((100, 300), fmt="WEBP"), "tall.webp"),
    ],
)
def test_image_is_reencoded_to_512_webp(client, member, data, name):
    response = upload_page(client, data, name)
    assert response.status_code == 303, response.get_data(as_text=True)
    key, content = stored_avatar(member)
    assert key.startswith(f"avatars/{member.id}/") and key.endswith(".webp")
    with Image.open(io.BytesIO(content)) as image:
        assert image.format == "WEBP" and image.size == (512, 512)


def test_exif_and_gps_are_stripped(client, member):
    assert upload_page(client, jpeg_with_exif(), "camera.jpg").status_code == 303
    _, content = stored_avatar(member)
    assert b"Exif" not in content and b"SpyCam" not in content and b"Model X" not in content
    with Image.open(io.BytesIO(content)) as image:
        assert image.format == "WEBP"
        assert len(image.getexif()) == 0
        assert not image.info.get("exif") and not image.info.get("xmp") and not image.info.get("icc_profile")


def test_avatar_url_serves_the_image_and_shows_everywhere(client, member):
    upload_page(client, png_bytes())
    db.session.expire_all()
    url = member.profile.avatar_url
    response = client.get(url)
    assert response.status_code == 200 and response.mimetype == "image/webp"
    assert response.data[:4] == b"RIFF" and response.data[8:12] == b"WEBP"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    for page in ("/profile", "/settings"):
        assert f'src="{url}"' in client.get(page).get_data(as_text=True), page


def test_old_avatar_file_is_deleted_when_replaced(client, member):
    upload_page(client, png_bytes(color=(1, 2, 3)))
    first_key, _ = stored_avatar(member)
    assert storage.exists(first_key)
    upload_page(client, png_bytes(color=(9, 9, 9)))
    second_key, _ = stored_avatar(member)
    assert second_key != first_key
    assert storage.exists(second_key) and not storage.exists(first_key)
    assert client.get(f"/media/{first_key}").status_code == 404


def test_remove_avatar_deletes_the_file(client, member):
    upload_page(client, png_bytes())
    key, _ = stored_avatar(member)
    response = client.post("/profile/avatar/delete", data={"csrf_token": csrf_token(client, "/profile")})
    assert response.status_code == 303
    db.session.expire_all()
    assert member.profile.avatar_url is None and not storage.exists(key)


def test_remove_avatar_without_csrf_is_refused(client, member):
    """The view does no CSRF check of its own: the app-wide hook refuses the forged post."""
    upload_page(client, png_bytes())
    key, _ = stored_avatar(member)
    assert client.post("/profile/avatar/delete").status_code == 400
    db.session.expire_all()
    assert member.profile.avatar_url is not None and storage.exists(key)


def test_5_5_mb_file_is_413_on_the_page(client, member):
    response = upload_page(client, noise_png(int(5.5 * 1024 * 1024)))
    assert response.status_code == 413
    html = response.get_data(as_text=True)
    assert "<html" in html and "Traceback" not in html
    assert "5 MB" in html
    db.session.expire_all()
    assert member.profile.avatar_url is None


def test_7_mb_request_is_413_on_the_page(client, member):
    response = upload_page(client, os.urandom(7 * 1024 * 1024), "huge.png")
    assert response.status_code == 413
    html = response.get_data(as_text=True)
    assert "<html" in html and "Traceback" not in html and "5 MB" in html


def test_oversize_is_413_json(client, member, auth):
    for data in (noise_png(int(5.5 * 1024 * 1024)), os.urandom(7 * 1024 * 1024)):
        response = upload_api(client, auth, data)
        assert response.status_code == 413
        assert response.mimetype == "application/json"
        error = response.get_json()["error"]
        assert error["code"] == "payload_too_large" and "5 MB" in error["message"]
    db.session.expire_all()
    assert member.profile.avatar_url is None


def truncated_png() -> bytes:
    data = png_bytes((400, 400), color=(10, 200, 10))
    return data[: len(data) // 2]


@pytest.mark.parametrize(
    "data, name",
    [
        (b"just some text, honestly\n" * 20, "notes.png"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "x.png"),
        (truncated_png(), "cut.png"),
        (png_bytes(fmt="BMP"), "old.png"),
        (b"", "empty.png"),
    ],
)
def test_fake_or_broken_images_are_refused(client, member, auth, data, name):
    response = upload_page(client, data, name)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert '<p class="error" id="avatar-error">' in html
    api = upload_api(client, auth, data, name)
    assert api.status_code == 422 and api.get_json()["error"]["details"]["avatar"]
    db.session.expire_all()
    assert member.profile.avatar_url is None


def test_failed_upload_keeps_the_old_avatar(client, member):
    upload_page(client, png_bytes())
    key, _ = stored_avatar(member)
    upload_page(client, truncated_png())
    assert stored_avatar(member)[0] == key and storage.exists(key)


def test_decompression_bomb_is_refused(client, member):
    buffer = io.BytesIO()
    Image.new("1", (8000, 8000)).save(buffer, format="PNG")  # 64 megapixels in a few kilobytes
    assert len(buffer.getvalue()) < 1024 * 1024
    response = upload_page(client, buffer.getvalue(), "bomb.png")
    assert response.status_code == 422
    assert "too many pixels" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "path", ["/media/../config.py", "/media/%2e%2e/webapp/config.py", "/media/avatars/../../etc/passwd"]
)
def test_media_route_does_not_leave_the_storage_folder(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert b"SECRET_KEY" not in response.data and b"root:" not in response.data


# --- The photo card under htmx ------------------------------------------------------------


def test_photo_form_posts_with_htmx_and_swaps_its_own_card(client, member):
    html = client.get("/profile").get_data(as_text=True)
    form = re.search(r'<form[^>]*hx-post="/profile/avatar"[^>]*>', html).group(0)
    assert 'hx-encoding="multipart/form-data"' in form
    assert 'hx-target="#photo"' in form and 'hx-swap="outerHTML"' in form
    # The plain-form fallback is still there for a browser without JavaScript.
    assert 'action="/profile/avatar"' in form and 'enctype="multipart/form-data"' in form
    assert '<section class="card" id="photo"' in html


def test_htmx_upload_success_redirects_the_whole_page(client, member):
    response = upload_htmx(client, png_bytes())
    assert response.status_code == 204 and response.headers["HX-Redirect"] == "/profile"
    db.session.expire_all()
    assert member.profile.avatar_url
    assert "Photo updated." in client.get("/profile").get_data(as_text=True)


def test_htmx_refused_upload_answers_the_card_with_the_error(client, member):
    response = upload_htmx(client, b"not an image at all", "notes.png")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "<html" not in html and "<header" not in html
    assert html.lstrip().startswith('<section class="card" id="photo"')
    assert '<p class="error" id="avatar-error">' in html and 'aria-invalid="true"' in html
    assert "HX-Request" in response.headers["Vary"]


def test_htmx_oversize_image_answers_413_with_the_card(client, member):
    response = upload_htmx(client, noise_png(int(5.5 * 1024 * 1024)))
    assert response.status_code == 413
    html = response.get_data(as_text=True)
    assert "<html" not in html and 'id="photo"' in html
    assert re.search(r'<p class="error" id="avatar-error">[^<]*5 MB', html)


def test_htmx_request_over_the_body_limit_answers_413_with_the_card(client, member):
    """Werkzeug refuses the body before the view (while the CSRF check reads the form)."""
    response = upload_htmx(client, os.urandom(7 * 1024 * 1024), "huge.png")
    assert response.status_code == 413
    html = response.get_data(as_text=True)
    assert "<html" not in html and 'id="photo"' in html
    assert re.search(r'<p class="error" id="avatar-error">[^<]*5 MB', html)
    db.session.expire_all()
    assert member.profile.avatar_url is None


def test_other_pages_over_the_body_limit_get_the_error_page(client, member):
    response = client.post(
        "/profile",
        data={"bio": "x" * (7 * 1024 * 1024), "csrf_token": csrf_token(client, "/profile")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 413
    html = response.get_data(as_text=True)
    assert "<html" in html and "File too large" in html and 'id="photo"' not in html


def test_htmx_swaps_413_answers(client, member):
    """htmx 2 only swaps the codes its config lists: 413 must be one, like 422."""
    html = client.get("/profile").get_data(as_text=True)
    config = json.loads(html_unescape(re.search(r'<meta name="htmx-config" content=\'([^\']+)\'>', html).group(1)))
    swapping = {rule["code"] for rule in config["responseHandling"] if rule["swap"]}
    assert {"422", "413"} <= swapping
    codes = [rule["code"] for rule in config["responseHandling"]]
    assert codes.index("413") < codes.index("[45]..")


def test_refused_upload_without_htmx_keeps_the_rest_of_the_profile(client, member):
    """The plain form answers the whole page, whose other forms show what is stored, not the
    (empty) fields of the avatar post."""
    member.profile.job_title = "Portrait photographer"
    db.session.commit()
    response = upload_page(client, b"not an image", "notes.png")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "<html" in html and '<p class="error" id="avatar-error">' in html
    assert 'value="Portrait photographer"' in html


def test_remove_photo_is_a_small_secondary_button(client, member):
    upload_page(client, png_bytes())
    html = client.get("/profile").get_data(as_text=True)
    assert re.search(r'<button type="submit" class="button secondary small">Remove photo</button>', html)
    response = client.post(
        "/profile/avatar/delete",
        data={"csrf_token": csrf_token(client, "/profile")},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 204 and response.headers["HX-Redirect"] == "/profile"
