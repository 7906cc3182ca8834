"""Password hashing (argon2id) and the strength rule every password must pass."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context
from zxcvbn import zxcvbn

MIN_LENGTH = 10
MAX_LENGTH = 128

# argon2id with the library's recommended parameters (RFC 9106, low-memory profile).
_STRONG = PasswordHasher()
# The test suite hashes hundreds of passwords; it opts into cheap (still argon2id) parameters
# with ARGON2_FAST. Hashes made either way verify with both, since parameters live in the hash.
_FAST = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
_DUMMY_HASHES: dict[int, str] = {}


def _hasher() -> PasswordHasher:
    return _FAST if has_app_context() and current_app.config.get("ARGON2_FAST") else _STRONG


def _dummy_hash() -> str:
    """Verified against when the email is unknown, so that both answers take the same time."""
    hasher = _hasher()
    if id(hasher) not in _DUMMY_HASHES:
        _DUMMY_HASHES[id(hasher)] = hasher.hash("not-a-real-password-for-timing")
    return _DUMMY_HASHES[id(hasher)]


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``."""
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; an unknown account still pays the hashing cost."""
    try:
        return _hasher().verify(password_hash or _dummy_hash(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's."""
    return _hasher().check_needs_rehash(password_hash)


def password_problem(password: str, context: list[str] | None = None) -> str | None:
    """Why ``password`` is not acceptable, or None.

    zxcvbn ships frequency lists of leaked passwords, names and words; a score below 2
    means the password is in those lists or is a trivial variation of them.
    """
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters."
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    result = zxcvbn(password, user_inputs=[c for c in (context or []) if c])
    if result["score"] < 2:
        warning = result["feedback"].get("warning") or "This password is too common or easy to guess."
        return f"{warning.rstrip('.')}. Choose a less common password."
    return None
