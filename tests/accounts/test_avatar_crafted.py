"""Crafted avatar uploads: refused with a 422 from the header, cheaply, never a 500.

The files are built here by hand (PNG chunks with zlib and struct), so no binary blob is
committed and each test says exactly what is wrong with its file.
"""

from __future__ import annotations

import functools
import io
import json
import math
import struct
import subprocess
import sys
import zipfile
import zlib

import pytest
from PIL import Image

from tests.helpers import png_bytes, upload_api, upload_page
from webapp.accounts import avatars
from webapp.extensions import db

MB = 1024 * 1024


def chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk: length, type, data, CRC."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def ihdr(width: int, height: int) -> bytes:
    return struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB


def deflated_zeros(size: int) -> bytes:
    """``size`` zero bytes, deflated piece by piece (a 300 MB payload never sits in memory)."""
    squeeze, piece = zlib.compressobj(9), bytes(MB)
    parts = [squeeze.compress(piece[: min(MB, size - done)]) for done in range(0, size, MB)]
    return b"".join(parts) + squeeze.flush()


def png(width: int = 8, height: int = 8, *, before=(), after=(), header: bytes | None = None, pixels=None) -> bytes:
    """A hand-built black RGB PNG; ``before``/``after`` are chunks around the image data."""
    if pixels is None:
        pixels = deflated_zeros(height * (1 + 3 * width))  # each row: filter byte, then RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr(width, height) if header is None else header)
        + b"".join(before)
        + chunk(b"IDAT", pixels)
        + b"".join(after)
        + chunk(b"IEND", b"")
    )


# Text and colour-profile chunks of 2 KB that inflate to 2 MB (Pillow stops at 1 MB).
ZTXT = chunk(b"zTXt", b"Comment\0\0" + deflated_zeros(2 * MB))
ICCP = chunk(b"iCCP", b"profile\0\0" + deflated_zeros(2 * MB))
ITXT = chunk(b"iTXt", b"XML:com.adobe.xmp\0\1\0\0\0" + deflated_zeros(2 * MB))


def frames(fmt: str, count: int) -> bytes:
    images = [Image.new("RGB", (2, 2), (i % 256, 0, 0)) for i in range(count)]
    buffer = io.BytesIO()
    images[0].save(buffer, format=fmt, save_all=True, append_images=images[1:], duration=20, lossless=True)
    return buffer.getvalue()


def zip_file() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("me.png", png_bytes())
    return buffer.getvalue()


def gif_frame_beyond_screen() -> bytes:
    """A GIF whose screen says 10x10 while its one frame is 5000x5000."""
    buffer = io.BytesIO()
    Image.new("P", (5000, 5000)).save(buffer, format="GIF")
    data = bytearray(buffer.getvalue())
    data[6:10] = struct.pack("<HH", 10, 10)
    return bytes(data)


UNREADABLE = "not an image we can read"
# name: (how to build the file, what the refusal says)
CRAFTED = {
    "ztxt-inflates-past-1mb": (lambda: png(before=[ZTXT]), UNREADABLE),
    "iccp-inflates-past-1mb": (lambda: png(before=[ICCP]), UNREADABLE),
    "itxt-inflates-past-1mb": (lambda: png(before=[ITXT]), UNREADABLE),
    "ztxt-after-the-pixels": (lambda: png(after=[ZTXT]), UNREADABLE),
    "truncated-ihdr": (lambda: png(header=b"\0\0\0\x08\0\0"), UNREADABLE),
    "6300x6300-png-of-116-kb": (lambda: png(6300, 6300), "too many pixels"),
    "frame-beyond-the-gif-screen": (gif_frame_beyond_screen, "too many pixels"),
    "many-frame-gif": (lambda: frames("GIF", avatars.MAX_FRAMES + 1), "more than 500 frames"),
    "many-frame-webp": (lambda: frames("WEBP", avatars.MAX_FRAMES + 1), "more than 500 frames"),
    # 16x16 pixels need at most 2 KB; these 300 KB inflate to 300 MB the decoder never reads.
    "small-header-huge-data": (lambda: png(16, 16, pixels=deflated_zeros(300 * MB)), "far more data"),
    "small-header-appended-data": (lambda: png(16, 16) + bytes(200 * 1024), "far more data"),
    "png-header-then-html": (
        lambda: b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr(8, 8)) + b"<html><script>alert(1)</script></html>",
        UNREADABLE,
    ),
    "svg": (lambda: b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', UNREADABLE),
    "zip-named-png": (zip_file, UNREADABLE),
}


@functools.cache
def crafted(name: str) -> bytes:
    return CRAFTED[name][0]()


@pytest.mark.parametrize("name", CRAFTED)
def test_crafted_file_is_a_422_on_both_faces(client, member, auth, name):
    data, reason = crafted(name), CRAFTED[name][1]
    filename = "me.svg" if name == "svg" else "me.png"
    page = upload_page(client, data, filename)
    assert page.status_code == 422
    html = page.get_data(as_text=True)
    assert '<p class="error" id="avatar-error">' in html
    assert reason in html
    api = upload_api(client, auth, data, filename)
    assert api.status_code == 422
    error = api.get_json()["error"]
    assert error["code"] == "validation_failed"
    assert reason in error["message"] and error["details"] == {"avatar": [error["message"]]}
    db.session.expire_all()
    assert member.profile.avatar_url is None


def test_html_after_a_whole_png_is_dropped_by_the_reencoding(client, member):
    """A complete image with a page glued after it is still an image: it is accepted, and what
    is stored is our WebP, so the page never reaches anyone."""
    from tests.helpers import stored_avatar

    data = png(64, 64) + b"<html><script>alert(1)</script></html>"
    assert upload_page(client, data).status_code == 303
    _, content = stored_avatar(member)
    assert content[:4] == b"RIFF" and b"<script" not in content


# --- What one upload may cost ----------------------------------------------------------------

# Run in a fresh interpreter; peak memory is the kernel's high-water mark of resident memory
# (VmHWM). ru_maxrss would not do: Linux carries it over execve, so a child of the big test
# process starts with the parent's peak and shows no growth at all.
MEASURE = """
import json, re, sys
from webapp.accounts import avatars
from webapp.errors import ServiceError

def peak_mb():
    with open("/proc/self/status") as status:
        return int(re.search(r"VmHWM:\\s+(\\d+) kB", status.read()).group(1)) / 1024

data = open(sys.argv[1], "rb").read()
before = peak_mb()
try:
    avatars.process(data, max_bytes=5 * 1024 * 1024)
    outcome = "accepted"
except ServiceError as exc:
    outcome = exc.message
print(json.dumps({"outcome": outcome, "peak_mb": peak_mb() - before}))
"""


def measure(tmp_path, data: bytes) -> dict:
    """Process ``data`` in a fresh interpreter and report how much its peak memory grew."""
    path = tmp_path / "upload"
    path.write_bytes(data)
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, str(path)], capture_output=True, text=True, check=True, timeout=120
    )
    return json.loads(done.stdout)


def plain(side: int, mode: str) -> Image.Image:
    """One colour: it encodes fast and small, and decoding costs the same whatever the picture."""
    return Image.new(mode, (side, side), (200, 80, 80, 128)[: len(mode)] if mode != "P" else 3)


def encoded(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    data = buffer.getvalue()
    assert len(data) < 5 * MB
    return data


def largest_accepted():
    side = math.isqrt(avatars.MAX_PIXELS)
    webp_side = math.isqrt(avatars.MAX_PIXELS_BY_FORMAT["WEBP"])
    yield "png-rgba", encoded(plain(side, "RGBA"), "PNG")
    yield "jpeg", encoded(plain(side, "RGB"), "JPEG")
    yield "jpeg-progressive-444", encoded(plain(side, "RGB"), "JPEG", progressive=True, subsampling=0)
    yield "gif", encoded(plain(side, "P"), "GIF")
    yield "webp-rgba", encoded(plain(webp_side, "RGBA"), "WEBP", quality=80)


# Before: a 40 MP image took ~350 MB. Now the largest image of any format stays under this.
PEAK_MB_PER_UPLOAD = 160


def test_the_largest_accepted_images_stay_within_the_memory_bound(tmp_path):
    peaks = {}
    for name, data in largest_accepted():
        result = measure(tmp_path, data)
        assert result["outcome"] == "accepted", name
        peaks[name] = result["peak_mb"]
    assert max(peaks.values()) < PEAK_MB_PER_UPLOAD, peaks
    # A baseline JPEG is decoded at a quarter of its size (draft), not as 48 MB of RGB.
    assert peaks["jpeg"] < 24, peaks


def test_refusals_cost_next_to_nothing(tmp_path):
    """The 116 KB 6300x6300 PNG used to be decoded (6 s, 350 MB) before anything refused it."""
    for name in ("6300x6300-png-of-116-kb", "frame-beyond-the-gif-screen", "many-frame-gif", "small-header-huge-data"):
        result = measure(tmp_path, crafted(name))
        assert result["outcome"] != "accepted", name
        assert result["peak_mb"] < 16, (name, result)


# --- The request size cap ----------------------------------------------------------------------


class CountingBody(io.RawIOBase):
    """A multipart body of ``size`` bytes, made up as it is read, that counts what the app reads."""

    def __init__(self, size: int):
        self.size, self.position, self.read_bytes = size, 0, 0
        self.head = b'--b\r\nContent-Disposition: form-data; name="avatar"; filename="me.png"\r\n\r\n'

    def readable(self):
        return True

    def seekable(self):
        return True

    def seek(self, offset, whence=io.SEEK_SET):  # the test client measures the body this way
        self.position = self.size if whence == io.SEEK_END else offset
        return self.position

    def tell(self):
        return self.position

    def readinto(self, buffer):
        count = min(len(buffer), self.size - self.position)
        piece = (self.head + bytes(count))[:count]
        self.head = self.head[count:]
        buffer[:count] = piece
        self.position += count
        self.read_bytes += count
        return count


@pytest.mark.parametrize("path", ["/profile/avatar", "/api/v1/profile/avatar"])
def test_a_declared_oversize_body_is_refused_before_a_byte_is_read(client, member, auth, app, path):
    body = CountingBody(app.config["MAX_CONTENT_LENGTH"] + 1)
    headers = {"Content-Type": "multipart/form-data; boundary=b", **auth.headers()}
    response = client.post(path, input_stream=body, headers=headers)
    assert response.status_code == 413
    assert body.read_bytes == 0


@pytest.mark.parametrize("path", ["/profile/avatar", "/api/v1/profile/avatar"])
def test_an_undeclared_body_is_cut_off_at_the_cap(client, member, auth, app, path):
    """Chunked uploads carry no length: the stream stops at the cap instead of reading on."""
    body = CountingBody(50 * MB)
    headers = {"Content-Type": "multipart/form-data; boundary=b", "Transfer-Encoding": "chunked", **auth.headers()}
    response = client.post(path, input_stream=body, headers=headers, environ_overrides={"wsgi.input_terminated": True})
    assert response.status_code == 413
    assert body.read_bytes <= app.config["MAX_CONTENT_LENGTH"] + 64 * 1024
