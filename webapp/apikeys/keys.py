"""The key format: ``pk_live_`` + 43 base62 characters (32 random bytes) + a 6-character checksum.

The checksum (CRC-32 of the body, base62) lets a mistyped or truncated key be refused before
any database lookup; only the SHA-256 of the whole key is stored.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
import zlib

PREFIX = "pk_live_"
ALPHABET = string.digits + string.ascii_letters
BODY_LENGTH = 43  # 62**43 > 2**256: room for 32 random bytes
CHECKSUM_LENGTH = 6
KEY_LENGTH = len(PREFIX) + BODY_LENGTH + CHECKSUM_LENGTH


def _base62(number: int, width: int) -> str:
    digits = []
    while number:
        number, remainder = divmod(number, 62)
        digits.append(ALPHABET[remainder])
    return "".join(reversed(digits)).rjust(width, "0")


def _checksum(body: str) -> str:
    return _base62(zlib.crc32(body.encode()), CHECKSUM_LENGTH)


def generate() -> str:
    """A new random key."""
    body = _base62(int.from_bytes(secrets.token_bytes(32), "big"), BODY_LENGTH)
    return f"{PREFIX}{body}{_checksum(body)}"


def looks_valid(key: str) -> bool:
    """Shape and checksum only: cheap, and no database involved."""
    if len(key) != KEY_LENGTH or not key.startswith(PREFIX):
        return False
    rest = key[len(PREFIX) :]
    if any(ch not in ALPHABET for ch in rest):
        return False
    body, checksum = rest[:BODY_LENGTH], rest[BODY_LENGTH:]
    return hmac.compare_digest(_checksum(body), checksum)


def digest(key: str) -> str:
    """What the database stores: SHA-256 hex. Keys have 256 bits of entropy, so a fast hash
    is safe here (no dictionary to attack) and lookups stay a single indexed equality."""
    return hashlib.sha256(key.encode()).hexdigest()


def last_four(key: str) -> str:
    return key[-4:]
