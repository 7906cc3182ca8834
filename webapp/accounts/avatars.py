"""Turning an uploaded file into a safe avatar: checked by content, re-encoded, resized.

Everything the header tells (format, size, frames, how much data it carries) is checked before
a single pixel is decoded, and only one frame is ever decoded, so a crafted file is refused for
the price of reading its header. Pillow refuses malformed chunks with ``ValueError`` (an
inflating text or colour-profile chunk, a truncated header), so that is a refusal too, not a 500.
"""

from __future__ import annotations

import io
import struct

from PIL import Image, ImageOps, UnidentifiedImageError

from webapp.errors import PayloadTooLarge, ValidationFailed

ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}
SIZE = 512
# 16 megapixels: a phone's 12 MP photo (4032x3024) or a 16 MP one (4608x3456) with room to
# spare, while the largest image accepted decodes into at most 64 MB (RGBA); a 512px avatar
# needs nothing bigger. Pillow's own cap (89 MP) lets a 116 KB PNG cost seconds and 350 MB.
MAX_PIXELS = 16_000_000
# libwebp keeps two RGBA canvases and Pillow copies the frame twice more (16 bytes a pixel),
# so WebP gets half as many pixels to stay within the memory the other formats take.
MAX_PIXELS_BY_FORMAT = {"WEBP": MAX_PIXELS // 2}
# Only the first frame becomes the avatar; a longer animation is refused rather than parsed on.
MAX_FRAMES = 500
MISSING = "Choose an image to upload."
# What a file may carry beyond 8 bytes a pixel (16-bit RGBA, the most any accepted format
# stores): room for EXIF, a colour profile and XMP, not for a payload behind a small header.
METADATA_ALLOWANCE = 128 * 1024
EXTENSION = "webp"

# What Pillow raises for files it cannot read (ValueError: oversized text or ICC chunks, a
# truncated IHDR; struct.error and EOFError: headers cut short).
_UNREADABLE = (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError, struct.error)


def _invalid(message: str) -> ValidationFailed:
    return ValidationFailed(message, details={"avatar": [message]})


def _too_many_pixels(limit: int = MAX_PIXELS) -> ValidationFailed:
    return _invalid(f"The image has too many pixels. Use one of at most {limit // 1_000_000} megapixels.")


def process(data: bytes, *, max_bytes: int) -> bytes:
    """A square 512px WebP with no metadata, or an error saying what is wrong with the file."""
    if len(data) > max_bytes:
        raise PayloadTooLarge(
            f"The image is larger than {max_bytes // (1024 * 1024)} MB.",
            details={"avatar": [f"Choose an image under {max_bytes // (1024 * 1024)} MB."]},
        )
    if not data:
        raise _invalid(MISSING)
    try:
        with Image.open(io.BytesIO(data)) as probe:
            _check_header(probe, len(data))
            probe.verify()
        with Image.open(io.BytesIO(data)) as image:
            avatar = _square(image)
    except Image.DecompressionBombError:
        raise _too_many_pixels() from None
    except _UNREADABLE:
        raise _invalid("This file is not an image we can read.") from None
    out = io.BytesIO()
    # The WebP writer only embeds the EXIF, ICC or XMP data it is handed, and it is handed
    # none, so nothing of the original leaks.
    avatar.save(out, format="WEBP", quality=85, method=4)
    return out.getvalue()


def _check_header(image: Image.Image, file_size: int) -> None:
    """Refuse what the header already gives away, before anything is decoded."""
    if image.format not in ALLOWED_FORMATS:
        raise _invalid("Use a JPEG, PNG, WebP or GIF image.")
    pixels, limit = image.width * image.height, MAX_PIXELS_BY_FORMAT.get(image.format, MAX_PIXELS)
    if pixels > limit:
        raise _too_many_pixels(limit)
    frames = getattr(image, "n_frames", 1)
    if frames > MAX_FRAMES:
        raise _invalid(f"The animation has more than {MAX_FRAMES} frames. Use a still image.")
    if file_size > 8 * pixels * frames + METADATA_ALLOWANCE:
        raise _invalid("The file holds far more data than an image of its size needs. Save it again and retry.")


def _square(image: Image.Image) -> Image.Image:
    """The first frame as a 512px RGB square, decoding as little as the format allows."""
    image.draft("RGB", (SIZE, SIZE))  # JPEG decodes at 1/2, 1/4 or 1/8 scale; others ignore it
    if image.mode not in ("RGB", "RGBA", "L", "LA"):  # palette, 1-bit, CMYK, 16-bit: resample in RGB
        image = image.convert("RGB")
    # Crop and resize in one pass (no full-size copy), then orient: a centred square turns
    # with the picture, so rotating the small result equals rotating the original first.
    image = ImageOps.fit(image, (SIZE, SIZE), Image.Resampling.LANCZOS)
    image = ImageOps.exif_transpose(image)
    return image.convert("RGB")
