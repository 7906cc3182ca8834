"""Password hashing (argon2id) and the strength rule every password must pass.

The rule and its wording live here only: forms, pages and the API show these messages and
this hint, so that sign-up, reset, the security page and staff tools word the rule alike.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context
from zxcvbn import zxcvbn

MIN_LENGTH = 10
MAX_LENGTH = 128
# zxcvbn refuses longer input: its matching grows faster than the length.
JUDGED_LENGTH = 72

HINT = f"{MIN_LENGTH} to {MAX_LENGTH} characters; avoid common passwords."
MISSING = "Enter a password."
TOO_SHORT = f"Use at least {MIN_LENGTH} characters."
TOO_LONG = f"Use at most {MAX_LENGTH} characters."
COMMON = "This password is too common or easy to guess."
REPEAT = "Repeat the password."
MISMATCH = "The passwords differ."

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

    zxcvbn judges at most 72 characters, so a longer password is judged by its first 72. That
    errs on the strict side: whoever guesses the whole must also get those 72 right, so a
    strong start keeps the whole hard to guess, and a trivially repetitive password ("a" * 100,
    one word said twenty times) shows its repetition well within them and is refused. What
    this refuses that a judge of the whole might pass is a strong ending after 72 guessable
    characters, and the message says what to change. (Passing when the last 72 pass would let
    "1234567890" * 12 through: zxcvbn rates some windows of a repetition well.)
    """
    if not password:
        return MISSING
    if len(password) < MIN_LENGTH:
        return TOO_SHORT
    if len(password) > MAX_LENGTH:
        return TOO_LONG
    inputs = [c for c in (context or []) if c]
    result = zxcvbn(password[:JUDGED_LENGTH], user_inputs=inputs)
    if result["score"] < 2:
        warning = result["feedback"].get("warning") or COMMON
        return f"{warning.rstrip('.')}. Choose a less common password."
    return None


def confirmation_problem(password: str, confirm: str) -> str | None:
    """Why the repeated password does not confirm ``password``, or None."""
    if not confirm:
        return REPEAT
    return MISMATCH if confirm != password else None
