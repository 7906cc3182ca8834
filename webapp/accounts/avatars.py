"""Turning an uploaded file into a safe avatar: checked by content, re-encoded, resized."""

from __future__ import annotations

import io

from PIL import Image, ImageOps, UnidentifiedImageError

from webapp.errors import PayloadTooLarge, ValidationFailed

ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}
SIZE = 512
MAX_PIXELS = 40_000_000  # refuse decompression bombs before decoding them
EXTENSION = "webp"


def _invalid(message: str) -> ValidationFailed:
    return ValidationFailed(message, details={"avatar": [message]})


def process(data: bytes, *, max_bytes: int) -> bytes:
    """A square 512px WebP with no metadata, or an error saying what is wrong with the file."""
    if len(data) > max_bytes:
        raise PayloadTooLarge(
            f"The image is larger than {max_bytes // (1024 * 1024)} MB.",
            details={"avatar": [f"Choose an image under {max_bytes // (1024 * 1024)} MB."]},
        )
    if not data:
        raise _invalid("Choose an image to upload.")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format not in ALLOWED_FORMATS:
                raise _invalid("Use a JPEG, PNG, WebP or GIF image.")
            if probe.width * probe.height > MAX_PIXELS:
                raise _invalid("The image has too many pixels.")
            probe.verify()
        with Image.open(io.BytesIO(data)) as image:
            image.seek(0)
            image = ImageOps.exif_transpose(image)
            image = image.convert("RGB")
            image = ImageOps.fit(image, (SIZE, SIZE), Image.Resampling.LANCZOS)
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError):
        raise _invalid("This file is not an image we can read.") from None
    out = io.BytesIO()
    # A fresh image carries no EXIF, ICC or XMP data, so nothing of the original leaks.
    image.save(out, format="WEBP", quality=85, method=4)
    return out.getvalue()
